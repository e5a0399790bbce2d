// take's modes "wrap" and "clip" beside "raise", and tile's ndim (Theano's
// take(a, indices, axis, mode) and tile(x, reps, ndim)). Each is run in the
// reference evaluator and compiled (op_test_support's `run` compares the
// two), on strided views too, and its gradient is checked by verify_grad.
// Expected values are numpy's (numpy 1.24), printed by:
//   /usr/bin/python3 -c "import numpy as np; x = np.arange(6).reshape(2, 3);
//     print(np.take(x, [0, -1, 7, -8], mode='wrap').tolist(), np.take(x, [0, -1, 7, 2], mode='clip').tolist());
//     print(np.take(x, [[3, -4]], axis=1, mode='wrap').tolist(), np.take(x, [-1, 5], axis=0, mode='clip').tolist());
//     v = np.array([0, 1, 2]); print(np.tile(v, (1, 1, 2)).shape, np.tile(x, (2,)).shape)"
// (Theano's tile(v, [2], ndim=3) is numpy's tile(v, (1, 1, 2)): reps padded in front to ndim.)
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cstdint>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

using Values = std::vector<double>;

Tensor ints(const std::vector<std::int64_t>& v, Shape shape) { return Tensor::from_vector(v, std::move(shape)); }

}  // namespace

TEST_CASE("take wraps or clips indices out of range, as numpy") {
  auto x = T::matrix("x");
  auto i = T::vector("i", int64);
  auto ij = T::matrix("ij", int32);
  auto out = run({x, i, ij},
                 {T::take(x, i, std::nullopt, T::TakeMode::wrap),
                  T::take(x, constant(ints({0, -1, 7, 2}, {4})), std::nullopt, T::TakeMode::clip),
                  T::take(x, ij, 1, T::TakeMode::wrap), T::take(x, constant(ints({-1, 5}, {2})), 0, T::TakeMode::clip)},
                 {range_tensor({2, 3}), ints({0, -1, 7, -8}, {4}), ints({3, -4}, {1, 2}).astype(int32)});
  CHECK(values(out[0]) == Values{0, 5, 1, 4});
  CHECK(values(out[1]) == Values{0, 0, 5, 2});
  CHECK(out[2].shape() == Shape{2, 1, 2});
  CHECK(values(out[2]) == Values{0, 2, 3, 5});
  CHECK(out[3].shape() == Shape{2, 3});
  CHECK(values(out[3]) == Values{0, 1, 2, 3, 4, 5});
}

TEST_CASE("take's modes on strided views, compiled against the reference") {
  const Tensor strided = random_tensor({6, 8}, 41).slice(0, 0, 6, 2).slice(1, 1, 8, 3);  // (3, 3)
  const Tensor transposed = random_tensor({5, 3}, 42).transpose();                      // (3, 5)
  for (const Tensor& input : {strided, transposed}) {
    auto x = T::matrix("x");
    auto i = T::vector("i", int64);
    run({x, i}, {T::take(x, i, 1, T::TakeMode::wrap) * 2, T::take(x.T(), i, 0, T::TakeMode::clip) + 1,
                 T::take(x, i, std::nullopt, T::TakeMode::wrap)},
        {input, ints({-7, 0, 11, 2, -1}, {5})});
  }
}

TEST_CASE("take's modes: integer indices only, and gradients") {
  auto x = T::matrix("x");
  CHECK(contains(thrown_message<TypeError>([&] { T::take(x, T::vector("f"), 0, T::TakeMode::wrap); }), "integers"));
  const Tensor idx = ints({0, -1, 9, -6}, {4});
  for (const Shape& shape : {Shape{5}, Shape{3, 4}, Shape{2, 3, 2}}) {
    INFO(shape_str(shape));
    const Tensor p = random_tensor(shape, 43);
    for (T::TakeMode mode : {T::TakeMode::wrap, T::TakeMode::clip}) {
      verify_grad([&](const auto& in) { return T::take(in[0], constant(idx), std::nullopt, mode); }, {p});
      verify_grad([&](const auto& in) { return T::take(in[0], constant(idx), -1, mode) * 2; }, {p});
    }
  }
}

TEST_CASE("tile with ndim pads x and reps in front to ndim dims (Theano's tile(x, reps, ndim))") {
  auto v = T::vector("v");
  auto x = T::matrix("x");
  auto reps = T::vector("reps", int64);
  auto out = run({v, x, reps}, {T::tile(v, {2}, 3), T::tile(x, {2}, 2), T::tile(v, reps, 3), T::tile(x, reps, 2)},
                 {range_tensor({3}), range_tensor({2, 3}), ints({2}, {1})});
  CHECK(out[0].shape() == Shape{1, 1, 6});
  CHECK(values(out[0]) == Values{0, 1, 2, 0, 1, 2});
  CHECK(out[1].shape() == Shape{2, 6});
  CHECK(out[2].shape() == Shape{1, 1, 6});
  CHECK(values(out[2]) == values(out[0]));
  CHECK(values(out[3]) == values(out[1]));
  // A reps vector as long as ndim is used as it is.
  auto full = run({x, reps}, {T::tile(x, reps, 2)}, {range_tensor({2, 3}), ints({2, 1}, {2})});
  CHECK(full[0].shape() == Shape{4, 3});
  // ndim below x's dims or the list's length is an error naming tile.
  CHECK(contains(thrown_message<TypeError>([&] { T::tile(x, {2}, 1); }), "ndim 1"));
  CHECK(contains(thrown_message<TypeError>([&] { T::tile(v, {2, 2, 2}, 2); }), "tile"));
  // A reps vector longer than ndim fails when the function runs.
  CHECK_THROWS(function({x, reps}, {T::tile(x, reps, 2)})(range_tensor({2, 3}), ints({1, 2, 3}, {3})));
  verify_grad([](const auto& in) { return T::tile(in[0], {2, 3}, 3); }, {random_tensor({2, 3}, 44)});
  const Tensor strided = random_tensor({6, 8}, 45).slice(1, 0, 8, 3);
  run({x, reps}, {T::tile(x * 2, reps, 3)}, {strided, ints({2, 1}, {2})});
}
