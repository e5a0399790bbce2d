// Fused kernels as a whole: chains of ops, broadcasting, strided views,
// several outputs, fused reductions, multithreading, and the errors.
#include "codegen_test_support.hpp"
#include "compiler/ir/op_info.hpp"

#include <graphjit/errors.hpp>

#include <fmt/format.h>

#include <stdexcept>

using namespace codegen_test;

namespace {

// tanh(x * col + row) * 2, with x (m, n), col (m, 1), row (1, n) and a compiled-in 2.
struct Chain {
  NodeRef x = input(float64, {false, false}, "x");
  NodeRef col = input(float64, {false, true}, "col");
  NodeRef row = input(float64, {true, false}, "row");
  NodeRef two = scalar_constant(2.0, float64, 2);
  NodeRef scaled = op(OpCode::Mul, {x, col});
  NodeRef shifted = op(OpCode::Add, {scaled, row});
  NodeRef activated = op(OpCode::Tanh, {shifted});
  NodeRef doubled = op(OpCode::Mul, {activated, two});
  codegen::Cluster cluster{"chain", {x, col, row}, {scaled, shifted, activated, doubled}, {doubled, shifted}, {}};

  std::vector<Tensor> inputs(std::int64_t m, std::int64_t n, std::uint64_t seed) const {
    return {random_tensor({m, n}, float64, -2, 2, seed), random_tensor({m, 1}, float64, -2, 2, seed + 1),
            random_tensor({1, n}, float64, -2, 2, seed + 2)};
  }
};

void check_outputs(const exec::Kernel& kernel, const codegen::Cluster& cluster, const std::vector<Tensor>& args,
                   double max_ulps, double atol, const std::string& what) {
  const std::vector<Tensor> got = kernel.run(args), expected = reference(cluster, args);
  REQUIRE(got.size() == expected.size());
  for (std::size_t o = 0; o < got.size(); ++o)
    check_close(got[o], expected[o], max_ulps, atol, what + ", output " + std::to_string(o));
}

exec::Kernel compile_one(const codegen::Cluster& cluster) {
  return codegen::compile_kernels({cluster}, "fusion_test")[0];
}

}  // namespace

TEST_CASE("a fused chain with row, column and scalar broadcasting, at sizes around the vector width") {
  Chain chain;
  const exec::Kernel kernel = compile_one(chain.cluster);
  for (auto [m, n] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 1}, {3, 1}, {1, 17}, {4, 7}, {7, 8}, {5, 16}, {5, 33}, {64, 100}, {2, 1000}})
    check_outputs(kernel, chain.cluster, chain.inputs(m, n, static_cast<std::uint64_t>(m * n)), 5, 0,
                  "shape " + shape_str({m, n}));
}

TEST_CASE("strided inputs and outputs: transposed, sliced with steps, reversed, written into views") {
  Chain chain;
  const exec::Kernel kernel = compile_one(chain.cluster);
  const std::int64_t m = 9, n = 21;
  const std::vector<Tensor> plain = chain.inputs(m, n, 7);

  SUBCASE("transposed input") {
    const Tensor xt = plain[0].transpose().copy().transpose();  // (m, n) with strides (1, m)
    REQUIRE(xt.strides()[1] != 1);
    check_outputs(kernel, chain.cluster, {xt, plain[1], plain[2]}, 5, 0, "transposed x");
  }
  SUBCASE("every other row and column, and reversed rows") {
    const Tensor big = random_tensor({2 * m, 2 * n}, float64, -2, 2, 3);
    check_outputs(kernel, chain.cluster, {big.slice(0, 0, 2 * m, 2).slice(1, 1, 2 * n, 2), plain[1], plain[2]}, 5, 0,
                  "stepped x");
    check_outputs(kernel, chain.cluster, {plain[0].slice(0, m - 1, -m - 1, -1), plain[1], plain[2]}, 5, 0,
                  "reversed x");
  }
  SUBCASE("outputs written into a transposed view and a slice of a larger buffer") {
    Tensor out_t = Tensor::zeros({n, m}, float64).transpose();
    Tensor wide = Tensor::zeros({m, 3 * n}, float64);
    Tensor out_slice = wide.slice(1, n, 2 * n);
    kernel.run(plain, {out_t, out_slice});
    const std::vector<Tensor> expected = reference(chain.cluster, plain);
    check_close(out_t, expected[0], 5, 0, "transposed output");
    check_close(out_slice, expected[1], 0, 0, "sliced output");
    CHECK(wide.slice(1, 0, n).equal(Tensor::zeros({m, n}, float64)));  // nothing written outside the view
    CHECK(wide.slice(1, 2 * n, 3 * n).equal(Tensor::zeros({m, n}, float64)));
  }
  SUBCASE("in place: the output is the input's own view") {
    NodeRef x = input(float64, {false, false}, "x");
    NodeRef y = op(OpCode::Exp, {x});
    codegen::Cluster cluster{"exp_inplace", {x}, {y}, {y}, {}};
    const Tensor data = random_tensor({m, n}, float64, -2, 2, 5);
    const Tensor expected = reference(cluster, {data})[0];
    compile_one(cluster).run({data}, {data});
    check_close(data, expected, 3, 0, "in place");
  }
}

TEST_CASE("inputs given as stride-0 broadcast views although their types do not broadcast") {
  // Each input dense, or a row, a column or a single element broadcast to (m, n) (strides (0, 1), (1, 0),
  // (0, 0)), in every combination; n odd so that rows end in a partial vector step.
  enum Kind { dense, row, column, scalar };
  auto view = [](Kind kind, std::int64_t m, std::int64_t n, DType dtype, std::uint64_t seed) {
    const double lo = dtype == bool_ ? 0 : -2, hi = 2;
    switch (kind) {
      case dense: return random_tensor({m, n}, dtype, lo, hi, seed);
      case row: return random_tensor({1, n}, dtype, lo, hi, seed).broadcast_to({m, n});
      case column: return random_tensor({m, 1}, dtype, lo, hi, seed).broadcast_to({m, n});
      case scalar: return random_tensor({1, 1}, dtype, lo, hi, seed).broadcast_to({m, n});
    }
    throw std::logic_error("invalid kind");
  };
  const char* names[] = {"dense", "row", "column", "scalar"};
  for (DType dtype : {float64, float32}) {
    NodeRef x = input(dtype, {false, false}, "x"), y = input(dtype, {false, false}, "y");
    NodeRef keep = input(bool_, {false, false}, "keep");
    NodeRef xy = op(OpCode::Mul, {x, y});
    NodeRef t = op(OpCode::Tanh, {xy});
    NodeRef picked = op(OpCode::Switch, {keep, t, y});
    NodeRef rows = reduce(OpCode::Sum, picked, {1});
    codegen::Cluster cluster{"broadcast_views", {x, y, keep}, {xy, t, picked}, {picked}, {rows}};
    const exec::Kernel kernel = compile_one(cluster);
    // The row sums add up to 1001 values, each off by a few ulps, in another order than the reference.
    const double max_ulps = 64, atol = dtype == float32 ? 1e-3 : 1e-9;
    auto check = [&](Kind kx, Kind ky, Kind kk, std::int64_t m, std::int64_t n) {
      const std::vector<Tensor> args = {view(kx, m, n, dtype, 1), view(ky, m, n, dtype, 2), view(kk, m, n, bool_, 3)};
      if ((kx == row || kx == scalar) && m > 1) REQUIRE(args[0].strides()[0] == 0);
      if ((kx == column || kx == scalar) && n > 1) REQUIRE(args[0].strides()[1] == 0);
      check_outputs(kernel, cluster, args, max_ulps, atol,
                    fmt::format("{} {}: x {}, y {}, keep {}", dtype_name(dtype), shape_str({m, n}), names[kx],
                                names[ky], names[kk]));
    };
    for (auto [m, n] : std::vector<std::pair<std::int64_t, std::int64_t>>{{5, 37}, {3, 1}, {4, 3}})
      for (Kind kx : {dense, row, column, scalar})
        for (Kind ky : {dense, row, column, scalar})
          for (Kind kk : {dense, row, column, scalar}) check(kx, ky, kk, m, n);
    // Above the threading threshold: the views' dims merge (scalar) or not (row, column) before the split.
    check(dense, scalar, dense, 70, 1001);
    check(row, column, scalar, 70, 1001);
    check(scalar, row, column, 70, 1001);
  }
  // One dim: a single element broadcast along the whole (split) loop.
  NodeRef v = input(float32, {false}, "v"), w = input(float32, {false}, "w");
  NodeRef vw = op(OpCode::Sub, {v, w});
  codegen::Cluster flat{"flat_view", {v, w}, {vw}, {vw}, {}};
  const Tensor repeated = random_tensor({1}, float32, -1, 1, 2).broadcast_to({100003});
  check_outputs(compile_one(flat), flat, {random_tensor({100003}, float32, -1, 1, 1), repeated}, 0, 0,
                "1-d scalar view");
}

TEST_CASE("mixed dtypes in one cluster: float32 data, a bool mask and an int32 count") {
  NodeRef x = input(float32, {false}, "x"), mask = input(bool_, {false}, "mask"), k = input(int32, {true}, "k");
  NodeRef kx = op(OpCode::Mul, {x, k});  // float64: promote(float32, int32)
  NodeRef zero = scalar_constant(0.0, float64, 1);
  NodeRef picked = op(OpCode::Switch, {mask, kx, zero});
  NodeRef positive = op(OpCode::Gt, {picked, zero});
  codegen::Cluster cluster{"mixed", {x, mask, k}, {kx, picked, positive}, {picked, positive}, {}};
  const std::vector<Tensor> args = {random_tensor({53}, float32, -1, 1, 1), random_tensor({53}, bool_, 0, 2, 2),
                                    Tensor::from_vector<std::int32_t>({3}, {1})};
  check_outputs(compile_one(cluster), cluster, args, 0, 0, "mixed");
}

TEST_CASE("fused reductions over every choice of axes, with and without keepdims") {
  NodeRef a = input(float64, {false, false, false}, "a"), b = input(float64, {false, false, false}, "b");
  NodeRef diff = op(OpCode::Sub, {a, b});
  NodeRef sq = op(OpCode::Sqr, {diff});
  const std::vector<Tensor> args = {random_tensor({6, 5, 19}, float64, -1, 1, 1),
                                    random_tensor({6, 5, 19}, float64, -1, 1, 2)};
  for (OpCode code : {OpCode::Sum, OpCode::Max, OpCode::Min, OpCode::Prod})
    for (const std::vector<int>& axes : std::vector<std::vector<int>>{{}, {0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}})
      for (bool keepdims : {false, true}) {
        NodeRef r = reduce(code, sq, axes, keepdims);
        codegen::Cluster cluster{"reduce", {a, b}, {diff, sq}, {sq}, {r}};
        std::string what = std::string(ir::op_info(code).name) + " over axes (";
        for (int ax : axes) what += std::to_string(ax) + ",";
        what += keepdims ? ") keepdims" : ")";
        check_outputs(compile_one(cluster), cluster, args, 64, 1e-300, what);
      }
}

TEST_CASE("softmax as the fusion pass splits it: row max, then exp and row sum, then division") {
  for (DType dtype : {float64, float32}) {
    const SoftmaxClusters c(dtype);
    const auto& [max_cluster, exp_cluster, div_cluster] = std::tie(c.max_cluster, c.exp_cluster, c.div_cluster);
    const std::vector<exec::Kernel> k = codegen::compile_kernels({max_cluster, exp_cluster, div_cluster}, "softmax");

    const Tensor xv = random_tensor({50, 10}, dtype, -30, 30, 9);
    const Tensor mv = k[0].run({xv})[0];
    check_close(mv, reference(max_cluster, {xv})[0], 0, 0, "row max");
    const std::vector<Tensor> es = k[1].run({xv, mv});
    const std::vector<Tensor> es_ref = reference(exp_cluster, {xv, mv});
    check_close(es[0], es_ref[0], 3, 0, "exp");
    check_close(es[1], es_ref[1], 8, 0, "row sum");
    const Tensor pv = k[2].run({es[0], es[1]})[0];
    check_close(pv, reference(div_cluster, {es[0], es[1]})[0], 0, 0, "division");
  }
}

TEST_CASE("reductions of integers and bools, and float32 sums") {
  NodeRef i = input(int32, {false, false}, "i");
  NodeRef positive = op(OpCode::Gt, {i, scalar_constant(0, int32, 2)});
  NodeRef count = reduce(OpCode::Sum, positive, {1});  // int64
  NodeRef biggest = reduce(OpCode::Max, i, {0});
  NodeRef all_positive = reduce(OpCode::Min, positive, {});
  codegen::Cluster cluster{"int_reductions", {i}, {positive}, {positive}, {count, biggest, all_positive}};
  check_outputs(compile_one(cluster), cluster, {random_tensor({13, 41}, int32, -100, 100, 4)}, 0, 0,
                "integer reductions");

  NodeRef f = input(float32, {false, false}, "f");
  NodeRef total = reduce(OpCode::Sum, f, {});
  NodeRef rows = reduce(OpCode::Sum, f, {1});
  codegen::Cluster sums{"f32_sums", {f}, {}, {}, {total, rows}};
  // float32 rows are summed in double registers, as the reference does: one rounding at the end (two when
  // the sum is split across threads).
  check_outputs(compile_one(sums), sums, {random_tensor({20, 1000}, float32, 0, 1, 5)}, 1, 0, "float32 sums");
  check_outputs(compile_one(sums), sums, {random_tensor({20, 3000}, float32, 0, 1, 6)}, 2, 0, "threaded float32 sums");
}

TEST_CASE("large kernels split across threads give the same results") {
  const std::int64_t m = 300, n = 419;  // above Kernel::parallel_threshold
  REQUIRE(m * n >= exec::Kernel::parallel_threshold);
  NodeRef x = input(float64, {false, false}, "x"), y = input(float64, {false, false}, "y");
  NodeRef prod = op(OpCode::Mul, {x, y});
  NodeRef act = op(OpCode::Sigmoid, {prod});
  NodeRef rows = reduce(OpCode::Sum, act, {1});
  NodeRef cols = reduce(OpCode::Max, act, {0}, true);
  NodeRef all = reduce(OpCode::Sum, act, {});
  const std::vector<Tensor> args = {random_tensor({m, n}, float64, -3, 3, 1), random_tensor({m, n}, float64, -3, 3, 2)};
  for (const auto& [name, reductions] : std::vector<std::pair<std::string, std::vector<NodeRef>>>{
           {"elementwise", {}}, {"row sums", {rows}}, {"column max", {cols}}, {"total", {all}}}) {
    codegen::Cluster cluster{"large", {x, y}, {prod, act}, {act}, reductions};
    check_outputs(compile_one(cluster), cluster, args, 1e4, 0, name);
  }
  // Reductions over everything split too, into per-thread partial results; integer sums and maxima are exact.
  NodeRef i = input(int64, {false, false}, "i");
  NodeRef i2 = op(OpCode::Mul, {i, i});
  codegen::Cluster totals{
      "totals",
      {i},
      {i2},
      {},
      {reduce(OpCode::Sum, i2, {}), reduce(OpCode::Max, i, {}), reduce(OpCode::Min, i, {0, 1}, true)}};
  check_outputs(compile_one(totals), totals, {random_tensor({m, n}, int64, -1e6, 1e6, 4)}, 0, 0, "integer totals");

  // A 1-d kernel is split along its only (innermost) dim.
  NodeRef v = input(float32, {false}, "v");
  NodeRef lv = op(OpCode::Log1p, {v});
  codegen::Cluster flat{"flat", {v}, {lv}, {lv}, {}};
  check_outputs(compile_one(flat), flat, {random_tensor({100003}, float32, 0, 10, 3)}, 3, 0, "1-d");
}

TEST_CASE("0-d clusters and empty arrays") {
  NodeRef s = input(float64, {}, "s"), t = input(float64, {}, "t");
  NodeRef sum = op(OpCode::Add, {s, t});
  NodeRef e = op(OpCode::Exp, {sum});
  codegen::Cluster scalar{"scalar", {s, t}, {sum, e}, {e}, {reduce(OpCode::Sum, e, {})}};
  check_outputs(compile_one(scalar), scalar, {Tensor::scalar(0.25), Tensor::scalar(0.5)}, 1, 0, "0-d");

  NodeRef x = input(float64, {false, false}, "x");
  NodeRef ex = op(OpCode::Exp, {x});
  codegen::Cluster sums{"empty_sum", {x}, {ex}, {ex}, {reduce(OpCode::Sum, ex, {1})}};
  const std::vector<Tensor> out = compile_one(sums).run({Tensor::zeros({3, 0}, float64)});
  CHECK(out[0].shape() == Shape{3, 0});
  CHECK(out[1].equal(Tensor::zeros({3}, float64)));
  codegen::Cluster maxes{"empty_max", {x}, {}, {}, {reduce(OpCode::Max, x, {1})}};
  CHECK_THROWS_AS(compile_one(maxes).run({Tensor::zeros({3, 0}, float64)}), ShapeError);
  // The reduced dim is empty and so is the result: still no value (numpy raises; a fuzz_graph finding).
  CHECK_THROWS_AS(compile_one(maxes).run({Tensor::zeros({0, 0}, float64)}), ShapeError);
  CHECK(compile_one(maxes).run({Tensor::zeros({0, 4}, float64)})[0].shape() == Shape{0});
}

TEST_CASE("shape errors name the inputs and their shapes") {
  Chain chain;
  const exec::Kernel kernel = compile_one(chain.cluster);
  const std::vector<Tensor> ok = chain.inputs(4, 6, 1);
  try {
    kernel.run({ok[0], random_tensor({5, 1}, float64, 0, 1, 2), ok[2]});
    FAIL("no ShapeError");
  } catch (const ShapeError& e) {
    const std::string message = e.what();
    CHECK(message.find("(5, 1)") != std::string::npos);
    CHECK(message.find("(4, 6)") != std::string::npos);
    CHECK(message.find("col") != std::string::npos);
  }
  CHECK_THROWS_AS(kernel.run({ok[0], ok[1], random_tensor({2, 6}, float64, 0, 1, 3)}),
                  ShapeError);                                                                // row must broadcast
  CHECK_THROWS_AS(kernel.run({ok[0], ok[1]}), std::invalid_argument);                         // too few inputs
  CHECK_THROWS_AS(kernel.run({ok[0].astype(float32), ok[1], ok[2]}), std::invalid_argument);  // wrong dtype
  CHECK_THROWS_AS(kernel.run(ok, {Tensor::zeros({4, 5}, float64), Tensor::zeros({4, 6}, float64)}),
                  std::invalid_argument);  // wrong output shape
}

TEST_CASE("clusters that break the rules are rejected when compiled") {
  NodeRef x = input(float64, {false, false}, "x"), y = input(float64, {false, false}, "y");
  NodeRef row = input(float64, {true, false}, "row");
  NodeRef sum = op(OpCode::Add, {x, y});
  CHECK_THROWS_AS(compile_one({"unknown_input", {x}, {sum}, {sum}, {}}), std::invalid_argument);
  NodeRef er = op(OpCode::Exp, {row});
  CHECK_THROWS_AS(compile_one({"broadcast_output", {x, row}, {er, op(OpCode::Add, {x, er})}, {er}, {}}),
                  std::invalid_argument);
  NodeRef dot = op(OpCode::Dot, {x, y});
  CHECK_THROWS_AS(compile_one({"not_elementwise", {x, y}, {dot}, {dot}, {}}), std::invalid_argument);
  CHECK_THROWS_AS(compile_one({"argmax", {x}, {}, {}, {reduce(OpCode::Argmax, x, {1})}}), std::invalid_argument);
  CHECK_THROWS_AS(compile_one({"nothing", {x}, {}, {}, {}}), std::invalid_argument);
}

TEST_CASE("constants are compiled in, whether listed as inputs or not") {
  NodeRef x = input(float32, {false}, "x");
  NodeRef half = scalar_constant(0.5, float32, 1), three = scalar_constant(3, int64, 1);
  NodeRef y = op(OpCode::Add, {op(OpCode::Mul, {x, half}), three});
  codegen::Cluster listed{"listed", {x, half}, {y->inputs[0], y}, {y}, {}};
  const exec::Kernel kernel = compile_one(listed);
  const Tensor xv = random_tensor({20}, float32, -1, 1, 1);
  check_close(kernel.run({xv, Tensor()})[0], reference(listed, {xv, Tensor()})[0], 0, 0, "listed constant");
  codegen::Cluster unlisted{"unlisted", {x}, {y->inputs[0], y}, {y}, {}};
  check_close(compile_one(unlisted).run({xv})[0], reference(unlisted, {xv})[0], 0, 0, "unlisted constant");
}
