// Row lanes (issue 7, item 5): kernels with per-row operands over short rows
// run vector_width rows at a time, one lane per row. Compiled against the
// reference evaluator for row extents on both sides of the threshold, row
// counts that leave tails, strided and broadcast views, nan and inf rows.
#include "codegen_test_support.hpp"
#include "compiler/codegen/kernel_plan.hpp"
#include "op_test_support.hpp"
#include "scoped_config.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

using namespace codegen_test;

namespace {

namespace T = graphjit::tensor;

int vector_bits() { return jit::JitEngine::instance().host().vector_bits; }

codegen::KernelPlan plan_of(const codegen::Cluster& cluster) {
  return codegen::plan_kernel(cluster, "row_lanes_test", vector_bits());
}

// The kernel's LLVM IR as generated, through the dump_ir flag. (Kernels of
// earlier test cases are gone, so the cache does not skip the compilation.)
std::string ir_of(const codegen::Cluster& cluster) {
  graphjit::testing::TempDir dir;
  graphjit::testing::ScopedConfig dumping("dump_ir=true,dump_dir=" + dir.path().string());
  codegen::compile_kernels({cluster}, "row_lanes_ir");
  std::string text;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".ll" && entry.path().string().find(".opt.") == std::string::npos) {
      std::ostringstream contents;
      contents << std::ifstream(entry.path()).rdbuf();
      text += contents.str();
    }
  REQUIRE_FALSE(text.empty());
  return text;
}

// atol: for sums that cancel to near zero.
void check_kernel(const codegen::Cluster& cluster, const exec::Kernel& kernel, const std::vector<Tensor>& args,
                  double max_ulps, const std::string& what, double atol = 0) {
  const std::vector<Tensor> got = kernel.run(args), want = reference(cluster, args);
  REQUIRE(got.size() == want.size());
  for (std::size_t o = 0; o < got.size(); ++o)
    check_close(got[o], want[o], max_ulps, atol, what + ", output " + std::to_string(o));
}

// The function compiled and in reference mode, called on each argument.
void check_function(const Variable& x, const std::vector<Variable>& outputs, const std::vector<Tensor>& args) {
  Function compiled = graphjit::function({x}, outputs, {.mode = Mode::fast_run});
  Function oracle = graphjit::function({x}, outputs, {.mode = Mode::reference});
  for (const Tensor& arg : args) {
    INFO(std::string(dtype_name(arg.dtype())) << " argument of shape " << shape_str(arg.shape()));
    const std::vector<Tensor> got = compiled(arg), want = oracle(arg);
    for (std::size_t o = 0; o < want.size(); ++o)
      graphjit::testing::check_same_result(want[o], got[o], "output " + std::to_string(o));
  }
}

}  // namespace

TEST_CASE("the plan offers row lanes to kernels with per-row operands, and the IR has the loop") {
  for (DType dtype : {float64, float32}) {
    SoftmaxClusters c(dtype);
    for (const codegen::Cluster* cluster : {&c.max_cluster, &c.exp_cluster, &c.div_cluster}) {
      INFO(cluster->name << " " << std::string(dtype_name(dtype)));
      const codegen::KernelPlan plan = plan_of(*cluster);
      CHECK(plan.row_lanes_max_extent == 4 * plan.vector_width);
      CHECK(codegen::takes_row_lanes(plan, 100000, plan.row_lanes_max_extent));
      if (vector_bits() >= 256) CHECK(codegen::takes_row_lanes(plan, 100000, 10));  // the seed's 10 classes
      CHECK_FALSE(codegen::takes_row_lanes(plan, 100000, plan.row_lanes_max_extent + 1));
      CHECK_FALSE(codegen::takes_row_lanes(plan, plan.vector_width - 1, 10));
      CHECK_FALSE(codegen::takes_row_lanes(plan, 100000, plan.vector_width - 1));  // no whole square of columns
      CHECK(ir_of(*cluster).find("row_lanes_end") != std::string::npos);
    }
  }
  // Plain elementwise kernels, and reductions across rows, keep the per-row loop only.
  NodeRef x = input(float64, {false, false}, "x");
  NodeRef y = op(OpCode::Exp, {x});
  codegen::Cluster elementwise{"exp", {x}, {y}, {y}, {}};
  codegen::Cluster columns{"column_sum", {x}, {y}, {}, {reduce(OpCode::Sum, y, {0})}};
  codegen::Cluster total{"total", {x}, {y}, {}, {reduce(OpCode::Sum, y, {})}};
  for (const codegen::Cluster* cluster : {&elementwise, &columns, &total}) {
    INFO(cluster->name);
    CHECK(plan_of(*cluster).row_lanes_max_extent == 0);
    CHECK(ir_of(*cluster).find("row_lanes_end") == std::string::npos);
  }
}

TEST_CASE("softmax's kernels over rows of 1 to 20 elements and row counts with tails") {
  for (DType dtype : {float64, float32}) {
    SoftmaxClusters c(dtype);
    const std::vector<exec::Kernel> k = codegen::compile_kernels({c.max_cluster, c.exp_cluster, c.div_cluster}, "rows");
    for (std::int64_t n = 1; n <= 20; ++n)
      for (std::int64_t rows : {1, 3, 4, 5, 7, 8, 9, 17, 63}) {
        const std::string what = fmt::format("{} ({}, {})", dtype_name(dtype), rows, n);
        const Tensor x = random_tensor({rows, n}, dtype, -30, 30, static_cast<std::uint64_t>(rows * 100 + n));
        check_kernel(c.max_cluster, k[0], {x}, 0, what + " row max");
        const Tensor m = k[0].run({x})[0];
        check_kernel(c.exp_cluster, k[1], {x, m}, 8, what + " exp and row sum");
        const std::vector<Tensor> es = k[1].run({x, m});
        check_kernel(c.div_cluster, k[2], {es[0], es[1]}, 0, what + " division");
      }
  }
}

TEST_CASE("every fused reduction over the last axis, with outputs and integer inputs") {
  for (DType dtype : {float64, float32, int32}) {
    NodeRef x = input(dtype, {false, false}, "x");
    NodeRef twice = op(OpCode::Add, {x, x});
    std::vector<NodeRef> reductions;
    for (OpCode code : {OpCode::Sum, OpCode::Prod, OpCode::Max, OpCode::Min})
      reductions.push_back(reduce(code, twice, {1}, code == OpCode::Max));
    codegen::Cluster cluster{"reductions", {x}, {twice}, {twice}, reductions};
    const exec::Kernel kernel = codegen::compile_kernels({cluster}, "rows")[0];
    for (std::int64_t n : {1, 2, 3, 7, 10, 16, 20, 33})
      for (std::int64_t rows : {2, 4, 6, 11, 40}) {
        const Tensor x_value = random_tensor({rows, n}, dtype, -1.5, 1.5, static_cast<std::uint64_t>(rows + 7 * n));
        check_kernel(cluster, kernel, {x_value}, 8, fmt::format("{} ({}, {})", dtype_name(dtype), rows, n),
                     dtype == float32 ? 1e-5 : 1e-13);
      }
  }
}

TEST_CASE("row lanes read strided and broadcast views and write into views") {
  for (DType dtype : {float64, float32}) {
    SoftmaxClusters c(dtype);
    const std::vector<exec::Kernel> k = codegen::compile_kernels({c.max_cluster, c.exp_cluster, c.div_cluster}, "views");
    const std::int64_t rows = 23, n = 10;
    const Tensor base = random_tensor({n, 2 * rows}, dtype, -5, 5, 31);
    const Tensor transposed = base.slice(1, 0, rows).transpose();        // row stride 1, element stride 2*rows
    const Tensor stepped = base.transpose().slice(0, 0, 2 * rows, 2);    // every other row
    const Tensor reversed = random_tensor({rows, n}, dtype, -5, 5, 32).slice(1, n - 1, std::numeric_limits<std::int64_t>::min(), -1);
    const Tensor repeated_row = random_tensor({1, n}, dtype, -5, 5, 33).broadcast_to({rows, n});  // row stride 0
    for (const auto& [name, x] : std::vector<std::pair<std::string, Tensor>>{
             {"transposed", transposed}, {"stepped", stepped}, {"reversed", reversed}, {"repeated row", repeated_row}}) {
      const std::string what = std::string(dtype_name(dtype)) + " " + name;
      check_kernel(c.max_cluster, k[0], {x}, 0, what + " row max");
      const Tensor m = k[0].run({x})[0];
      check_kernel(c.exp_cluster, k[1], {x, m}, 8, what + " exp and row sum");
      // A per-row value broadcast along the rows (stride 0 across rows, too).
      const Tensor one_max = m.slice(0, 0, 1).broadcast_to({rows, 1});
      check_kernel(c.exp_cluster, k[1], {x, one_max}, 8, what + " with one max for all rows");
      // Outputs written into a transposed view.
      const std::vector<Tensor> want = reference(c.div_cluster, {x, m});
      const Tensor out = Tensor::empty({n, rows}, dtype).transpose();
      k[2].run({x, m}, {out});
      check_close(out, want[0], 0, 0, what + " division into a transposed view");
    }
  }
}

TEST_CASE("a bias broadcast across rows and reductions that also reduce an outer dim") {
  NodeRef x = input(float64, {false, false, false}, "x");
  NodeRef bias = input(float64, {true, true, false}, "bias");
  NodeRef y = op(OpCode::Mul, {x, bias});
  NodeRef outer_and_row = reduce(OpCode::Sum, y, {0, 2}, true);
  NodeRef outer_only = reduce(OpCode::Max, y, {0});
  codegen::Cluster cluster{"bias_rows", {x, bias}, {y}, {y}, {outer_and_row}};
  CHECK(plan_of(cluster).row_lanes_max_extent > 0);
  // A reduction that keeps the rows' elements apart would need its old values in the column buffers.
  codegen::Cluster with_outer_only{"bias_rows_outer", {x, bias}, {y}, {y}, {outer_and_row, outer_only}};
  CHECK(plan_of(with_outer_only).row_lanes_max_extent == 0);
  for (std::int64_t rows : {3, 9, 16})
    for (const codegen::Cluster* c : {&cluster, &with_outer_only})
      check_kernel(*c, codegen::compile_kernels({*c}, "rows")[0], {random_tensor({3, rows, 7}, float64, -2, 2, 41), random_tensor({1, 1, 7}, float64, -2, 2, 42)},
                 4, fmt::format("(3, {}, 7)", rows), 1e-13);
}

TEST_CASE("softmax, log_softmax, max and sum compiled over short rows equal the reference") {
  for (DType dtype : {float64, float32}) {
    auto x = T::matrix("x", dtype);
    auto t3 = T::tensor3("t3", dtype);
    RandomState rng(5);
    std::vector<Tensor> args;
    for (std::int64_t n : {1, 2, 5, 10, 13, 20, 40})
      for (std::int64_t rows : {1, 6, 9, 101}) args.push_back(rng.uniform(-20, 20, {rows, n}, dtype));
    args.push_back(rng.uniform(-9, 9, {10, 31}, dtype).transpose());  // a strided argument
    check_function(x, {T::nnet::softmax(x), T::nnet::log_softmax(x), T::max(x, -1), T::sum(x, -1)}, args);
    // A (T, B, C) sequence output: its first two dims run as one.
    check_function(t3, {T::nnet::softmax(t3), T::nnet::log_softmax(t3)}, {rng.uniform(-9, 9, {3, 7, 10}, dtype)});
  }
}

TEST_CASE("rows holding nan and infinities give numpy's results in row lanes") {
  using graphjit::testing::run;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  for (DType dtype : {float64, float32}) {
    auto x = T::matrix("x", dtype);
    const std::int64_t rows = 9, n = 10;
    std::vector<double> v(static_cast<std::size_t>(rows * n));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<double>(i));
    v[3] = nan;                                         // row 0: a nan
    v[10 + 4] = inf;                                    // row 1: +inf
    v[20 + 0] = -inf;                                   // row 2: -inf
    for (int j = 0; j < n; ++j) v[30 + j] = -inf;       // row 3: all -inf
    v[40 + 1] = inf, v[40 + 8] = inf;                   // row 4: two +inf
    v[50 + 9] = nan, v[50 + 2] = inf;                   // row 5: inf and nan
    const std::vector<Tensor> out = run({x}, {T::nnet::softmax(x), T::nnet::log_softmax(x), T::max(x, -1), T::sum(x, -1)},
                                        {graphjit::testing::tensor_of(v, {rows, n}, dtype)});
    const std::vector<double> sm = out[0].to_vector<double>(), mx = out[2].to_vector<double>();
    CHECK(std::isnan(sm[0]));
    CHECK(std::isnan(mx[0]));
    CHECK(mx[3] == -inf);
    CHECK(std::isnan(mx[5]));
  }
}
