// Softmax over short rows (the seed's 10 classes) against long rows, per
// element, through a call (issue 7, item 5). Measured in the calling thread's
// CPU time on one thread, the least of `rounds` alternating runs, so a shared
// machine's load barely enters:
//
//   build/benchmarks/bench_softmax_rows [rounds] [float64|float32] [columns...]
//
// Each case has about a million elements: rows = 1,000,000 / columns
// (default columns: 10 and 1000).
#include <graphjit/graphjit.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace {

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Case {
  std::int64_t rows, cols;
  graphjit::Function f;
  graphjit::Tensor x;
  double best = 1e30;  // ns per element
};

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 8;
  const graphjit::DType dtype = argc > 2 && std::string(argv[2]) == "float32" ? graphjit::float32 : graphjit::float64;
  graphjit::set_num_threads(1);
  graphjit::RandomState rng(3);
  std::vector<Case> cases;
  std::vector<std::int64_t> columns;
  for (int a = 3; a < argc; ++a) columns.push_back(std::atoll(argv[a]));
  if (columns.empty()) columns = {10, 1000};
  for (std::int64_t cols : columns) {
    const std::int64_t rows = 1000000 / cols;
    auto x = graphjit::tensor::matrix("x", dtype);
    cases.push_back({rows, cols, graphjit::function({x}, {graphjit::tensor::nnet::softmax(x)}),
                     rng.uniform(-5, 5, {rows, cols}, dtype)});
  }
  for (int r = 0; r < rounds; ++r)
    for (Case& c : cases) {
      const double start = thread_seconds();
      for (int i = 0; i < 5; ++i) c.f(c.x);
      c.best = std::min(c.best, 1e9 * (thread_seconds() - start) / (5.0 * static_cast<double>(c.rows * c.cols)));
    }
  for (const Case& c : cases)
    std::printf("softmax (%lld, %lld) %s: %.2f ns per element (thread CPU, 1 thread, least of %d)\n",
                static_cast<long long>(c.rows), static_cast<long long>(c.cols), graphjit::dtype_name(dtype), c.best,
                rounds);
}
