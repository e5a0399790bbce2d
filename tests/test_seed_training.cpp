// The seed's story on real data (shared/seed/): with numpy's default
// uniform(0, 1) weights the MLP stays at chance, with Glorot's it learns,
// and the logistic regression learns; and graphjit's training steps match a
// NumPy implementation of the same step (float64 to 1e-9), with and without
// the example's per-epoch reshuffle.
#include <doctest/doctest.h>

#include "examples/seed_model.hpp"
#include "temp_dir.hpp"

#include <graphjit/runtime/datasets.hpp>
#include <graphjit/runtime/npz.hpp>
#include <graphjit/runtime/random.hpp>

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

// How the steps run: the first `steps` batches of the whole training set,
// or, with reshuffles, epochs of its first `train_rows` rows with the
// example's reshuffle after each (example_driver.hpp: permute_rows, then
// set_value(borrow=true) on the training set's shared variables).
struct Schedule {
  int steps = 20;
  std::int64_t train_rows = 0;  // 0: all
  int reshuffles = 0;
};

NumpyRun numpy_run(const std::string& weights, const std::string& orders, int steps, graphjit::DType dtype) {
  const std::string python = "/usr/bin/python3";
  const std::string source = std::getenv("GRAPHJIT_SOURCE_DIR") ? std::getenv("GRAPHJIT_SOURCE_DIR") : ".";
  const std::string script = source + "/benchmarks/peers/seed_numpy.py";
  REQUIRE_MESSAGE(run_command(python + " -c 'import numpy; print(1)' 2>/dev/null") == "1\n",
                  "NumPy is missing: scripts/setup.sh installs python3-numpy");
  const std::string out =
      run_command(python + " " + script + " --dump-losses " + std::to_string(steps) + " --init-npz " + weights +
                  (orders.empty() ? "" : " --reshuffle-npz " + orders) + " --dtype " + graphjit::dtype_name(dtype));
  NumpyRun run{json_number_list(out, "losses"), json_number_list(out, "accuracies"), json_number_list(out, "valid"),
               json_number_list(out, "test_accuracy")};
  REQUIRE_MESSAGE(run.losses.size() == static_cast<std::size_t>(steps), "seed_numpy.py printed: " << out);
  REQUIRE_MESSAGE(run.accuracies.size() == static_cast<std::size_t>(steps), "seed_numpy.py printed: " << out);
  REQUIRE_MESSAGE((run.valid.size() == 2 && run.test_accuracy.size() == 1), "seed_numpy.py printed: " << out);
  return run;
}

// The reshuffles' orders, drawn as the example draws them, saved for NumPy.
std::vector<std::vector<std::int64_t>> draw_orders(const Schedule& s, const std::string& path) {
  graphjit::RandomState shuffler(1235);
  std::vector<std::vector<std::int64_t>> orders;
  graphjit::NamedArrays arrays;
  for (int e = 0; e < s.reshuffles; ++e) {
    orders.push_back(shuffler.permutation(s.train_rows));
    arrays.emplace_back("order" + std::to_string(e), graphjit::Tensor::from_vector(orders.back()));
  }
  if (!orders.empty()) graphjit::save_npz(path, arrays);
  return orders;
}

// `s.steps` training steps from the same Glorot weights in graphjit and in
// NumPy: every step's loss and accuracy, then the valid and test functions on
// their whole sets. float64 agrees to rounding; float32 to its precision, and
// an accuracy may move by one example of the batch (500) or set (10,000)
// where two classes' outputs tie to float32's precision.
void check_against_numpy(graphjit::DType dtype, const Schedule& s = {}) {
  INFO("dtype ", graphjit::dtype_name(dtype), ", ", s.reshuffles, " reshuffles");
  const bool f32 = dtype == graphjit::float32;
  graphjit::Dataset data = graphjit::load_dataset("fashion", dtype);
  if (s.train_rows) {
    data.train.x = data.train.x.slice(0, 0, s.train_rows).copy();
    data.train.y = data.train.y.slice(0, 0, s.train_rows).copy();
  }
  seed::Init init{"glorot", graphjit::RandomState(7), dtype};
  seed::SharedSplit train = in_shared(data.train);
  seed::Program p = seed::build_program("mlp", 128, 0.3, dtype, init, train, in_shared(data.valid),
                                        in_shared(data.test));
  graphjit::testing::TempDir dir;
  const std::string weights = dir.file("init.npz"), orders_file = s.reshuffles ? dir.file("orders.npz") : "";
  graphjit::NamedArrays arrays;
  for (auto& [key, param] : p.model->named_params()) arrays.emplace_back(key, param.get_value());
  graphjit::save_npz(weights, arrays);
  const std::vector<std::vector<std::int64_t>> orders = draw_orders(s, orders_file);

  const NumpyRun numpy = numpy_run(weights, orders_file, s.steps, dtype);
  const double loss_rtol = f32 ? 1e-4 : 1e-9;
  const int batches = static_cast<int>(data.train.x.shape(0)) / 500;
  std::vector<double> ours;
  for (int k = 0; k < s.steps; ++k) {
    if (k && k % batches == 0) {
      const std::vector<std::int64_t>& order = orders.at(static_cast<std::size_t>(k / batches - 1));
      graphjit::permute_rows(data.train.x, order);
      graphjit::permute_rows(data.train.y, order);
      train.x.set_value(data.train.x, true);
      train.y.set_value(data.train.y, true);
    }
    const std::vector<graphjit::Tensor> out = p.train(k % batches, 500);
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

// Three epochs of 4 steps on 2,000 rows, reshuffled in place between them.
TEST_CASE("with the example's per-epoch reshuffle, training steps equal NumPy's on the same orders") {
  check_against_numpy(graphjit::float64, {.steps = 12, .train_rows = 2000, .reshuffles = 2});
  check_against_numpy(graphjit::float32, {.steps = 12, .train_rows = 2000, .reshuffles = 2});
}
