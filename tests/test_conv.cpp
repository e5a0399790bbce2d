// conv2d and its gradient ops: the compiled (im2col + gemm) kernels against
// the reference kernels over border modes, strides, dilations, flips, odd
// sizes, both dtypes and strided inputs; values against PyTorch; gradients
// against finite differences (first and second order); shape errors.
#include <doctest/doctest.h>

#include <graphjit/conv_algorithm.hpp>
#include <graphjit/graphjit.hpp>

#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
namespace nnet = graphjit::tensor::nnet;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

// ((i * a) mod b) / b - 0.5 for the i-th element: the pattern the PyTorch script below builds.
Tensor pattern(const Shape& shape, std::int64_t a, std::int64_t b) {
  Tensor t = Tensor::empty(shape, float64);
  double* p = t.data<double>();
  for (std::int64_t i = 0; i < t.size(); ++i) p[i] = static_cast<double>((i * a) % b) / static_cast<double>(b) - 0.5;
  return t;
}

// Values produced by (python3-torch 1.13, Debian):
//   x = pattern((2, 2, 5, 6), 7, 11); w = pattern((3, 2, 3, 2), 5, 13)
//   torch.nn.functional.conv2d(x, torch.flip(w, [2, 3]), padding=..., stride=..., dilation=...)
// (a cross-correlation with flipped filters is Theano's convolution).
const std::vector<double> k_torch_valid = {-0.0069930069930069895, -0.12937062937062938, -0.32867132867132864, 0.47202797202797198, -0.26573426573426578, 0.25874125874125875, 0.059440559440559447, -0.024475524475524438, 0.31468531468531469, -0.3076923076923076, -0.12937062937062938, -0.32867132867132864, 0.47202797202797198, -0.26573426573426578, 0.26573426573426567, -0.48601398601398593, 0.097902097902097862, -0.16433566433566429, -0.42657342657342656, 0.54195804195804198, -0.059440559440559475, 0.44755244755244761, -0.083916083916083933, -0.038461538461538478, 0.66083916083916083, 0.097902097902097862, -0.16433566433566429, -0.42657342657342656, 0.54195804195804198, -0.37412587412587422, 0.35314685314685312, 0.0069930069930069783, 0.045454545454545414, 0.083916083916083919, 0.12237762237762229, 0.12237762237762237, -0.30069930069930073, 0.083916083916083961, 0.1993006993006993, -0.41608391608391615, 0.0069930069930069783, 0.045454545454545414, 0.083916083916083933, 0.12237762237762234, 0.1223776223776224, 0.26573426573426567, 0.25874125874125875, 0.059440559440559447, -0.024475524475524438, 0.31468531468531469, -0.0069930069930069895, -0.12937062937062938, -0.32867132867132864, 0.47202797202797198, -0.26573426573426578, 0.25874125874125875, 0.059440559440559447, -0.024475524475524438, 0.31468531468531469, -0.3076923076923076, -0.37412587412587422, -0.059440559440559475, 0.44755244755244761, -0.083916083916083933, -0.038461538461538478, -0.48601398601398593, 0.097902097902097862, -0.16433566433566429, -0.42657342657342656, 0.54195804195804198, -0.059440559440559475, 0.44755244755244761, -0.083916083916083933, -0.038461538461538478, 0.66083916083916083, 0.1223776223776224, 0.12237762237762237, -0.30069930069930073, 0.083916083916083961, 0.1993006993006993, 0.35314685314685312, 0.0069930069930069783, 0.045454545454545414, 0.083916083916083919, 0.12237762237762229, 0.12237762237762237, -0.30069930069930073, 0.083916083916083989, 0.1993006993006993, -0.41608391608391609};
const std::vector<double> k_torch_full_s21 = {0.32867132867132864, -0.13286713286713286, 0.16783216783216784, -0.10839160839160839, -0.19230769230769226, 0.22377622377622378, -0.0069930069930070008, -0.36013986013986005, -0.0069930069930069895, -0.12937062937062938, -0.32867132867132864, 0.47202797202797198, -0.26573426573426578, 0.15734265734265732, 0.19230769230769232, -0.12937062937062938, -0.32867132867132864, 0.47202797202797198, -0.26573426573426578, 0.26573426573426567, -0.017482517482517418, -0.055944055944055937, -0.2167832167832168, 0.35664335664335661, -0.1083916083916084, 0.080419580419580375, 0.038461538461538512, -0.031468531468531465, -0.23076923076923078, 0.44055944055944057, -0.19580419580419581, -0.024475524475524479, -0.045454545454545456, -0.18181818181818182, 0.20279720279720279, 0.34265734265734266, -0.48601398601398593, 0.097902097902097862, -0.16433566433566429, -0.42657342657342656, 0.54195804195804198, -0.29020979020979026, -0.12587412587412589, 0.097902097902097862, -0.16433566433566429, -0.42657342657342656, 0.54195804195804198, -0.37412587412587422, 0.10839160839160839, 0.083916083916083919, -0.17832167832167831, -0.17832167832167831, 0.16783216783216778, -0.2167832167832168, 0.16783216783216781, 0.013986013986013972, 0.11888111888111888, -0.25874125874125875, 0.16783216783216787, -0.21328671328671328, -0.17132867132867136, 0.13986013986013987, -0.13286713286713289, -0.22727272727272732, 0.35314685314685312, 0.0069930069930069783, 0.045454545454545414, 0.083916083916083919, 0.12237762237762229, 0.30769230769230771, 0.010489510489510509, 0.0069930069930069783, 0.045454545454545414, 0.083916083916083919, 0.12237762237762229, 0.1223776223776224, -0.083916083916083933, -0.0034965034965035169, 0.40559440559440557, -0.16783216783216781, -0.010489510489510481, 0.031468531468531513, -0.15734265734265734, 0.013986013986013995, 0.20279720279720279, -0.24475524475524479, 0.055944055944055958, 0.27972027972027969, -0.18881118881118883, 0.11188811188811189, 0.0069930069930069852, -0.29020979020979026, 0.26573426573426567, 0.25874125874125875, 0.059440559440559447, -0.024475524475524438, 0.31468531468531469, 0.052447552447552434, 0.10839160839160839, 0.25874125874125875, 0.059440559440559447, -0.024475524475524438, 0.31468531468531469, -0.3076923076923076, -0.19930069930069935, 0.013986013986013972, -0.15734265734265732, 0.031468531468531472, -0.010489510489510486, -0.20629370629370627, -0.017482517482517525, -0.0034965034965034956, -0.13286713286713289, 0.41258741258741261, -0.22377622377622383, -0.16783216783216784, 0.42657342657342656, -0.20979020979020982, 0.076923076923076913, 0.30769230769230765, -0.37412587412587422, -0.059440559440559475, 0.44755244755244761, -0.083916083916083933, -0.038461538461538478, 0.31818181818181818, -0.083916083916083947, -0.059440559440559475, 0.44755244755244761, -0.083916083916083933, -0.038461538461538478, 0.66083916083916083, -0.36013986013986005, 0.013986013986013993, 0.16783216783216781, -0.21678321678321677, 0.16783216783216784, 0.16783216783216784, -0.21678321678321674, 0.083916083916083919, 0.076923076923076927, -0.20279720279720284, 0.2237762237762238, 0.11188811188811186, -0.23076923076923081, 0.19580419580419586, -0.034965034965034981, 0.26923076923076916, 0.1223776223776224, 0.12237762237762237, -0.30069930069930073, 0.083916083916083961, 0.1993006993006993, -0.18881118881118886, -0.18531468531468528, 0.12237762237762237, -0.30069930069930073, 0.083916083916083961, 0.1993006993006993, -0.41608391608391615, 0.34265734265734266, -0.031468531468531458, 0.038461538461538464, 0.080419580419580375, -0.10839160839160839, 0.087412587412587381, 0.12937062937062935, -0.055944055944055937};
const std::vector<double> k_torch_pad12_s23_d21 = {0, -0.15034965034965037, -0.045454545454545491, 0, -0.076923076923076941, -0.076923076923076927, 0, 0.38111888111888115, 0.40209790209790208, 0, 0.22727272727272724, 0.23426573426573422, 0, 0.048951048951048876, 0.076923076923076872, 0, -0.15034965034965037, -0.045454545454545491, 0, -0.16783216783216787, -0.25524475524475521, 0, 0.34615384615384615, -0.0769230769230769, 0, -0.083916083916083933, 0.36013986013986016, 0, 0.020979020979020976, 0.22027972027972026, 0, -0.045454545454545442, 0.020979020979020935, 0, -0.16783216783216787, -0.25524475524475521};

void check_close(const Tensor& got, const Tensor& want, double tol) {
  REQUIRE(got.shape() == want.shape());
  const auto g = values(got), w = values(want);
  double worst = 0;
  for (std::size_t i = 0; i < g.size(); ++i) worst = std::max(worst, std::abs(g[i] - w[i]) / (1 + std::abs(w[i])));
  CHECK(worst <= tol);
}

// Forces the compiled kernels' algorithm for a scope.
struct AlgorithmForced {
  explicit AlgorithmForced(nnet::ConvAlgorithm a) { nnet::set_conv_algorithm(a); }
  ~AlgorithmForced() { nnet::set_conv_algorithm(nnet::ConvAlgorithm::by_shape); }
};

struct Case {
  Shape x, w;
  nnet::Conv2dOptions options;
};

std::vector<Case> cases() {
  using nnet::BorderMode;
  std::vector<Case> out;
  const std::vector<nnet::Conv2dOptions> modes = {
      {}, {.border_mode = BorderMode::full}, {.border_mode = BorderMode::half}, nnet::padded(1, 2),
      {.subsample = {2, 3}}, {.border_mode = BorderMode::half, .subsample = {2, 2}, .filter_flip = false},
      {.border_mode = BorderMode::full, .filter_dilation = {2, 1}}, nnet::padded(2, 0, {.subsample = {3, 1}, .filter_dilation = {1, 2}}),
  };
  for (const auto& m : modes) out.push_back({{3, 2, 9, 8}, {4, 2, 3, 2}, m});
  out.push_back({{2, 3, 7, 7}, {5, 3, 1, 1}, {}});  // 1x1 filters
  out.push_back({{1, 1, 5, 4}, {2, 1, 5, 4}, {}});  // filters as large as the image
  // Batches large enough that the native kernels split them over the thread pool.
  out.push_back({{20, 3, 12, 12}, {8, 3, 3, 3}, nnet::padded(1, 1, {.subsample = {2, 1}})});
  out.push_back({{24, 8, 10, 10}, {16, 8, 1, 1}, {}});  // pointwise: no unrolling
  out.push_back({{30, 1, 12, 11}, {6, 1, 3, 4}, {}});   // rows of whole vectors: by shape, the direct filter gradient
  // Small outputs: the gemm covers several images side by side (images_per_gemm: 4 here), and each
  // thread's share (6 and 7 images) ends with a partial group.
  out.push_back({{13, 6, 10, 10}, {8, 6, 3, 3}, {}});
  return out;
}

// y = conv2d(x, w) and its gradients for a random projection, in `mode`.
std::vector<Tensor> conv_and_grads(const Case& c, DType dtype, Mode mode, const std::vector<Argument>& args) {
  auto x = T::tensor4("x", dtype), w = T::tensor4("w", dtype), r = T::tensor4("r", dtype);
  auto y = nnet::conv2d(x, w, c.options);
  auto cost = T::sum(y * r);
  return function({x, w, r}, {y, T::grad(cost, x), T::grad(cost, w)}, {.mode = mode}).call(args);
}

}  // namespace

TEST_CASE("conv2d matches PyTorch's convolution (flipped cross-correlation)") {
  const Tensor x = pattern({2, 2, 5, 6}, 7, 11), w = pattern({3, 2, 3, 2}, 5, 13);
  auto X = T::tensor4("x", float64), W = T::tensor4("w", float64);
  const std::vector<std::pair<nnet::Conv2dOptions, const std::vector<double>*>> expected = {
      {{}, &k_torch_valid},
      {{.border_mode = nnet::BorderMode::full, .subsample = {2, 1}}, &k_torch_full_s21},
      {nnet::padded(1, 2, {.subsample = {2, 3}, .filter_dilation = {2, 1}}), &k_torch_pad12_s23_d21}};
  for (const auto& [options, want] : expected)
    for (Mode mode : {Mode::reference, Mode::fast_run}) {
      const Tensor y = function({X, W}, {nnet::conv2d(X, W, options)}, {.mode = mode})(x, w)[0];
      const auto got = values(y);
      REQUIRE(got.size() == want->size());
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx((*want)[i]).epsilon(1e-12));
    }
}

TEST_CASE("compiled conv2d and its gradients match the reference over modes, strides, dilations and dtypes") {
  std::uint64_t seed = 1;
  for (nnet::ConvAlgorithm algorithm : {nnet::ConvAlgorithm::by_shape, nnet::ConvAlgorithm::gemm, nnet::ConvAlgorithm::direct}) {
    CAPTURE(static_cast<int>(algorithm));
    const AlgorithmForced forced(algorithm);
    for (const Case& c : cases())
      for (DType dtype : {float64, float32}) {
        const Tensor x = random_tensor(c.x, ++seed, dtype), w = random_tensor(c.w, ++seed, dtype);
        auto X = T::tensor4("x", dtype), W = T::tensor4("w", dtype);
        const Shape y_shape = function({X, W}, {nnet::conv2d(X, W, c.options)}, {.mode = Mode::reference})(x, w)[0].shape();
        const Tensor r = random_tensor(y_shape, ++seed, dtype);
        const auto want = conv_and_grads(c, dtype, Mode::reference, {x, w, r});
        const auto got = conv_and_grads(c, dtype, Mode::fast_run, {x, w, r});
        const double tol = dtype == float32 ? 1e-5 : 1e-12;
        for (std::size_t k = 0; k < want.size(); ++k) check_close(got[k], want[k], tol);
      }
  }
}

TEST_CASE("compiled conv2d reads strided and transposed inputs") {
  const Tensor big = random_tensor({3, 4, 12, 9}, 7);
  const Tensor x = big.slice(1, 0, 4, 2).slice(2, 1, 12, 2);           // (3, 2, 6, 9), strided
  const Tensor w = random_tensor({2, 5, 3, 3}, 8).permute({1, 0, 2, 3});  // (5, 2, 3, 3), not contiguous
  auto X = T::tensor4("x"), W = T::tensor4("w");
  for (const nnet::Conv2dOptions& o : {nnet::Conv2dOptions{}, nnet::Conv2dOptions{.border_mode = nnet::BorderMode::half, .subsample = {2, 2}}}) {
    auto y = nnet::conv2d(X.dimshuffle({0, 1, 3, 2}), W, o);  // a transposed view inside the graph too
    auto cost = T::sum(T::sqr(y));
    const auto want = function({X, W}, {y, T::grad(cost, W)}, {.mode = Mode::reference})(x, w);
    const auto got = function({X, W}, {y, T::grad(cost, W)})(x, w);
    for (std::size_t k = 0; k < want.size(); ++k) check_close(got[k], want[k], 1e-12);
  }
}

TEST_CASE("conv2d's gradients pass verify_grad, and so do the gradient ops' own gradients") {
  for (const Case& c : {cases()[0], cases()[3], cases()[5], cases()[7]}) {
    const Tensor x = random_tensor({2, 2, 6, 5}, 11), w = random_tensor(c.w, 12);
    verify_grad([&](const std::vector<Variable>& v) { return nnet::conv2d(v[0], v[1], c.options); }, {x, w});
    auto X = T::tensor4("x"), W = T::tensor4("w");
    const Tensor y = function({X, W}, {nnet::conv2d(X, W, c.options)}, {.mode = Mode::reference})(x, w)[0];
    const Tensor gy = random_tensor(y.shape(), 13);
    verify_grad([&](const std::vector<Variable>& v) {
      return nnet::conv2d_grad_inputs(v[0], v[1], graphjit::constant(std::int64_t{6}, int64), graphjit::constant(std::int64_t{5}, int64), c.options);
    }, {w, gy});
    verify_grad([&](const std::vector<Variable>& v) {
      return nnet::conv2d_grad_weights(v[0], v[1], graphjit::constant(c.w[2], int64), graphjit::constant(c.w[3], int64), c.options);
    }, {x, gy});
  }
}

TEST_CASE("conv2d's shape errors name both shapes and the border mode") {
  auto X = T::tensor4("x"), W = T::tensor4("w");
  auto f = function({X, W}, {nnet::conv2d(X, W, nnet::padded(1, 0))});
  const std::string channels = thrown_message([&] { f(Tensor::zeros({1, 3, 5, 5}, float64), Tensor::zeros({2, 2, 3, 3}, float64)); });
  CHECK(contains(channels, "(1, 3, 5, 5)"));
  CHECK(contains(channels, "(2, 2, 3, 3)"));
  CHECK(contains(channels, "border_mode (1, 0)"));
  CHECK(contains(channels, "channels"));
  const std::string large = thrown_message([&] { f(Tensor::zeros({1, 2, 5, 2}, float64), Tensor::zeros({2, 2, 3, 3}, float64)); });
  CHECK(contains(large, "larger than the padded input"));
  CHECK(contains(large, "(1, 2, 5, 2)"));
  CHECK(contains(thrown_message([&] { nnet::conv2d(T::matrix("m"), W); }), "must be 4-d"));
  CHECK(contains(thrown_message([&] { nnet::conv2d(X, W, {.subsample = {0, 1}}); }), "subsample"));
}

TEST_CASE("conv2d's shape hints are checked against each other and against the values") {
  auto X = T::tensor4("x"), W = T::tensor4("w");
  CHECK(contains(thrown_message([&] {
                   nnet::conv2d(X, W, {.input_shape = {-1, 3, 8, 8}, .filter_shape = {4, 2, 3, 3}});
                 }), "input_shape hint"));
  auto f = function({X, W}, {nnet::conv2d(X, W, {.input_shape = {-1, 1, 8, 8}})});
  CHECK(f(Tensor::zeros({2, 1, 8, 8}, float64), Tensor::zeros({3, 1, 3, 3}, float64))[0].shape() == Shape{2, 3, 6, 6});
  CHECK(contains(thrown_message([&] { f(Tensor::zeros({2, 1, 8, 7}, float64), Tensor::zeros({3, 1, 3, 3}, float64)); }),
                 "input_shape hint"));
}

TEST_CASE("conv2d of a float32 input and float64 filters computes in float64, as Theano upcasts") {
  auto X = T::tensor4("x", float32);
  auto W = T::tensor4("w", float64);
  auto y = nnet::conv2d(X, W, {.border_mode = nnet::BorderMode::half});
  CHECK(y.dtype() == float64);
  const Tensor x = random_tensor({2, 2, 5, 5}, 21, float32), w = random_tensor({3, 2, 3, 3}, 22);
  auto cost = T::sum(T::sqr(y));
  const auto want = function({X, W}, {y, T::grad(cost, X), T::grad(cost, W)}, {.mode = Mode::reference})(x, w);
  const auto got = function({X, W}, {y, T::grad(cost, X), T::grad(cost, W)})(x, w);
  CHECK(got[1].dtype() == float32);
  for (std::size_t k = 0; k < want.size(); ++k) check_close(got[k], want[k], 1e-6);
}
