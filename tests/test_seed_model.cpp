// The example's model around its data: parameters loaded with --load must be
// finite and of the model's shapes, and images must be the 28x28 the model
// takes. Small synthetic data, so these run in milliseconds.
#include <doctest/doctest.h>

#include "examples/seed_model.hpp"
#include "temp_dir.hpp"
#include "thrown_message.hpp"

#include <graphjit/runtime/npz.hpp>

#include <cmath>
#include <limits>
#include <string>

using graphjit::Tensor;
using graphjit::testing::contains;
using graphjit::testing::TempDir;
using graphjit::testing::thrown_message;

namespace {

seed::SharedSplit split(std::int64_t n, std::int64_t pixels) {
  return {graphjit::shared(Tensor::zeros({n, pixels}, graphjit::float64), "x", true),
          graphjit::shared(Tensor::zeros({n}, graphjit::int32), "y", true)};
}

seed::Program logreg(seed::Init& init, std::int64_t pixels = seed::kPixels) {
  return seed::build_program("logreg", 8, 0.1, graphjit::float64, init, split(4, pixels), split(2, pixels),
                             split(2, pixels));
}

}  // namespace

TEST_CASE("load_params refuses a NaN or infinite parameter, naming the file, the array and the element") {
  TempDir dir;
  seed::Init init{"glorot", graphjit::RandomState(1), graphjit::float64};
  seed::Program p = logreg(init);
  const std::string path = dir.file("model.npz");

  Tensor w = Tensor::zeros({seed::kPixels, seed::kClasses}, graphjit::float64);
  w.set({3, 4}, std::numeric_limits<double>::quiet_NaN());
  graphjit::save_npz(path, {{"W", w}, {"b", Tensor::zeros({seed::kClasses}, graphjit::float64)}});
  const Tensor before = p.model->named_params()[0].second.get_value();
  std::string msg = thrown_message<std::runtime_error>([&] { seed::load_params(path, *p.model); });
  CHECK(contains(msg, path));
  CHECK(contains(msg, "'W' element 34 (in row-major order) is nan"));
  CHECK(p.model->named_params()[0].second.get_value().equal(before));

  graphjit::save_npz(path, {{"W", Tensor::zeros({seed::kPixels, seed::kClasses}, graphjit::float64)},
                            {"b", Tensor::full({seed::kClasses}, -std::numeric_limits<double>::infinity(), graphjit::float64)}});
  CHECK(contains(thrown_message<std::runtime_error>([&] { seed::load_params(path, *p.model); }), "'b' element 0"));

  // Finite parameters load.
  graphjit::save_npz(path, {{"W", Tensor::full({seed::kPixels, seed::kClasses}, 0.5, graphjit::float64)},
                            {"b", Tensor::zeros({seed::kClasses}, graphjit::float64)}});
  seed::load_params(path, *p.model);
  CHECK(p.model->named_params()[0].second.get_value().get({0, 0}) == 0.5);
}

TEST_CASE("the model refuses images that are not 28x28") {
  seed::Init init{"glorot", graphjit::RandomState(1), graphjit::float64};
  const std::string msg = thrown_message<std::invalid_argument>([&] { logreg(init, 6); });
  CHECK(contains(msg, "28x28"));
  CHECK(contains(msg, "(4, 6)"));
}
