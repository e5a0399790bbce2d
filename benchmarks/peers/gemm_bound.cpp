// The floor under any implementation of the seed MLP on this machine: only the
// matrix products one training epoch needs, done by OpenBLAS with nothing else
// (no tanh, softmax, bias, loss or update). Per batch of 500 rows:
//   forward   hidden = x @ W1        (500x784 * 784x128)
//             logits = hidden @ W2   (500x128 * 128x10)
//   backward  grad_W2 = hidden^T @ d_logits   (128x500 * 500x10)
//             d_hidden = d_logits @ W2^T      (500x10 * 10x128)
//             grad_W1 = x^T @ d_hidden        (784x500 * 500x128)
// over 100 batches (50,000 rows) per epoch, reading x from a 50,000x784 matrix as
// the real training loop does. Prints one {"epoch","seconds"} line per epoch and
// {"median_epoch_seconds","peak_rss_mb"} at the end.
//
// Build: g++ -O2 -std=c++17 -I/usr/include/x86_64-linux-gnu/openblas-pthread
//          gemm_bound.cpp -o gemm_bound -lopenblas   (one command line)
// Run:   gemm_bound --dtype float64|float32 [--epochs N] [--threads T]
#include <cblas.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kTrainRows = 50000;
constexpr int kBatch = 500;
constexpr int kInputs = 784;
constexpr int kHidden = 128;
constexpr int kClasses = 10;

// C = op(A) @ op(B) for row-major matrices; C is m x n, the inner dimension is k.
void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const double* a, int lda,
          const double* b, int ldb, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}

void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const float* a, int lda,
          const float* b, int ldb, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

template <typename Real>
std::vector<Real> random_matrix(std::mt19937_64& rng, std::size_t count) {
  std::uniform_real_distribution<Real> uniform(-1, 1);
  std::vector<Real> values(count);
  for (auto& v : values) v = uniform(rng);
  return values;
}

struct Options {
  std::string dtype = "float64";
  int epochs = 10;
  int threads = 2;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--dtype") options.dtype = value;
    else if (flag == "--epochs") options.epochs = std::stoi(value);
    else if (flag == "--threads") options.threads = std::stoi(value);
    else throw std::invalid_argument("unknown flag " + flag + " (use --dtype, --epochs, --threads)");
  }
  if (options.dtype != "float64" && options.dtype != "float32")
    throw std::invalid_argument("--dtype " + options.dtype + ": use float64 or float32");
  if (options.epochs < 1) throw std::invalid_argument("--epochs must be at least 1");
  return options;
}

template <typename Real>
void run(const Options& options) {
  std::mt19937_64 rng(1234);
  auto train_x = random_matrix<Real>(rng, std::size_t(kTrainRows) * kInputs);
  auto w1 = random_matrix<Real>(rng, kInputs * kHidden);
  auto w2 = random_matrix<Real>(rng, kHidden * kClasses);
  auto d_logits = random_matrix<Real>(rng, kBatch * kClasses);
  std::vector<Real> hidden(kBatch * kHidden), logits(kBatch * kClasses), grad_w2(kHidden * kClasses),
      d_hidden(kBatch * kHidden), grad_w1(kInputs * kHidden);

  std::vector<double> epoch_seconds;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    for (int batch = 0; batch < kTrainRows / kBatch; ++batch) {
      const Real* x = train_x.data() + std::size_t(batch) * kBatch * kInputs;
      gemm(false, false, kBatch, kHidden, kInputs, x, kInputs, w1.data(), kHidden, hidden.data(), kHidden);
      gemm(false, false, kBatch, kClasses, kHidden, hidden.data(), kHidden, w2.data(), kClasses,
           logits.data(), kClasses);
      gemm(true, false, kHidden, kClasses, kBatch, hidden.data(), kHidden, d_logits.data(), kClasses,
           grad_w2.data(), kClasses);
      gemm(false, true, kBatch, kHidden, kClasses, d_logits.data(), kClasses, w2.data(), kClasses,
           d_hidden.data(), kHidden);
      gemm(true, false, kInputs, kHidden, kBatch, x, kInputs, d_hidden.data(), kHidden, grad_w1.data(),
           kHidden);
    }
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    epoch_seconds.push_back(elapsed.count());
    std::printf("{\"epoch\": %d, \"seconds\": %.9g}\n", epoch, elapsed.count());
  }
  std::sort(epoch_seconds.begin(), epoch_seconds.end());
  std::size_t n = epoch_seconds.size();
  double median = n % 2 ? epoch_seconds[n / 2] : (epoch_seconds[n / 2 - 1] + epoch_seconds[n / 2]) / 2;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"median_epoch_seconds\": %.9g, \"peak_rss_mb\": %.6g}\n", median,
              usage.ru_maxrss / 1024.0);  // Linux reports KiB
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options options = parse(argc, argv);
    openblas_set_num_threads(options.threads);
    if (options.dtype == "float64") run<double>(options);
    else run<float>(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gemm_bound: %s\n", error.what());
    return 2;
  }
}
