// The seed's story on real data (shared/seed/): with numpy's default
// uniform(0, 1) weights the MLP stays at chance, with Glorot's it learns,
// and the logistic regression learns; and graphjit's float64 training steps
// match a NumPy implementation of the same step to 1e-9.
#include <doctest/doctest.h>

#include "examples/seed_model.hpp"
#include "temp_dir.hpp"

#include <graphjit/runtime/datasets.hpp>
#include <graphjit/runtime/npz.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace {

// Fashion-MNIST, loaded once for all cases (the setup installs it).
const graphjit::Dataset& fashion() {
  static const graphjit::Dataset data = graphjit::load_dataset("fashion", graphjit::float64);
  return data;
}

seed::SharedSplit in_shared(const graphjit::Split& split) {
  return {graphjit::shared(split.x, "x", true), graphjit::shared(split.y, "y", true)};
}

seed::Program build(const std::string& kind, seed::Init& init) {
  return seed::build_program(kind, 128, 0.3, graphjit::float64, init, in_shared(fashion().train),
                             in_shared(fashion().valid), in_shared(fashion().test));
}

// Validation accuracy of a fresh `kind` model with `init_kind` weights drawn
// from RandomState(1), after `epochs` epochs of batch 500 (no reshuffling: the
// story does not depend on it, and the test stays deterministic).
double validation_accuracy(const std::string& kind, const std::string& init_kind, int epochs) {
  seed::Init init{init_kind, graphjit::RandomState(1), graphjit::float64};
  seed::Program p = build(kind, init);
  const int batches = static_cast<int>(fashion().train.x.shape(0)) / 500;
  for (int epoch = 0; epoch < epochs; ++epoch)
    for (int b = 0; b < batches; ++b) p.train(b, 500);
  const double accuracy = p.valid(0, static_cast<int>(fashion().valid.x.shape(0)))[1].item<double>();
  MESSAGE(kind << " with " << init_kind << " weights: validation accuracy after " << epochs << " epochs: " << accuracy);
  return accuracy;
}

std::string run_command(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  while (pipe && std::fgets(buf, sizeof buf, pipe.get())) out += buf;
  return out;
}

std::vector<double> json_number_list(const std::string& text, const std::string& key) {
  std::vector<double> values;
  auto at = text.find("\"" + key + "\"");
  if (at == std::string::npos) return values;
  auto open = text.find('[', at), close = text.find(']', at);
  std::string list = text.substr(open + 1, close - open - 1);
  for (std::size_t pos = 0; pos < list.size();) {
    std::size_t used = 0;
    values.push_back(std::stod(list.substr(pos), &used));
    pos += used;
    while (pos < list.size() && (list[pos] == ',' || list[pos] == ' ')) ++pos;
  }
  return values;
}

}  // namespace

TEST_CASE("uniform(0, 1) weights: the MLP stays at chance") {
  CHECK(validation_accuracy("mlp", "uniform01", 2) <= 0.15);
}

TEST_CASE("Glorot weights: the MLP learns, >= 75% validation accuracy after 5 epochs") {
  CHECK(validation_accuracy("mlp", "glorot", 5) >= 0.75);
}

TEST_CASE("the logistic regression learns") {
  CHECK(validation_accuracy("logreg", "glorot", 2) >= 0.6);
}

namespace {

// What the NumPy reference printed (benchmarks/peers/seed_numpy.py --dump-losses).
struct NumpyRun {
  std::vector<double> losses, accuracies, valid, test_accuracy;
};

NumpyRun numpy_run(const std::string& weights, int steps, graphjit::DType dtype) {
  const std::string python = "/usr/bin/python3";
  const std::string source = std::getenv("GRAPHJIT_SOURCE_DIR") ? std::getenv("GRAPHJIT_SOURCE_DIR") : ".";
  const std::string script = source + "/benchmarks/peers/seed_numpy.py";
  REQUIRE_MESSAGE(run_command(python + " -c 'import numpy; print(1)' 2>/dev/null") == "1\n",
                  "NumPy is missing: scripts/setup.sh installs python3-numpy");
  const std::string out = run_command(python + " " + script + " --dump-losses " + std::to_string(steps) +
                                      " --init-npz " + weights + " --dtype " + graphjit::dtype_name(dtype));
  NumpyRun run{json_number_list(out, "losses"), json_number_list(out, "accuracies"), json_number_list(out, "valid"),
               json_number_list(out, "test_accuracy")};
  REQUIRE_MESSAGE(run.losses.size() == static_cast<std::size_t>(steps), "seed_numpy.py printed: " << out);
  REQUIRE_MESSAGE(run.accuracies.size() == static_cast<std::size_t>(steps), "seed_numpy.py printed: " << out);
  REQUIRE_MESSAGE((run.valid.size() == 2 && run.test_accuracy.size() == 1), "seed_numpy.py printed: " << out);
  return run;
}

// `kSteps` training steps from the same Glorot weights in graphjit and in
// NumPy: every step's loss and accuracy, then the valid and test functions on
// their whole sets. float64 agrees to rounding; float32 to its precision, and
// an accuracy may move by one example of the batch (500) or set (10,000)
// where two classes' outputs tie to float32's precision.
void check_against_numpy(graphjit::DType dtype) {
  INFO("dtype ", graphjit::dtype_name(dtype));
  const bool f32 = dtype == graphjit::float32;
  const graphjit::Dataset data = graphjit::load_dataset("fashion", dtype);
  seed::Init init{"glorot", graphjit::RandomState(7), dtype};
  seed::Program p = seed::build_program("mlp", 128, 0.3, dtype, init, in_shared(data.train), in_shared(data.valid),
                                        in_shared(data.test));
  graphjit::testing::TempDir dir;
  const std::string weights = dir.file("init.npz");
  graphjit::NamedArrays arrays;
  for (auto& [key, param] : p.model->named_params()) arrays.emplace_back(key, param.get_value());
  graphjit::save_npz(weights, arrays);

  constexpr int kSteps = 20;
  const NumpyRun numpy = numpy_run(weights, kSteps, dtype);
  const double loss_rtol = f32 ? 1e-4 : 1e-9;
  std::vector<double> ours;
  for (int k = 0; k < kSteps; ++k) {
    const std::vector<graphjit::Tensor> out = p.train(k, 500);
    ours.push_back(out[0].item<double>());
    INFO("step " << k << ": graphjit " << ours[k] << ", numpy " << numpy.losses[k]);
    CHECK(std::abs(ours[k] - numpy.losses[k]) <= loss_rtol * std::abs(numpy.losses[k]));
    CHECK(std::abs(out[1].item<double>() - numpy.accuracies[k]) <= (f32 ? 1.0 / 500 : 0.0));
  }
  CHECK(ours.back() < ours.front());
  const int n_valid = static_cast<int>(data.valid.x.shape(0)), n_test = static_cast<int>(data.test.x.shape(0));
  const std::vector<graphjit::Tensor> valid = p.valid(0, n_valid);
  CHECK(std::abs(valid[0].item<double>() - numpy.valid[0]) <= loss_rtol * std::abs(numpy.valid[0]));
  CHECK(std::abs(valid[1].item<double>() - numpy.valid[1]) <= (f32 ? 1.0 / n_valid : 0.0));
  CHECK(std::abs(p.test(0, n_test)[0].item<double>() - numpy.test_accuracy[0]) <= (f32 ? 1.0 / n_test : 0.0));
}

}  // namespace

TEST_CASE("float64 training steps, accuracies, valid and test equal a NumPy implementation to rounding") {
  check_against_numpy(graphjit::float64);
}

TEST_CASE("float32 training steps, accuracies, valid and test equal a NumPy implementation to float32 precision") {
  check_against_numpy(graphjit::float32);
}
