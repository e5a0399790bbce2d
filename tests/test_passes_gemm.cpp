// Gemm insertion: products that are added, subtracted or scaled become one
// Gemm with the right alpha, beta and trans flags, and give the reference's
// results (to rounding: BLAS accumulates in its own order).
#include "test_passes_support.hpp"

using namespace graphjit;
using namespace graphjit::testing;
namespace passes = graphjit::compiler::passes;

namespace {

Graph gemms(const std::vector<Variable>& outputs, const InputValues& inputs, double rtol = 1e-12) {
  return rewrite_and_check(passes::insert_gemm, outputs, inputs, rtol);
}

// The one Gemm at the root, checked for its operands and attrs.
void check_gemm(const ir::NodeRef& n, const Variable& a, const Variable& b, double alpha, double beta,
                bool trans_a = false, bool trans_b = false) {
  REQUIRE(n->op == OpCode::Gemm);
  CHECK(n->inputs[0] == a.node());
  CHECK(n->inputs[1] == b.node());
  CHECK(n->attrs.alpha == alpha);
  CHECK(n->attrs.beta == beta);
  CHECK(n->attrs.trans_a == trans_a);
  CHECK(n->attrs.trans_b == trans_b);
}

}  // namespace

TEST_CASE("dot(a, b) plus or minus a matrix is one gemm") {
  auto a = T::matrix("a");
  auto b = T::matrix("b");
  auto c = T::matrix("c");
  const InputValues in{{a, uniform({3, 4}, -1, 1, 1)}, {b, uniform({4, 5}, -1, 1, 2)}, {c, uniform({3, 5}, -1, 1, 3)}};
  const Graph sum = gemms({T::dot(a, b) + c, c + T::dot(a, b)}, in);
  for (const ir::NodeRef& n : sum) {
    check_gemm(n, a, b, 1, 1);
    CHECK(n->inputs[2] == c.node());
  }
  check_gemm(gemms({T::dot(a, b) - c}, in)[0], a, b, 1, -1);
  check_gemm(gemms({c - T::dot(a, b)}, in)[0], a, b, -1, 1);
}

TEST_CASE("dot(x, W) + b with a bias row stays a dot and an addition, for fusion with what reads it") {
  auto x = T::matrix("x");
  auto w = T::matrix("w");
  auto bias = T::vector("bias");
  const Graph after = gemms({T::dot(x, w) + bias}, {{x, uniform({6, 3}, -1, 1, 1)}, {w, uniform({3, 4}, -1, 1, 2)},
                                                    {bias, uniform({4}, -1, 1, 3)}});
  REQUIRE(after[0]->op == OpCode::Add);
  CHECK(count_op(after, OpCode::Gemm) == 0);
  CHECK(count_op(after, OpCode::Dot) == 1);
  CHECK(count_op(after, OpCode::Alloc) == 0);  // no broadcast copy of the bias
}

TEST_CASE("the SGD step W - lr * dot(x.T, g) is one gemm updating W") {
  auto x = T::matrix("x");
  auto g = T::matrix("g");
  auto w = T::matrix("W");
  const Graph after = gemms({w - 0.1 * T::dot(x.T(), g)}, {{x, uniform({5, 3}, -1, 1, 1)},
                                                          {g, uniform({5, 4}, -1, 1, 2)},
                                                          {w, uniform({3, 4}, -1, 1, 3)}});
  check_gemm(after[0], x, g, -0.1, 1, /*trans_a=*/true);
  CHECK(after[0]->inputs[2] == w.node());
  CHECK(count_op(after, OpCode::Alloc) == 0);  // the placeholder c of the scaled product is gone
}

TEST_CASE("scaled, negated and transposed products become gemms with beta 0") {
  // Random operands of three different lengths, so a transpose flag that is
  // wrong gives the wrong shape or the wrong values, never the right ones.
  auto a = T::matrix("a");
  auto b = T::matrix("b");
  const InputValues in{{a, uniform({4, 3}, -1, 1, 1)}, {b, uniform({3, 5}, -1, 1, 2)}};
  check_gemm(gemms({2.5 * T::dot(a, b)}, in)[0], a, b, 2.5, 0);
  check_gemm(gemms({T::dot(a, b) * 2.5}, in)[0], a, b, 2.5, 0);
  check_gemm(gemms({-T::dot(a, b)}, in)[0], a, b, -1, 0);
  const InputValues b_transposed{{a, uniform({4, 3}, -1, 1, 1)}, {b, uniform({5, 3}, -1, 1, 2)}};
  check_gemm(gemms({2 * T::dot(a, b.T())}, b_transposed)[0], a, b, 2, 0, false, true);
  const InputValues a_transposed{{a, uniform({3, 4}, -1, 1, 1)}, {b, uniform({3, 5}, -1, 1, 2)}};
  check_gemm(gemms({2 * T::dot(a.T(), b)}, a_transposed)[0], a, b, 2, 0, true, false);
  const InputValues both{{a, uniform({3, 4}, -1, 1, 1)}, {b, uniform({5, 3}, -1, 1, 2)}};
  check_gemm(gemms({T::dot(a.T(), b.T())}, both)[0], a, b, 1, 0, true, true);
  // A plain product stays a dot: a gemm would only add a c to fill.
  CHECK(gemms({T::dot(a, b)}, in)[0]->op == OpCode::Dot);
  // Compiled: BLAS gets the flags and leading dimensions right for each.
  for (const auto& [out, args] : std::vector<std::pair<Variable, InputValues>>{
           {2 * T::dot(a, b.T()), b_transposed}, {2 * T::dot(a.T(), b), a_transposed}, {3 * T::dot(a.T(), b.T()), both}}) {
    std::vector<Argument> values;
    for (const auto& [var, value] : args) values.push_back(value);
    const Tensor want = evaluate(roots({out}), args)[0];
    const Tensor got = function({a, b}, {out}).call(values)[0];
    check_close({want}, {got}, 1e-12);
  }
}

TEST_CASE("no gemm for vectors, integers, mixed dtypes or a symbolic scale") {
  auto a = T::matrix("a");
  auto v = T::vector("v");
  auto lr = T::scalar("lr");
  auto c = T::matrix("c");
  auto a32 = T::matrix("a32", float32);
  auto i = T::matrix("i", int32);
  const InputValues in{{a, uniform({3, 3}, -1, 1, 1)}, {v, uniform({3}, -1, 1, 2)}, {lr, Tensor::scalar(0.5)},
                  {c, uniform({3, 3}, -1, 1, 3)}, {a32, uniform({3, 3}, -1, 1, 4, float32)},
                  {i, Tensor::from_vector<std::int32_t>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3})}};
  const Graph after = gemms({T::dot(a, v) + v, T::dot(i, i) + i, T::dot(a32, a) + c, c - lr * T::dot(a, a.T())},
                            in, 1e-6);
  CHECK(after[0]->op == OpCode::Add);
  CHECK(after[1]->op == OpCode::Add);
  CHECK(after[2]->op == OpCode::Add);
  // A product that broadcasts against c (a declared row times a matrix) is not c's shape.
  auto row = T::tensor(float64, {true, false}, "row");
  const Graph broadcast = gemms({T::dot(row, a) + c}, {{row, uniform({1, 3}, -1, 1, 5)}, {a, uniform({3, 3}, -1, 1, 1)},
                                                      {c, uniform({3, 3}, -1, 1, 3)}});
  CHECK(broadcast[0]->op == OpCode::Add);
  // The transposed product still becomes a gemm; the symbolic scale and the subtraction stay.
  REQUIRE(after[3]->op == OpCode::Sub);
  CHECK(count_op({after[3]}, OpCode::Gemm) == 1);
}

TEST_CASE("float32 gemms match the reference to float32 rounding") {
  auto x = T::matrix("x", float32);
  auto w = T::matrix("w", float32);
  auto b = T::vector("b", float32);
  const Graph after = gemms({T::dot(x, w) + b, w - 0.01 * T::dot(x.T(), x)},
                            {{x, uniform({4, 4}, -1, 1, 1, float32)}, {w, uniform({4, 4}, -1, 1, 2, float32)},
                             {b, uniform({4}, -1, 1, 3, float32)}},
                            1e-5);
  CHECK(count_op(after, OpCode::Gemm) == 1);  // the update; the biased product stays a dot
  CHECK(count_op(after, OpCode::Dot) == 1);
}
