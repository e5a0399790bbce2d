// Indexing: basic (integers and slices, views), advanced (integer arrays),
// set_subtensor / inc_subtensor, their errors and gradients. Expected values
// are numpy's, worked out by hand.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "frontend/ops/op_support.hpp"
#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

namespace {

Variable c(std::int64_t v) { return constant(static_cast<double>(v), int64); }
Variable ints(std::vector<std::int64_t> v, Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<std::int64_t>(v.size())};
  return constant(Tensor::from_vector(v, shape));
}
constexpr std::nullopt_t none = std::nullopt;

}  // namespace

// --- basic indexing ----------------------------------------------------------------------

TEST_CASE("integer indices drop their dim and count negative ones from the end") {
  // x = [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
  auto x = T::matrix("x");
  auto i = T::scalar("i", int8);
  auto out = run({x, i}, {x[1], x[-1], x[{1, 2}], x[{T::slice(), 2}], x[{T::slice(), -1}], x[i], x[{i, -4}]},
                 {range_tensor({3, 4}), std::int64_t{-2}});
  CHECK(out[0].shape() == Shape{4});
  CHECK(values(out[0]) == std::vector<double>{4, 5, 6, 7});
  CHECK(values(out[1]) == std::vector<double>{8, 9, 10, 11});
  CHECK(out[2].ndim() == 0);
  CHECK(out[2].item<double>() == 6);
  CHECK(values(out[3]) == std::vector<double>{2, 6, 10});
  CHECK(values(out[4]) == std::vector<double>{3, 7, 11});
  CHECK(values(out[5]) == std::vector<double>{4, 5, 6, 7});
  CHECK(out[6].item<double>() == 4);
}

TEST_CASE("slices follow numpy: negative bounds and steps, clamping, empty results") {
  auto v = T::vector("v");  // 0 .. 9
  auto out = run({v}, {v[T::slice(c(-3), none)], v[T::slice(none, none, c(-1))], v[T::slice(c(8), c(2), c(-2))],
                       v[T::slice(c(-2), c(-20), c(-3))], v[T::slice(c(3), c(100))], v[T::slice(c(5), c(2))],
                       v[T::slice(c(-100), c(2))], v[T::slice(1, 4)], v[T::slice(none, c(-7), c(2))],
                       v[T::slice(c(100), none, c(-4))]},
                 {range_tensor({10})});
  CHECK(values(out[0]) == std::vector<double>{7, 8, 9});
  CHECK(values(out[1]) == std::vector<double>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  CHECK(values(out[2]) == std::vector<double>{8, 6, 4});
  CHECK(values(out[3]) == std::vector<double>{8, 5, 2});
  CHECK(values(out[4]) == std::vector<double>{3, 4, 5, 6, 7, 8, 9});
  CHECK(out[5].shape() == Shape{0});
  CHECK(values(out[6]) == std::vector<double>{0, 1});
  CHECK(values(out[7]) == std::vector<double>{1, 2, 3});
  CHECK(values(out[8]) == std::vector<double>{0, 2});
  CHECK(values(out[9]) == std::vector<double>{9, 5, 1});
}

TEST_CASE("slices and integers combine over several dims; unindexed dims stay whole") {
  auto t = T::tensor3("t");  // t[i, j, k] = 12 i + 4 j + k
  auto out = run({t}, {t[{1, T::slice(c(2), none, c(-2))}], t[{T::slice(), 0, T::slice(c(1), c(3))}], t[T::slice(1, 2)]},
                 {range_tensor({2, 3, 4})});
  CHECK(out[0].shape() == Shape{2, 4});
  CHECK(values(out[0]) == std::vector<double>{20, 21, 22, 23, 12, 13, 14, 15});
  CHECK(out[1].shape() == Shape{2, 2});
  CHECK(values(out[1]) == std::vector<double>{1, 2, 13, 14});
  CHECK(out[2].shape() == Shape{1, 3, 4});
}

TEST_CASE("slice bounds can be symbolic integers of any dtype") {
  auto v = T::vector("v");
  for (DType dtype : {int8, int16, int32, int64, uint8}) {
    CAPTURE(dtype_name(dtype));
    auto a = T::scalar("a", dtype);
    auto b = T::scalar("b", dtype);
    auto f = function({v, a, b}, {v[T::slice(a, b)], v[T::slice(b, a, c(-1))]}, {.mode = Mode::reference});
    auto out = f(range_tensor({6}), 1, 4);
    CHECK(values(out[0]) == std::vector<double>{1, 2, 3});
    CHECK(values(out[1]) == std::vector<double>{4, 3, 2});
  }
}

TEST_CASE("the type of a slice: a dim stays broadcastable only when taken whole") {
  auto r = T::tensor(float64, {true, false}, "r");
  CHECK(r[T::slice()].broadcastable() == std::vector<bool>{true, false});
  CHECK(r[T::slice(0, 1)].broadcastable() == std::vector<bool>{false, false});
  CHECK(r[{T::slice(), 0}].broadcastable() == std::vector<bool>{true});
}

TEST_CASE("basic indexing returns a view; a slice of a shared variable sees set_value") {
  auto s = shared(range_tensor({4, 2}), "s");
  auto f = function({}, {s[T::slice(1, 3)]}, {.mode = Mode::reference});
  CHECK(values(f()[0]) == std::vector<double>{2, 3, 4, 5});
  Tensor fresh = Tensor::full({3, 2}, 7, float64);
  s.set_value(fresh);
  CHECK(values(f()[0]) == std::vector<double>{7, 7, 7, 7});
  // The function's result is the caller's: it does not alias the shared value.
  CHECK_FALSE(f()[0].shares_storage_with(s.get_value(/*borrow=*/true)));
  // The reference kernel itself is a view.
  auto x = T::matrix("x");
  auto y = x[{T::slice(c(1), none), 1}];
  Tensor value = range_tensor({3, 2});
  Tensor view = ir::op_info(y.node()->op).reference(*y.node(), {value, c(1).node()->value, c(1).node()->value});
  CHECK(view.shares_storage_with(value));
  CHECK(values(view) == std::vector<double>{3, 5});
}

TEST_CASE("the seed's minibatch pattern: givens with train_x[index * size : (index + 1) * size]") {
  auto train_x = shared(range_tensor({10, 3}), "train_x");
  auto train_y = shared(Tensor::arange(10, int32), "train_y");
  auto index = T::scalar("index", int32);
  auto size = T::scalar("size", int32);
  auto x = T::matrix("x");
  auto y = T::vector("y", int32);
  auto batch = T::slice(index * size, (index + 1) * size);
  auto f = function({index, size}, {x * 2, y},
                    {.givens = {{x, train_x[batch]}, {y, train_y[batch]}}, .mode = Mode::reference});
  auto out = f(1, 3);
  CHECK(out[0].shape() == Shape{3, 3});
  CHECK(values(out[0]) == std::vector<double>{18, 20, 22, 24, 26, 28, 30, 32, 34});
  CHECK(out[1].to_vector<std::int32_t>() == std::vector<std::int32_t>{3, 4, 5});
  // One compiled function serves every batch size; the last batch is clamped like numpy's.
  CHECK(f(0, 10)[0].shape() == Shape{10, 3});
  CHECK(f(3, 3)[1].to_vector<std::int32_t>() == std::vector<std::int32_t>{9});
  CHECK(f(5, 3)[0].shape() == Shape{0, 3});
}

TEST_CASE("basic indexing errors name the index, the length and the variable") {
  auto x = T::matrix("x");
  auto f = function({x}, {x[5]}, {.mode = Mode::reference});
  std::string msg = thrown_message<ShapeError>([&] { f(range_tensor({3, 4})); });
  CHECK(contains(msg, "index 5"));
  CHECK(contains(msg, "length 3"));
  CHECK(contains(msg, "'x'"));
  msg = thrown_message<ShapeError>([&] { run({x}, {x[{0, -5}]}, {range_tensor({3, 4})}); });
  CHECK(contains(msg, "index -5"));
  CHECK(contains(msg, "length 4"));
  auto step = T::scalar("step", int64);
  CHECK(contains(thrown_message<ShapeError>([&] { run({x, step}, {x[T::slice(none, none, step)]}, {range_tensor({3, 4}), 0}); }),
                 "step 0"));
}

TEST_CASE("bad indices are type errors at build time") {
  auto x = T::matrix("x");
  auto w = T::scalar("w");
  std::string msg = thrown_message<TypeError>([&] { x[w]; });
  CHECK(contains(msg, "'w'"));
  CHECK(contains(msg, "float64"));
  CHECK(contains(msg, "not an integer"));
  msg = thrown_message<TypeError>([&] { x[T::slice(w, none)]; });
  CHECK(contains(msg, "'w'"));
  CHECK(contains(msg, "slice bound"));
  CHECK(contains(thrown_message<TypeError>([&] { x[{0, 1, 2}]; }), "too many indices"));
  CHECK(contains(thrown_message<TypeError>([&] { x[T::vector("fv")]; }), "'fv'"));
  CHECK(contains(thrown_message<TypeError>([&] { x[T::vector("mask", bool_)]; }), "boolean"));
  CHECK(contains(thrown_message<TypeError>([&] { x[T::slice(T::vector("iv", int64), none)]; }), "must be a scalar"));
  CHECK(contains(thrown_message<TypeError>([&] { x[Variable()]; }), "undefined"));
}

// --- advanced indexing ---------------------------------------------------------------------------

TEST_CASE("an integer vector picks rows, with repeats and negative indices") {
  auto x = T::matrix("x");  // [[0 1 2] [3 4 5] [6 7 8] [9 10 11]]
  auto rows = T::vector("rows", int32);
  auto out = run({x, rows}, {x[rows], x[{T::slice(), rows}]},
                 {range_tensor({4, 3}), Tensor::from_vector<std::int32_t>({2, 0, -1, 2})});
  CHECK(out[0].shape() == Shape{4, 3});
  CHECK(values(out[0]) == std::vector<double>{6, 7, 8, 0, 1, 2, 9, 10, 11, 6, 7, 8});
  CHECK(out[1].shape() == Shape{4, 4});
  CHECK(values(out[1]) == std::vector<double>{2, 0, 2, 2, 5, 3, 5, 5, 8, 6, 8, 8, 11, 9, 11, 11});
}

TEST_CASE("pairs of index arrays pick elements: p[arange(n), y]") {
  auto p = T::matrix("p");  // [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
  auto y = T::vector("y", int32);
  auto picked = p[{T::arange(p.shape(0)), y}];
  CHECK(picked.ndim() == 1);
  auto out = run({p, y}, {picked}, {range_tensor({3, 4}), Tensor::from_vector<std::int32_t>({3, 0, 2})});
  CHECK(values(out[0]) == std::vector<double>{3, 4, 10});
}

TEST_CASE("index arrays broadcast against each other") {
  auto x = T::matrix("x");  // [[0 1 2] [3 4 5] [6 7 8]]
  auto rows = T::arange(3).dimshuffle({0, -1});
  auto cols = ints({0, 2}).dimshuffle({-1, 0});
  auto out = run({x}, {x[{rows, cols}], x[{1, ints({2, 0})}]}, {range_tensor({3, 3})});
  CHECK(out[0].shape() == Shape{3, 2});
  CHECK(values(out[0]) == std::vector<double>{0, 2, 3, 5, 6, 8});
  CHECK(values(out[1]) == std::vector<double>{5, 3});
  CHECK(x[{rows, cols}].broadcastable() == std::vector<bool>{false, false});
  CHECK(x[{ints({1}, {1, 1}), 0}].broadcastable() == std::vector<bool>{true, true});
}

TEST_CASE("index arrays mixed with slices follow numpy's placement of the indexed dims") {
  auto t = T::tensor3("t");  // t[i, j, k] = 12 i + 4 j + k, shape (2, 3, 4)
  auto iv = ints({1, 0});
  auto out = run({t}, {t[{iv, T::slice(), 0}], t[{T::slice(), iv, 1}], t[{T::slice(c(1), none), T::slice(), iv}]},
                 {range_tensor({2, 3, 4})});
  // Indexed dims 0 and 2 are not adjacent: the index's dims come first.
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(values(out[0]) == std::vector<double>{12, 16, 20, 0, 4, 8});
  // Adjacent indexed dims 1 and 2: the index's dims stay in their place.
  CHECK(out[1].shape() == Shape{2, 2});
  CHECK(values(out[1]) == std::vector<double>{5, 1, 17, 13});
  CHECK(out[2].shape() == Shape{1, 3, 2});
  CHECK(values(out[2]) == std::vector<double>{13, 12, 17, 16, 21, 20});
}

TEST_CASE("advanced indexing errors") {
  auto x = T::matrix("x");
  auto rows = T::vector("rows", int64);
  std::string msg = thrown_message<ShapeError>(
      [&] { run({x, rows}, {x[rows]}, {range_tensor({3, 2}), Tensor::from_vector<std::int64_t>({0, 3})}); });
  CHECK(contains(msg, "index 3"));
  CHECK(contains(msg, "length 3"));
  msg = thrown_message<ShapeError>([&] { run({x}, {x[{ints({0, 1, 2}), ints({0, 1})}]}, {range_tensor({3, 2})}); });
  CHECK(contains(msg, "(2,)"));
  CHECK(contains(msg, "broadcast"));
}

// --- set_subtensor and inc_subtensor ----------------------------------------------------------------

TEST_CASE("set_subtensor and inc_subtensor on basic indices return a new tensor") {
  auto x = T::matrix("x");  // [[0 1 2] [3 4 5]]
  auto row = T::vector("row");
  auto s = T::scalar("s");
  auto out = run({x, row, s},
                 {T::set_subtensor(x[1], row), T::inc_subtensor(x[{T::slice(), 0}], s),
                  T::set_subtensor(x[{T::slice(), T::slice(none, none, c(-2))}], s), T::inc_subtensor(x[{0, 1}], s), x},
                 {range_tensor({2, 3}), Tensor::from_vector<double>({7, 8, 9}), 10.0});
  CHECK(values(out[0]) == std::vector<double>{0, 1, 2, 7, 8, 9});
  CHECK(values(out[1]) == std::vector<double>{10, 1, 2, 13, 4, 5});
  CHECK(values(out[2]) == std::vector<double>{10, 1, 10, 10, 4, 10});
  CHECK(values(out[3]) == std::vector<double>{0, 11, 2, 3, 4, 5});
  CHECK(values(out[4]) == std::vector<double>{0, 1, 2, 3, 4, 5});  // x itself is unchanged
}

TEST_CASE("y broadcasts into the region only along its broadcastable dims") {
  auto x = T::matrix("x");
  auto r = T::tensor(float64, {true, false}, "r");
  auto m = T::matrix("m");
  auto out = run({x, r}, {T::inc_subtensor(x[T::slice(0, 2)], r)},
                 {range_tensor({3, 2}), Tensor::from_vector<double>({10, 20}, {1, 2})});
  CHECK(values(out[0]) == std::vector<double>{10, 21, 12, 23, 4, 5});
  // A length-1 value in a dim that is not broadcastable does not stretch (Theano's rule).
  std::string msg = thrown_message<ShapeError>([&] {
    run({x, m}, {T::inc_subtensor(x[T::slice(0, 2)], m)}, {range_tensor({3, 2}), Tensor::from_vector<double>({1, 2}, {1, 2})});
  });
  CHECK(contains(msg, "'m'"));
  CHECK(contains(msg, "(1, 2)"));
  CHECK(contains(msg, "(2, 2)"));
}

TEST_CASE("set_subtensor and inc_subtensor with index arrays; inc accumulates repeats") {
  auto v = T::vector("v");  // 0 1 2 3
  auto x = T::matrix("x");  // [[0 1 2] [3 4 5] [6 7 8]]
  auto idx = ints({0, 2, 0});
  auto out = run({v, x},
                 {T::inc_subtensor(v[idx], constant(1, float64)), T::set_subtensor(v[idx], ints({5, 6, 7}).astype(float64)),
                  T::set_subtensor(x[{ints({0, 1, 2}), ints({2, 1, 0})}], constant(-1, float64)),
                  T::inc_subtensor(x[{T::slice(), ints({1, 1})}], ints({1, 2}).astype(float64))},
                 {range_tensor({4}), range_tensor({3, 3})});
  CHECK(values(out[0]) == std::vector<double>{2, 1, 3, 3});
  CHECK(values(out[1]) == std::vector<double>{7, 1, 6, 3});  // the last write of a repeated index wins
  CHECK(values(out[2]) == std::vector<double>{0, 1, -1, 3, -1, 5, -1, 7, 8});
  CHECK(values(out[3]) == std::vector<double>{0, 4, 2, 3, 7, 5, 6, 10, 8});
}

TEST_CASE("inc_subtensor converts y to x's dtype and keeps integers exact") {
  auto x = T::vector("x", int64);
  auto y = T::vector("y", int32);
  const std::int64_t big = (std::int64_t{1} << 60) + 1;
  auto out = run({x, y}, {T::inc_subtensor(x[ints({1})], y)},
                 {Tensor::from_vector<std::int64_t>({5, big}), Tensor::from_vector<std::int32_t>({2}, {1})});
  CHECK(out[0].dtype() == int64);
  CHECK(out[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{5, big + 2});
}

TEST_CASE("set_subtensor and inc_subtensor usage errors") {
  auto x = T::matrix("x");
  auto y = T::vector("y");
  std::string msg = thrown_message<TypeError>([&] { T::set_subtensor(x, y); });
  CHECK(contains(msg, "set_subtensor(x[index], y)"));
  CHECK(contains(msg, "'x'"));
  CHECK(contains(thrown_message<TypeError>([&] { T::inc_subtensor(x[0], T::matrix("big")); }), "'big'"));
  auto xi = T::matrix("xi", int32);
  CHECK(contains(thrown_message<TypeError>([&] { T::inc_subtensor(xi[0], y); }), "cast y"));
  CHECK_THROWS_AS(T::inc_subtensor((x + 1)[0] * 2, y), TypeError);
}

// --- gradients ---------------------------------------------------------------------------------------

TEST_CASE("basic subtensor gradients") {
  for (Shape shape : {Shape{4, 3}, Shape{5, 2}, Shape{3, 1}}) {
    CAPTURE(shape_str(shape));
    verify_grad([](const auto& in) { return in[0][T::slice(1, 3)]; }, {random_tensor(shape, 1)});
    verify_grad([](const auto& in) { return T::sqr(in[0][{T::slice(), -1}]); }, {random_tensor(shape, 2)});
    verify_grad([](const auto& in) { return in[0][{1, T::slice(c(3), none, c(-1))}] * 3; }, {random_tensor(shape, 3)});
    verify_grad([](const auto& in) { return in[0][{-1, 0}]; }, {random_tensor(shape, 4)});
  }
}

TEST_CASE("advanced subtensor gradients accumulate over repeated indices") {
  verify_grad([](const auto& in) { return in[0][ints({2, 0, 2})]; }, {random_tensor({4, 3}, 5)});
  verify_grad([](const auto& in) { return T::sqr(in[0][{ints({0, 1, 2, 1}), ints({2, 1, 0, 1})}]); },
              {random_tensor({3, 3}, 6)});
  verify_grad([](const auto& in) { return in[0][{T::slice(c(1), none), ints({0, 0})}]; }, {random_tensor({3, 2}, 7)});
  // The log-likelihood idiom, -mean(log(p)[arange(n), y]), on p in [0.5, 1.5) where log is smooth.
  verify_grad([](const auto& in) { return -T::mean(T::log(in[0])[{T::arange(in[0].shape(0)), ints({1, 0, 1})}]); },
              {random_tensor({3, 2}, 8, float64, 0.5)});
}

TEST_CASE("set_subtensor and inc_subtensor gradients for x and y") {
  for (Shape shape : {Shape{4, 3}, Shape{3, 3}}) {
    CAPTURE(shape_str(shape));
    verify_grad([](const auto& in) { return T::sqr(T::set_subtensor(in[0][T::slice(1, 3)], in[1])); },
                {random_tensor(shape, 9), random_tensor({2, shape[1]}, 10)});
    verify_grad([](const auto& in) { return T::sqr(T::inc_subtensor(in[0][{T::slice(), 1}], in[1])); },
                {random_tensor(shape, 11), random_tensor({shape[0]}, 12)});
    // A scalar y is broadcast over the region: its gradient sums over it.
    verify_grad([](const auto& in) { return T::sqr(T::inc_subtensor(in[0][T::slice(0, 2)], in[1])); },
                {random_tensor(shape, 13), Tensor::scalar(0.3)});
    verify_grad([](const auto& in) { return T::sqr(T::set_subtensor(in[0][{T::slice(), T::slice(0, 2)}], in[1])); },
                {random_tensor(shape, 14), Tensor::scalar(0.3)});
  }
  verify_grad([](const auto& in) { return T::sqr(T::inc_subtensor(in[0][ints({0, 2, 0})], in[1])); },
              {random_tensor({3, 2}, 15), random_tensor({3, 2}, 16)});
  verify_grad([](const auto& in) { return T::sqr(T::set_subtensor(in[0][{ints({0, 1}), ints({1, 0})}], in[1])); },
              {random_tensor({2, 2}, 17), random_tensor({2}, 18)});
  verify_grad([](const auto& in) { return T::inc_subtensor(in[0][{ints({0, 1, 0}), 1}], in[1]) * 2; },
              {random_tensor({2, 3}, 19), Tensor::scalar(0.1)});
}
