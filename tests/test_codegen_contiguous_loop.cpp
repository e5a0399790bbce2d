// The innermost loop's two forms (compiler/codegen/kernel_emitter.cpp,
// emit_innermost): a small cluster gets a loop versioned once per row for
// rows whose operands all move by 1, in front of the general loop; a large
// one only the general loop. Both forms against the reference evaluator, for
// rows that take each path: unit strides (full steps, then the tail), other
// strides (gathers), stride-0 views (the repeat buffer), in both float dtypes.
#include "codegen_test_support.hpp"
#include "scoped_config.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>

#include <filesystem>

using namespace codegen_test;

namespace {

// out = x * y + b and the row sums of (x - b) * y: a computation of a few
// instructions per step (versioned), with a row reduction in registers, an
// output stored per lane and an input broadcast along the rows by its type.
struct SmallCluster {
  explicit SmallCluster(DType dtype)
      : x(input(dtype, {false, false}, "x")), y(input(dtype, {false, false}, "y")), b(input(dtype, {true, false}, "b")) {}
  NodeRef x, y, b;
  NodeRef xy = op(OpCode::Mul, {x, y});
  NodeRef out = op(OpCode::Add, {xy, b});
  NodeRef centred = op(OpCode::Sub, {x, b});
  NodeRef weighted = op(OpCode::Mul, {centred, y});
  NodeRef rows = reduce(OpCode::Sum, weighted, {1});
  codegen::Cluster cluster{"small", {x, y, b}, {xy, out, centred, weighted}, {out}, {rows}};
};

// The same with a tanh and an exp on the way: dozens of instructions per step (not versioned).
struct LargeCluster {
  explicit LargeCluster(DType dtype)
      : x(input(dtype, {false, false}, "x")), y(input(dtype, {false, false}, "y")), b(input(dtype, {true, false}, "b")) {}
  NodeRef x, y, b;
  NodeRef xy = op(OpCode::Mul, {x, y});
  NodeRef shifted = op(OpCode::Add, {xy, b});
  NodeRef out = op(OpCode::Tanh, {shifted});
  NodeRef grown = op(OpCode::Exp, {x});
  NodeRef rows = reduce(OpCode::Sum, grown, {1});
  codegen::Cluster cluster{"large", {x, y, b}, {xy, shifted, out, grown}, {out}, {rows}};
};

// The kernel's LLVM IR as emitted (before optimization, values named), through dump_ir.
std::string emitted_ir(const codegen::Cluster& cluster) {
  testing::TempDir dir;
  {
    testing::ScopedConfig dumping("dump_ir=true,dump_dir=" + dir.path().string());
    codegen::compile_kernels({cluster}, "contiguous_loop_ir");
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".ll" && entry.path().stem().extension() != ".opt")
      return testing::read_bytes(entry.path().string());
  FAIL("no IR dumped for " << cluster.name);
  return {};
}

int occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void check_outputs(const exec::Kernel& kernel, const codegen::Cluster& cluster, const std::vector<Tensor>& args,
                   DType dtype, const std::string& what) {
  const std::vector<Tensor> got = kernel.run(args), expected = reference(cluster, args);
  REQUIRE(got.size() == expected.size());
  // tanh and exp are a few ulps off glibc; the row sums add in another order than the reference.
  const double max_ulps = 64, atol = dtype == float32 ? 1e-4 : 1e-12;
  for (std::size_t o = 0; o < got.size(); ++o)
    check_close(got[o], expected[o], max_ulps, atol, what + ", output " + std::to_string(o));
}

// Every way a row can reach the innermost loop, for one compiled cluster.
void check_every_row_kind(const codegen::Cluster& cluster, DType dtype) {
  const exec::Kernel kernel = codegen::compile_kernels({cluster}, "contiguous_loop_test")[0];
  auto args = [&](std::int64_t m, std::int64_t n, std::uint64_t seed) {
    return std::vector<Tensor>{random_tensor({m, n}, dtype, -2, 2, seed), random_tensor({m, n}, dtype, -2, 2, seed + 1),
                               random_tensor({1, n}, dtype, -2, 2, seed + 2)};
  };
  const std::string name = fmt::format("{} {}", cluster.name, dtype_name(dtype));
  // Unit strides: rows of whole steps only, a tail only, both; one element; a row of 1000 (above the threading threshold with m).
  for (auto [m, n] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {3, 16}, {3, 3}, {5, 37}, {4, 1}, {1, 64}, {70, 1000}})
    check_outputs(kernel, cluster, args(m, n, static_cast<std::uint64_t>(m + n)), dtype,
                  name + " contiguous " + shape_str({m, n}));
  const std::vector<Tensor> plain = args(6, 29, 11);
  // Other strides: x transposed in memory, y every other column of a wider array.
  const Tensor xt = plain[0].transpose().copy().transpose();
  REQUIRE(xt.strides()[1] != 1);
  const Tensor y_stepped = random_tensor({6, 58}, dtype, -2, 2, 12).slice(1, 0, 58, 2);
  check_outputs(kernel, cluster, {xt, plain[1], plain[2]}, dtype, name + " transposed x");
  check_outputs(kernel, cluster, {plain[0], y_stepped, plain[2]}, dtype, name + " stepped y");
  // Stride 0 along the row although the type does not broadcast: the repeat buffer.
  const Tensor y_repeated = random_tensor({6, 1}, dtype, -2, 2, 13).broadcast_to({6, 29});
  REQUIRE(y_repeated.strides()[1] == 0);
  check_outputs(kernel, cluster, {plain[0], y_repeated, plain[2]}, dtype, name + " y repeated along rows");
  // The output written into a view with stride 2 while the inputs are contiguous.
  Tensor wide = Tensor::zeros({6, 58}, dtype);
  Tensor out = wide.slice(1, 0, 58, 2);
  Tensor sums = Tensor::zeros({6}, dtype);
  kernel.run(plain, {out, sums});
  const std::vector<Tensor> expected = reference(cluster, plain);
  check_close(out, expected[0], 64, 0, name + " strided output");
  CHECK(wide.slice(1, 1, 58, 2).equal(Tensor::zeros({6, 29}, dtype)));  // nothing written between its elements
}

}  // namespace

TEST_CASE("a small cluster gets the contiguous loop in front of the general one; a large one does not") {
  for (DType dtype : {float64, float32}) {
    INFO(dtype_name(dtype));
    const std::string small = emitted_ir(SmallCluster(dtype).cluster);
    CHECK(occurrences(small, "%contiguous_end = ") == 1);
    // Copies of the computation, by its one subtraction: the general loop's and the contiguous loop's,
    // plus the row-lanes loop's (kernel_plan's choose_row_lanes: a row sum of short rows), which runs
    // short rows a block at a time and is not the per-row innermost loop tested here.
    const int row_lanes = occurrences(small, "%row_lanes_end = ") > 0 ? 1 : 0;
    CHECK(row_lanes == 1);
    CHECK(occurrences(small, " = fsub ") == 2 + row_lanes);
    const std::string large = emitted_ir(LargeCluster(dtype).cluster);
    CHECK(occurrences(large, "contiguous_end") == 0);
    CHECK(occurrences(large, "@llvm.masked.store") > 0);  // the general loop is there
  }
}

TEST_CASE("the versioned small cluster matches the reference on every kind of row") {
  for (DType dtype : {float64, float32}) check_every_row_kind(SmallCluster(dtype).cluster, dtype);
}

TEST_CASE("the large cluster's general loop alone matches the reference on every kind of row") {
  for (DType dtype : {float64, float32}) check_every_row_kind(LargeCluster(dtype).cluster, dtype);
}
