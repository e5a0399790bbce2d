// Shape and construction ops of issue 8 (graphjit/shape_ops.hpp): alloc,
// zeros, ones, full, eye; squeeze, transpose(axes), reshape to a shape
// vector, newaxis; repeat, tile, split, roll; take, where; addbroadcast,
// unbroadcast, patternbroadcast. Each is run in the reference evaluator and
// compiled (op_test_support's `run` compares the two), on random inputs,
// strided views and broadcast values, and its gradient is checked by verify_grad.
// Expected values are numpy's (numpy 1.24), printed by:
//   /usr/bin/python3 -c "import numpy as np; x = np.arange(6).reshape(2, 3);
//     print(np.repeat(x, 2, axis=0).tolist()); print(np.repeat(x, [1, 0, 2], axis=1).tolist());
//     print(np.repeat(x, 2).tolist()); print(np.tile(np.array([0, 1, 2]), (2, 2)).tolist());
//     print(np.tile(x, (2, 1, 2)).shape, np.tile(x, (2, 1, 2)).ravel().tolist());
//     print(np.roll(np.arange(10), 2).tolist(), np.roll(np.arange(10), -2).tolist());
//     print(np.roll(x, 1, axis=1).tolist(), np.roll(x, 1).tolist(), np.roll(x, 7, axis=0).tolist());
//     print(np.eye(3, 4, 1).tolist(), np.eye(2, 3, -1).tolist(), np.eye(3, 2, 5).tolist());
//     print(np.take(x, [0, -1, 4]).tolist(), np.take(x, [[2, 0]], axis=1).tolist(), np.take(x, 1, axis=1).tolist());
//     print([a.tolist() for a in np.split(np.arange(7), [2, 5])])"
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/ir/op_info.hpp"
#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cstdint>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

using Values = std::vector<double>;

Variable int_scalar(const char* name) { return T::scalar(name, int64); }
Argument I(std::int64_t n) { return n; }

// An error message names the op, the user's line (this file) and `what`.
void check_names(const std::string& msg, const char* op, const std::string& what) {
  INFO(msg);
  CHECK(contains(msg, op));
  CHECK(contains(msg, "test_shape_ops.cpp"));
  CHECK(contains(msg, what));
}

}  // namespace

// --- creation ------------------------------------------------------------------------------------

TEST_CASE("zeros, ones and full of a symbolic shape") {
  auto n = int_scalar("n");
  auto x = T::matrix("x");
  auto out = run({n, x}, {T::zeros({2, n}), T::ones(x.shape()), T::full({n}, 2.5), T::full(x.shape(), 7, int32)},
                 {I(3), random_tensor({2, 4}, 1)});
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(values(out[0]) == Values(6, 0.0));
  CHECK(out[1].shape() == Shape{2, 4});
  CHECK(values(out[1]) == Values(8, 1.0));
  CHECK(values(out[2]) == Values(3, 2.5));
  CHECK(out[3].dtype() == int32);
  CHECK(values(out[3]) == Values(8, 7.0));
  // A constant 1 makes a broadcastable dim; x.shape() keeps x's pattern.
  CHECK(T::zeros({1, n}).broadcastable() == std::vector<bool>{true, false});
  CHECK(T::zeros(T::row("r").shape()).broadcastable() == std::vector<bool>{true, false});
  CHECK(T::full({2}, 3).dtype() == int64);
  CHECK(T::full({2, 3}, T::vector("fv"), float32).type_str() == T::matrix("", float32).type_str());
  CHECK(T::zeros({}).ndim() == 0);
}

TEST_CASE("alloc broadcasts a tensor value over the leading dims and its broadcastable dims") {
  auto v = T::row("v");
  auto n = int_scalar("n");
  auto out = run({v, n}, {T::alloc(v, {n, 2, 3})}, {range_tensor({1, 3}), I(2)})[0];
  CHECK(out.shape() == Shape{2, 2, 3});
  CHECK(values(out) == Values{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2});
  // A dim not broadcastable in the value's type does not stretch.
  auto m = T::matrix("m");
  check_names(thrown_message<ShapeError>([&] { run({m}, {T::alloc(m, {2, 3})}, {range_tensor({1, 3})}); }), "alloc",
              "(1, 3)");
  CHECK(contains(thrown_message<TypeError>([&] { T::alloc(m, {3}); }), "more dimensions"));
  CHECK(contains(thrown_message<TypeError>([&] { T::zeros({2.5}); }), "not an integer"));
}

TEST_CASE("a shape vector whose length is not known needs ndim") {
  auto s = T::vector("s", int64);
  auto x = T::vector("x");
  CHECK(contains(thrown_message<TypeError>([&] { T::zeros(s); }), "ndim"));
  auto out = run({s}, {T::zeros(T::SymbolicShape(s, 2))}, {Tensor::from_vector(std::vector<std::int64_t>{2, 3}, {2})});
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(contains(thrown_message<TypeError>([&] { T::zeros(x); }), "integer vector"));
}

TEST_CASE("eye matches numpy") {
  auto n = int_scalar("n");
  auto out = run({n}, {T::eye(n, 4, 1), T::eye(2, 3, -1), T::eye(3, 2, 5), T::eye(n, int32)}, {I(3)});
  CHECK(values(out[0]) == Values{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
  CHECK(values(out[1]) == Values{0, 0, 0, 1, 0, 0});
  CHECK(values(out[2]) == Values(6, 0.0));
  CHECK(out[3].dtype() == int32);
  CHECK(values(out[3]) == Values{1, 0, 0, 0, 1, 0, 0, 0, 1});
  check_names(thrown_message<ShapeError>([&] { run({n}, {T::eye(n)}, {I(-2)}); }), "eye", "negative");
  auto f = T::scalar("f");
  check_names(thrown_message<TypeError>([&] { T::eye(f); }), "eye", "integer scalar");
}

// --- axes ------------------------------------------------------------------------------------------

TEST_CASE("squeeze drops broadcastable dims, or the given ones after checking them") {
  auto x = T::tensor(float64, {false, true, false, true}, "x");
  CHECK(T::squeeze(x).broadcastable() == std::vector<bool>{false, false});
  auto m = T::matrix("m");
  auto out = run({m}, {T::squeeze(m, 1)}, {range_tensor({3, 1})})[0];
  CHECK(out.shape() == Shape{3});
  check_names(thrown_message<ShapeError>([&] { run({m}, {T::squeeze(m, 1)}, {range_tensor({3, 2})}); }),
              "rebroadcast", "(3, 2)");
  CHECK(contains(thrown_message<TypeError>([&] { T::squeeze(m, 2); }), "out of range"));
}

TEST_CASE("transpose with axes, and its errors") {
  auto x = T::tensor3("x");
  auto out = run({x}, {T::transpose(x, {1, 2, 0}), T::transpose(x, {-1, 0, 1})}, {range_tensor({2, 3, 4})});
  CHECK(out[0].shape() == Shape{3, 4, 2});
  CHECK(out[0].get({1, 2, 1}) == range_tensor({2, 3, 4}).get({1, 1, 2}));
  CHECK(out[1].shape() == Shape{4, 2, 3});
  check_names(thrown_message<TypeError>([&] { T::transpose(x, {0, 0, 1}); }), "transpose", "not a permutation");
}

TEST_CASE("reshape to a shape vector computed at run time") {
  auto x = T::matrix("x");
  auto like = T::tensor3("like");
  auto s = T::vector("s", int64);
  auto out = run({x, like, s}, {T::reshape(x, like.shape()), T::reshape(x, s, 3)},
                 {range_tensor({2, 6}), random_tensor({3, 2, 2}, 2), Tensor::from_vector(std::vector<std::int64_t>{2, -1, 3}, {3})});
  CHECK(out[0].shape() == Shape{3, 2, 2});
  CHECK(out[1].shape() == Shape{2, 2, 3});
  CHECK(values(out[1]) == values(range_tensor({12})));
  CHECK(T::reshape(x, T::row("r").shape()).broadcastable() == std::vector<bool>{true, false});
  check_names(thrown_message<TypeError>([&] { T::reshape(x, s); }), "reshape", "ndim");
  check_names(thrown_message<TypeError>([&] { T::reshape(x, like.shape(), 2); }), "reshape", "ndim is 2");
}

TEST_CASE("newaxis in an index inserts a broadcastable dim") {
  auto x = T::matrix("x");
  auto v = T::vector("v");
  auto col = v[{T::slice(), newaxis}];
  CHECK(col.broadcastable() == std::vector<bool>{false, true});
  auto out = run({x, v}, {col, x[{newaxis, 1}], x[{T::slice(0, 1), newaxis, T::slice()}], v[{newaxis}] * col},
                 {range_tensor({2, 3}), range_tensor({3})});
  CHECK(out[0].shape() == Shape{3, 1});
  CHECK(out[1].shape() == Shape{1, 3});
  CHECK(values(out[1]) == Values{3, 4, 5});
  CHECK(out[2].shape() == Shape{1, 1, 3});
  CHECK(out[3].shape() == Shape{3, 3});
  CHECK(values(out[3]) == Values{0, 0, 0, 0, 1, 2, 0, 2, 4});
}

// --- repetition and splitting -------------------------------------------------------------------------

TEST_CASE("repeat matches numpy") {
  auto x = T::matrix("x");
  auto r = T::vector("r", int64);
  auto k = int_scalar("k");
  auto out = run({x, r, k}, {T::repeat(x, 2, 0), T::repeat(x, r, 1), T::repeat(x, k), T::repeat(x, r[T::slice(0, 1)], 0)},
                 {range_tensor({2, 3}), Tensor::from_vector(std::vector<std::int64_t>{1, 0, 2}, {3}), I(2)});
  CHECK(values(out[0]) == Values{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  CHECK(out[1].shape() == Shape{2, 3});
  CHECK(values(out[1]) == Values{0, 2, 2, 3, 5, 5});
  CHECK(values(out[2]) == Values{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
  CHECK(out[3].shape() == Shape{2, 3});  // one count for every element
  check_names(thrown_message<ShapeError>([&] {
                run({x, r}, {T::repeat(x, r, 0)}, {range_tensor({2, 3}), Tensor::from_vector(std::vector<std::int64_t>{1, 0, 2}, {3})});
              }),
              "repeat", "3 counts");
  check_names(thrown_message<ShapeError>([&] { run({x, k}, {T::repeat(x, k, 1)}, {range_tensor({2, 3}), I(-1)}); }),
              "repeat", "negative");
  CHECK(T::repeat(T::row("row"), 1, 0).broadcastable() == std::vector<bool>{true, false});
  CHECK(T::repeat(T::row("row"), 2, 0).broadcastable() == std::vector<bool>{false, false});
}

TEST_CASE("tile matches numpy") {
  auto v = T::vector("v");
  auto x = T::matrix("x");
  auto n = int_scalar("n");
  auto out = run({v, x, n}, {T::tile(v, {2, 2}), T::tile(x, {2, 1, n}), T::tile(v, {n})},
                 {range_tensor({3}), range_tensor({2, 3}), I(2)});
  CHECK(out[0].shape() == Shape{2, 6});
  CHECK(values(out[0]) == Values{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2});
  CHECK(out[1].shape() == Shape{2, 2, 6});
  CHECK(values(out[1]) == Values{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  CHECK(values(out[2]) == Values{0, 1, 2, 0, 1, 2});
  CHECK(T::tile(T::row("r"), {1, 3}).broadcastable() == std::vector<bool>{true, false});
}

TEST_CASE("split makes views that must add up to the axis") {
  auto v = T::vector("v");
  auto sizes = T::vector("sizes", int64);
  auto parts = T::split(v, std::vector<std::int64_t>{2, 3, 2});
  REQUIRE(parts.size() == 3);
  auto out = run({v}, parts, {range_tensor({7})});
  CHECK(values(out[0]) == Values{0, 1});
  CHECK(values(out[1]) == Values{2, 3, 4});
  CHECK(values(out[2]) == Values{5, 6});
  auto x = T::matrix("x");
  auto cols = T::split(x, sizes, 2, 1);
  auto got = run({x, sizes}, cols, {range_tensor({2, 5}), Tensor::from_vector(std::vector<std::int64_t>{4, 1}, {2})});
  CHECK(values(got[1]) == Values{4, 9});
  const auto sizes_of = [](std::vector<std::int64_t> s) { return Tensor::from_vector(s, {static_cast<std::int64_t>(s.size())}); };
  check_names(thrown_message<ShapeError>([&] { run({x, sizes}, cols, {range_tensor({2, 5}), sizes_of({4, 2})}); }),
              "split", "sum to 6");
  check_names(thrown_message<ShapeError>([&] { run({x, sizes}, cols, {range_tensor({2, 5}), sizes_of({5})}); }),
              "split", "n_splits = 2");
  check_names(thrown_message<ShapeError>([&] { run({x, sizes}, cols, {range_tensor({2, 5}), sizes_of({6, -1})}); }),
              "split", "negative");
}

TEST_CASE("roll matches numpy") {
  auto v = T::vector("v");
  auto x = T::matrix("x");
  auto s = int_scalar("s");
  auto out = run({v, x, s}, {T::roll(v, s), T::roll(v, -2), T::roll(x, 1, 1), T::roll(x, 1), T::roll(x, 7, 0), T::roll(v, 0)},
                 {range_tensor({10}), range_tensor({2, 3}), I(2)});
  CHECK(values(out[0]) == Values{8, 9, 0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(values(out[1]) == Values{2, 3, 4, 5, 6, 7, 8, 9, 0, 1});
  CHECK(values(out[2]) == Values{2, 0, 1, 5, 3, 4});
  CHECK(out[3].shape() == Shape{2, 3});
  CHECK(values(out[3]) == Values{5, 0, 1, 2, 3, 4});
  CHECK(values(out[4]) == Values{3, 4, 5, 0, 1, 2});
  CHECK(values(out[5]) == values(range_tensor({10})));
  // An empty axis rolls to itself.
  CHECK(run({v, s}, {T::roll(v, s)}, {Tensor::empty({0}, float64), I(3)})[0].size() == 0);
}

// --- selection ------------------------------------------------------------------------------------------

TEST_CASE("take matches numpy, with negative indices and without an axis") {
  auto x = T::matrix("x");
  auto i = T::vector("i", int64);
  auto ij = T::matrix("ij", int64);
  auto k = int_scalar("k");
  auto out = run({x, i, ij, k}, {T::take(x, i), T::take(x, ij, 1), T::take(x, k, 1), T::take(x, i, -2)},
                 {range_tensor({2, 3}), Tensor::from_vector(std::vector<std::int64_t>{0, -1, 1}, {3}),
                  Tensor::from_vector(std::vector<std::int64_t>{2, 0}, {1, 2}), I(1)});
  CHECK(values(out[0]) == Values{0, 5, 1});
  CHECK(out[1].shape() == Shape{2, 1, 2});
  CHECK(values(out[1]) == Values{2, 0, 5, 3});
  CHECK(values(out[2]) == Values{1, 4});
  CHECK(values(out[3]) == Values{0, 1, 2, 3, 4, 5, 3, 4, 5});
  CHECK(contains(thrown_message<ShapeError>([&] {
                   run({x, i}, {T::take(x, i)}, {range_tensor({2, 3}), Tensor::from_vector(std::vector<std::int64_t>{6}, {1})});
                 }),
                 "out of bounds"));
}

TEST_CASE("where is switch") {
  auto c = T::vector("c", bool_);
  auto a = T::vector("a");
  auto out = run({c, a}, {T::where(c, a, 0)},
                 {Tensor::from_vector(std::vector<double>{1, 0, 1}, {3}).astype(bool_), tensor_of({1, 2, 3}, {3})});
  CHECK(values(out[0]) == Values{1, 0, 3});
}

// --- broadcast patterns ------------------------------------------------------------------------------------

TEST_CASE("addbroadcast, unbroadcast and patternbroadcast set the pattern and check it at run time") {
  auto x = T::matrix("x");
  auto b = T::addbroadcast(x, 0);
  CHECK(b.broadcastable() == std::vector<bool>{true, false});
  CHECK(T::unbroadcast(b, {0, 1}).broadcastable() == std::vector<bool>{false, false});
  CHECK(T::patternbroadcast(x, {false, true}).broadcastable() == std::vector<bool>{false, true});
  auto r = T::row("r");
  CHECK(T::addbroadcast(r, 0).node() == r.node());  // already broadcastable: x itself
  // A declared-broadcastable row then broadcasts against a matrix in a fused kernel.
  auto m = T::matrix("m");
  auto out = run({x, m}, {b + m}, {range_tensor({1, 3}), random_tensor({4, 3}, 3)})[0];
  CHECK(out.shape() == Shape{4, 3});
  check_names(thrown_message<ShapeError>([&] { run({x, m}, {b + m}, {range_tensor({2, 3}), random_tensor({2, 3}, 3)}); }),
              "rebroadcast", "declared broadcastable but has length 2");
  CHECK(contains(thrown_message<TypeError>([&] { T::addbroadcast(x, 2); }), "out of range"));
  CHECK(contains(thrown_message<TypeError>([&] { T::patternbroadcast(x, {true}); }), "2 dimensions"));
}

// Theano's broadcasting tutorial (docs 0.9, tutorial/broadcasting.html) adds a
// row r to a matrix: f_row(arange(3).reshape(1, 3), arange(9).reshape(3, 3))
// prints [[0, 2, 4], [3, 5, 7], [6, 8, 10]]. The same with a matrix declared a row.
TEST_CASE("the broadcasting tutorial's row, declared with addbroadcast") {
  auto r = T::addbroadcast(T::matrix("r"), 0);
  CHECK(r.broadcastable() == T::row().broadcastable());
  auto mtr = T::matrix("mtr");
  auto out = run({Variable(r.node()->inputs[0]), mtr}, {r + mtr}, {range_tensor({1, 3}), range_tensor({3, 3})})[0];
  CHECK(values(out) == Values{0, 2, 4, 3, 5, 7, 6, 8, 10});
}

// --- compiled against the reference on random inputs, strided views and broadcasting ----------------------------

TEST_CASE("compiled results equal the reference on strided views and broadcast inputs") {
  const Tensor base = random_tensor({6, 8}, 11);
  const Tensor strided = base.slice(0, 0, 6, 2).slice(1, 1, 8, 3);  // (3, 3), non-contiguous
  const Tensor transposed = random_tensor({4, 3}, 12).transpose();  // (3, 4)
  for (const Tensor& input : {strided, transposed}) {
    auto x = T::matrix("x");
    auto r = T::row("r");
    const Shape s = input.shape();
    const std::vector<Variable> outputs{T::repeat(x * 2, 3, 1), T::repeat(x, 2), T::tile(x + r[{T::slice(), T::slice(0, s[1])}], {2, 2}),
         T::split(x, std::vector<std::int64_t>{1, s[0] - 1}, 0)[1] * 3, T::roll(x, 2, 1) + 1, T::roll(x.T(), -5),
         T::take(x, T::arange(s[1]) - 1, 1), T::alloc(r[{T::slice(), T::slice(0, s[1])}], {2, s[0], s[1]}) + x,
         T::squeeze(T::addbroadcast(x[T::slice(0, 1)], 0)) * 2, T::transpose(x[{newaxis}], {2, 0, 1}) - r.sum(),
         T::eye(s[0], s[1], 1) * x, T::reshape(x, T::shape(x.T())) * 1};
    const auto want = run({x, r}, outputs, {input, random_tensor({1, 8}, 13)});
    // Mode::debug compares every native kernel's result with its reference kernel.
    const auto debug = function({x, r}, outputs, {.mode = Mode::debug})(input, random_tensor({1, 8}, 13));
    for (std::size_t o = 0; o < want.size(); ++o) check_same_result(want[o], debug[o], "debug output " + std::to_string(o));
  }
}

TEST_CASE("every shape op of issue 8 has a compiled implementation") {
  for (ir::OpCode op : {ir::OpCode::Eye, ir::OpCode::Repeat, ir::OpCode::SplitPart, ir::OpCode::Rebroadcast}) {
    INFO(ir::op_info(op).name);
    CHECK(static_cast<bool>(ir::op_info(op).native));
  }
  CHECK(ir::op_info(ir::OpCode::SplitPart).view_of == 0);
  CHECK(ir::op_info(ir::OpCode::Rebroadcast).view_of == 0);
}

// --- gradients --------------------------------------------------------------------------------------------------

TEST_CASE("gradients of alloc, repeat, tile, split and roll") {
  for (const Shape& shape : {Shape{3}, Shape{2, 3}, Shape{3, 1, 2}}) {
    INFO(shape_str(shape));
    const Tensor p = random_tensor(shape, 21);
    verify_grad([](const auto& in) { return T::repeat(in[0], 3, 0); }, {p});
    verify_grad([](const auto& in) { return T::repeat(in[0], 2); }, {p});
    verify_grad([&](const auto& in) {
      std::vector<std::int64_t> counts(static_cast<std::size_t>(shape.back()), 0);
      for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = static_cast<std::int64_t>(i % 3);
      return T::repeat(in[0], constant(Tensor::from_vector(counts, {static_cast<std::int64_t>(counts.size())})), -1);
    }, {p});
    verify_grad([](const auto& in) { return T::tile(in[0], {2, 1, 3}); }, {p});
    verify_grad([](const auto& in) { return T::roll(in[0], 1, 0) * T::roll(in[0], -4); }, {p});
    verify_grad([&](const auto& in) {
      auto parts = T::split(in[0], std::vector<std::int64_t>{1, shape[0] - 1}, 0);
      return T::sqr(parts[1]).sum() + parts[0].sum() * 2;
    }, {p});
    verify_grad([&](const auto& in) { return T::alloc(in[0], {2, 1, 3}); }, {random_tensor({1, 3}, 22)});
  }
  // A broadcastable value: its gradient sums over the dims it stretched along.
  verify_grad([](const auto& in) { return T::alloc(T::addbroadcast(in[0], 0), {2, 4, 3}); }, {random_tensor({1, 3}, 23)});
  verify_grad([](const auto& in) { return T::alloc(in[0], {2, 3}); }, {Tensor::scalar(0.4)});
}

TEST_CASE("gradients of take, squeeze, transpose, reshape, newaxis and the broadcast patterns") {
  const Tensor p = random_tensor({3, 4}, 31);
  const Tensor idx = Tensor::from_vector(std::vector<std::int64_t>{0, -1, 2, 0}, {4});
  verify_grad([&](const auto& in) { return T::take(in[0], constant(idx)); }, {p});
  verify_grad([&](const auto& in) { return T::take(in[0], constant(idx), 1) * 2; }, {p});
  verify_grad([](const auto& in) { return T::transpose(in[0][{newaxis}], {1, 2, 0}); }, {p});
  verify_grad([](const auto& in) { return T::reshape(in[0], T::shape(in[0].T())); }, {p});
  verify_grad([](const auto& in) { return T::squeeze(in[0], 0) * 3; }, {random_tensor({1, 4}, 32)});
  verify_grad([](const auto& in) { return T::addbroadcast(in[0], 0) * in[1]; }, {random_tensor({1, 4}, 33), p});
  verify_grad([](const auto& in) { return T::unbroadcast(T::addbroadcast(in[0], 1), 1) + in[0]; },
              {random_tensor({3, 1}, 34)});
}

TEST_CASE("Rop of the linear shape ops") {
  auto x = T::matrix("x");
  auto vx = T::matrix("vx");
  auto y = T::repeat(x, 2, 0).sum() + T::split(x, std::vector<std::int64_t>{1, 1}, 0)[1].sum() +
           T::addbroadcast(x[T::slice(0, 1)], 0).sum();
  auto jv = Rop(y, {x}, {vx});
  // 2 * sum(v) + sum(v[1]) + sum(v[0]) = 2 * 15 + 12 + 3 (x itself is not needed: the ops are linear)
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    auto f = function({x, vx}, {jv}, {.on_unused_input = OnUnusedInput::ignore, .mode = mode});
    CHECK(f(random_tensor({2, 3}, 41), range_tensor({2, 3}))[0].item<double>() == doctest::Approx(45.0));
  }
}
