// Canonicalize: each rule fires on its pattern, leaves look-alikes alone, and
// the rewritten graph gives the reference evaluator's results.
#include "test_passes_support.hpp"

using namespace graphjit;
using namespace graphjit::testing;
namespace passes = graphjit::compiler::passes;

namespace {
Graph canonical(const std::vector<Variable>& outputs, const InputValues& inputs, double rtol = 0) {
  return rewrite_and_check(passes::canonicalize, outputs, inputs, rtol);
}
}  // namespace

TEST_CASE("x * 1, 1 * x, x + 0, 0 + x, x - 0 and x / 1 become x") {
  auto x = T::matrix("x");
  const InputValues in{{x, uniform({3, 4}, -2, 2)}};
  for (const Variable& y : {x * 1, 1.0 * x, x + 0, 0 + x, x - 0.0, x / 1}) {
    const Graph after = canonical({y}, in);
    CHECK(after[0] == x.node());
  }
}

TEST_CASE("identities keep the result's dtype: an int times 1.0 becomes a cast") {
  auto i = T::vector("i", int32);
  const Graph after = canonical({i * 1.0, i / 1}, {{i, Tensor::from_vector<std::int32_t>({-3, 0, 7})}});
  for (const ir::NodeRef& out : after) {
    REQUIRE(out->op == OpCode::Cast);
    CHECK(out->inputs[0] == i.node());
    CHECK(out->type.dtype == float64);
  }
}

TEST_CASE("an identity is not applied where it would change the broadcast shape") {
  auto row = T::tensor(float64, {true, false}, "row");
  auto ones = constant(Tensor::full({3, 4}, 1.0, float64));  // not a one-element constant
  const Graph after = canonical({row * ones}, {{row, uniform({1, 4}, -1, 1)}});
  CHECK(after[0]->op == OpCode::Mul);
}

TEST_CASE("0 - x, x * -1 and -(-x) are negations; integers are left alone") {
  auto x = T::vector("x");
  const InputValues in{{x, uniform({5}, -2, 2)}};
  CHECK(canonical({0.0 - x}, in)[0]->op == OpCode::Neg);
  CHECK(canonical({x * -1.0}, in)[0]->op == OpCode::Neg);
  CHECK(canonical({-1.0 * x}, in)[0]->op == OpCode::Neg);
  CHECK(canonical({-(-x)}, in)[0] == x.node());
  // int8: -(-(-128)) saturates, so the rewrite would not be exact.
  auto i = T::vector("i", int8);
  const Graph ints = canonical({-(-i)}, {{i, Tensor::from_vector<std::int8_t>({-128, 5})}});
  CHECK(count_op(ints, OpCode::Neg) == 2);
}

TEST_CASE("a + (-b) and (-b) + a become a - b; a - (-b) becomes a + b") {
  auto a = T::matrix("a");
  auto b = T::matrix("b");
  const InputValues in{{a, uniform({2, 3}, -2, 2, 1)}, {b, uniform({2, 3}, -2, 2, 2)}};
  for (const Variable& y : {a + (-b), (-b) + a}) {
    const Graph after = canonical({y}, in);
    REQUIRE(after[0]->op == OpCode::Sub);
    CHECK(after[0]->inputs[0] == a.node());
    CHECK(after[0]->inputs[1] == b.node());
  }
  const Graph plus = canonical({a - (-b)}, in);
  CHECK(plus[0]->op == OpCode::Add);
  CHECK(count_op(plus, OpCode::Neg) == 0);
}

TEST_CASE("x * x and pow(x, 2) become sqr(x); pow(x, 1) becomes x") {
  auto x = T::vector("x");
  const InputValues in{{x, uniform({6}, -3, 3)}};
  CHECK(canonical({x * x}, in)[0]->op == OpCode::Sqr);
  CHECK(canonical({T::pow(x, constant(2.0, float64))}, in, 1e-15)[0]->op == OpCode::Sqr);
  CHECK(canonical({T::pow(x, constant(1.0, float64))}, in)[0] == x.node());
  // A float32 base with a float64 exponent is squared in float64, as pow does.
  auto f = T::vector("f", float32);
  const Graph mixed = canonical({T::pow(f, constant(2.0, float64))}, {{f, uniform({6}, -3, 3, 1, float32)}});
  REQUIRE(mixed[0]->op == OpCode::Sqr);
  CHECK(mixed[0]->inputs[0]->op == OpCode::Cast);
  // Different operands: still a product.
  CHECK(canonical({x * T::exp(x)}, in)[0]->op == OpCode::Mul);
}

TEST_CASE("a dimshuffle of a dimshuffle is one dimshuffle; a double transpose is nothing") {
  auto x = T::matrix("x");
  const InputValues in{{x, uniform({3, 4}, -1, 1)}};
  CHECK(canonical({x.T().T()}, in)[0] == x.node());
  auto chain = x.dimshuffle({1, -1, 0}).dimshuffle({2, 1, 0});  // (4, 1, 3) -> (3, 1, 4)
  const Graph after = canonical({chain}, in);
  REQUIRE(after[0]->op == OpCode::DimShuffle);
  CHECK(after[0]->inputs[0] == x.node());
  CHECK(after[0]->attrs.ints == std::vector<std::int64_t>{0, -1, 1});
  // Dropping an inserted dim again gives back x.
  CHECK(canonical({x.dimshuffle({-1, 0, 1}).dimshuffle({1, 2})}, in)[0] == x.node());
}

TEST_CASE("an identity dimshuffle or cast built directly is nothing") {
  // The builders never make these; rewrites and code building nodes directly can.
  auto x = T::matrix("x");
  ir::Attrs identity;
  identity.ints = {0, 1};
  ir::Attrs same_dtype;
  same_dtype.dtype = float64;
  const Variable shuffled(ir::make(OpCode::DimShuffle, {x.node()}, identity));
  const Variable cast(ir::make(OpCode::Cast, {x.node()}, same_dtype));
  const Graph after = canonical({shuffled, cast}, {{x, uniform({2, 3}, -1, 1)}});
  CHECK(after[0] == x.node());
  CHECK(after[1] == x.node());
}

TEST_CASE("casts to the same dtype go; a cast of a lossless cast is one cast") {
  auto i = T::vector("i", int32);
  const InputValues in{{i, Tensor::from_vector<std::int32_t>({-2147483647, 0, 123456789})}};
  const Graph widened = canonical({T::cast(T::cast(i, int64), float64)}, in);
  REQUIRE(widened[0]->op == OpCode::Cast);
  CHECK(widened[0]->inputs[0] == i.node());
  CHECK(canonical({T::cast(T::cast(i, float64), int32)}, in)[0] == i.node());
  // int32 -> float32 rounds large values, so both casts stay.
  const Graph lossy = canonical({T::cast(T::cast(i, float32), int32)}, in);
  CHECK(count_op(lossy, OpCode::Cast) == 2);
  // float -> bool -> float is not the identity either.
  auto x = T::vector("x");
  CHECK(count_op(canonical({T::cast(T::cast(x, bool_), float64)}, {{x, uniform({4}, -1, 1)}}), OpCode::Cast) == 2);
}

TEST_CASE("reshaping to the value's own shape is nothing; a reshape of a reshape is one reshape") {
  auto x = T::matrix("x");
  const InputValues in{{x, uniform({3, 4}, -1, 1)}};
  CHECK(canonical({x.reshape({x.shape(0), x.shape(1)})}, in)[0] == x.node());
  // Other dims than the value's own stay.
  CHECK(canonical({x.reshape({x.shape(1), x.shape(0)})}, in)[0]->op == OpCode::Reshape);
  auto twice = x.reshape(std::vector<std::int64_t>{12}).reshape(std::vector<std::int64_t>{2, 6});
  const Graph after = canonical({twice}, in);
  CHECK(count_op(after, OpCode::Reshape) == 1);
  CHECK(after[0]->inputs[0] == x.node());
  // A broadcastable dim is the constant 1.
  auto row = T::tensor(float64, {true, false}, "row");
  auto same_row = row.reshape({constant(1, int64), row.shape(1)});
  CHECK(canonical({same_row}, {{row, uniform({1, 5}, -1, 1)}})[0] == row.node());
}

TEST_CASE("a sum over dims a dimshuffle inserted skips them") {
  auto v = T::vector("v");
  const InputValues in{{v, uniform({5}, -1, 1)}};
  auto as_row = v.dimshuffle({-1, 0});
  // Summing the inserted dim only: v itself.
  CHECK(canonical({T::sum(as_row, std::vector<int>{0})}, in, 1e-15)[0] == v.node());
  // Summing both dims: a sum of v.
  const Graph all = canonical({T::sum(as_row)}, in, 1e-15);
  REQUIRE(all[0]->op == OpCode::Sum);
  CHECK(all[0]->inputs[0] == v.node());
  // keepdims keeps the length-1 dim: the dimshuffle stays, the sum goes.
  const Graph kept = canonical({T::sum(as_row, std::vector<int>{0}, true)}, in, 1e-15);
  CHECK(kept[0] == as_row.node());
  // Summing the real dim only: untouched.
  CHECK(canonical({T::sum(as_row, std::vector<int>{1})}, in, 1e-15)[0]->op == OpCode::Sum);
  // An integer sum is int64: the rewrite keeps that with a cast.
  auto i = T::vector("i", int32);
  const Graph ints = canonical({T::sum(i.dimshuffle({0, -1}), std::vector<int>{1})},
                               {{i, Tensor::from_vector<std::int32_t>({4, -5})}});
  REQUIRE(ints[0]->op == OpCode::Cast);
  CHECK(ints[0]->type.dtype == int64);
}

TEST_CASE("max, min and prod over length-1 dims skip them; argmax does not") {
  auto row = T::tensor(float64, {true, false}, "row");
  const InputValues in{{row, uniform({1, 5}, -1, 1)}};
  for (auto reduce : {T::max, T::min, T::prod}) {
    const Graph after = canonical({reduce(row, std::vector<int>{0}, false, std::source_location::current())}, in);
    REQUIRE(after[0]->op == OpCode::DimShuffle);
    CHECK(after[0]->inputs[0] == row.node());
  }
  // argmax over a length-1 dim is 0, not the element.
  CHECK(canonical({T::argmax(row, 0)}, in)[0]->op == OpCode::Argmax);
}

TEST_CASE("a keepdims reduction whose kept dims a dimshuffle drops becomes a plain reduction") {
  auto m = T::matrix("m");
  const InputValues in{{m, uniform({3, 4}, -1, 1)}};
  // What Theano's gradients build: sum(g, axis 0, keepdims) then drop the dim.
  auto kept = T::sum(m, std::vector<int>{0}, true);
  const Graph after = canonical({kept.dimshuffle({1})}, in);
  REQUIRE(after[0]->op == OpCode::Sum);
  CHECK(!after[0]->attrs.keepdims);
  CHECK(after[0]->inputs[0] == m.node());
  // When the keepdims sum is used elsewhere too, it is not computed twice.
  const Graph shared_sum = canonical({kept.dimshuffle({1}), kept * 2}, in);
  CHECK(count_op(shared_sum, OpCode::Sum) == 1);
}

TEST_CASE("lengths are read from the inputs the value is computed from") {
  auto x = T::matrix("x");
  auto w = T::matrix("w");
  auto v = T::vector("v");
  auto y = T::vector("y", int32);
  const InputValues in{{x, uniform({3, 4}, -1, 1, 1)}, {w, uniform({4, 5}, -1, 1, 2)}, {v, uniform({4}, -1, 1, 3)},
                  {y, labels(3, 6, 4, int32)}};
  struct Case {
    Variable length;
    Variable from;
    std::int64_t axis;
  };
  const std::vector<Case> cases{
      {T::tanh(x * 2 + v).shape(1), x, 1},               // elementwise: the first input not broadcast there
      {T::exp(x).T().shape(0), x, 1},                    // dimshuffle
      {T::dot(T::tanh(x), w).shape(1), w, 1},            // dot: b's columns
      {T::dot(x, w).shape(0), x, 0},                     // dot: a's rows
      {T::softmax(x).shape(0), x, 0},                    // softmax
      {T::sum(T::exp(x), std::vector<int>{0}).shape(0), x, 1},  // reduction: the surviving dim
      {T::extra_ops::to_one_hot(y, 6).shape(0), y, 0},   // one_hot rows
  };
  for (const Case& c : cases) {
    const Graph after = canonical({c.length}, in);
    REQUIRE(after[0]->op == OpCode::ShapeI);
    CHECK(after[0]->inputs[0] == c.from.node());
    CHECK(after[0]->attrs.ints == std::vector<std::int64_t>{c.axis});
  }
  // Known lengths become constants: a broadcast dim, one_hot's classes, an alloc's dim.
  for (const Variable& one : {x.dimshuffle({0, -1, 1}).shape(1), T::extra_ops::to_one_hot(y, 6).shape(1),
                              T::zeros_like(v.dimshuffle({-1, 0})).shape(0)}) {
    const Graph after = canonical({one}, in);
    REQUIRE(after[0]->op == OpCode::Constant);
  }
  // A reshape to the shape of an expression of x is a reshape to x's shape.
  auto same = x.reshape({T::exp(x).shape(0), (x + 1).shape(1)});
  CHECK(canonical({same}, in)[0] == x.node());
}

TEST_CASE("the rules compose: a gradient-like expression loses its identities") {
  auto x = T::matrix("x");
  auto z = ((x * 1.0).T().T() + (-(x / 1))) * 1.0;  // x - x, not simplified further (inf - inf is nan)
  const Graph after = canonical({z}, {{x, uniform({3, 2}, -1, 1)}});
  REQUIRE(after[0]->op == OpCode::Sub);
  CHECK(after[0]->inputs[0] == x.node());
  CHECK(after[0]->inputs[1] == x.node());
}
