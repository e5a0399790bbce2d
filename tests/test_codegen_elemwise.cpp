// Every elementwise op compiled by the JIT against the reference evaluator,
// for every dtype it applies to.
#include "codegen_test_support.hpp"
#include "compiler/ir/op_info.hpp"

#include <limits>

using namespace codegen_test;

namespace {

struct OpCase {
  OpCode op;
  int arity;
  double lo, hi;          // argument range for floats
  double int_lo, int_hi;  // and for integers
  double max_ulps;        // floats: 0 for correctly rounded ops
  bool on_unsigned;       // whether results stay in uint8's range
};

// Transcendental ops are compared with glibc, itself off by up to ~2 ulp.
const OpCase op_cases[] = {
    {OpCode::Add, 2, -10, 10, -20, 20, 0, true},     {OpCode::Sub, 2, -10, 10, -20, 20, 0, false},
    {OpCode::Mul, 2, -10, 10, -10, 10, 0, true},     {OpCode::TrueDiv, 2, -10, 10, -20, 20, 0, true},
    {OpCode::IntDiv, 2, -10, 10, -20, 20, 0, true},  // integer ranges include 0 divisors
    {OpCode::Mod, 2, -10, 10, -20, 20, 0, true},     {OpCode::Pow, 2, 0.1, 3, -3, 4, 0, false},
    {OpCode::Maximum, 2, -10, 10, -20, 20, 0, true}, {OpCode::Minimum, 2, -10, 10, -20, 20, 0, true},
    {OpCode::Neg, 1, -10, 10, -20, 20, 0, false},    {OpCode::Abs, 1, -10, 10, -20, 20, 0, true},
    {OpCode::Sgn, 1, -10, 10, -20, 20, 0, true},     {OpCode::Sqr, 1, -10, 10, -10, 10, 0, true},
    {OpCode::Sqrt, 1, 0, 100, 0, 100, 0, true},      {OpCode::Exp, 1, -50, 50, -5, 5, 3, true},
    {OpCode::Log, 1, 1e-3, 1e3, 1, 100, 3, true},    {OpCode::Log1p, 1, -0.99, 10, 0, 100, 3, true},
    {OpCode::Tanh, 1, -10, 10, -5, 5, 5, true},      {OpCode::Sigmoid, 1, -30, 30, -5, 5, 5, true},
    {OpCode::Softplus, 1, -20, 20, -5, 5, 5, true},  {OpCode::Relu, 1, -10, 10, -20, 20, 0, true},
    {OpCode::Clip, 3, -10, 10, -20, 20, 0, true},    {OpCode::Eq, 2, -2, 2, -2, 2, 0, true},
    {OpCode::Neq, 2, -2, 2, -2, 2, 0, true},         {OpCode::Lt, 2, -2, 2, -2, 2, 0, true},
    {OpCode::Le, 2, -2, 2, -2, 2, 0, true},          {OpCode::Gt, 2, -2, 2, -2, 2, 0, true},
    {OpCode::Ge, 2, -2, 2, -2, 2, 0, true},          {OpCode::And, 2, -1, 1, -1, 2, 0, true},
    {OpCode::Or, 2, -1, 1, -1, 2, 0, true},          {OpCode::Xor, 2, -1, 1, -1, 2, 0, true},
    {OpCode::Not, 1, -1, 1, -1, 2, 0, true},
};

std::vector<Tensor> random_inputs(const OpCase& c, DType dtype, const Shape& shape, std::uint64_t seed) {
  std::vector<Tensor> values;
  for (int i = 0; i < c.arity; ++i) {
    double lo = is_float(dtype) ? c.lo : c.int_lo, hi = is_float(dtype) ? c.hi : c.int_hi;
    if (dtype == uint8 || dtype == bool_) lo = std::max(lo, 0.0);
    if (dtype == bool_) hi = 2;
    values.push_back(random_tensor(shape, dtype, lo, hi, seed + static_cast<std::uint64_t>(i)));
  }
  return values;
}

// One kernel per op, for all ops at once, in one module; checked against the reference.
void check_all_ops(DType dtype, const Shape& shape) {
  std::vector<codegen::Cluster> clusters;
  std::vector<const OpCase*> used;
  const int ndim = static_cast<int>(shape.size());
  for (const OpCase& c : op_cases) {
    if ((dtype == uint8 || dtype == bool_) && !c.on_unsigned) continue;
    std::vector<NodeRef> inputs;
    for (int i = 0; i < c.arity; ++i)
      inputs.push_back(input(dtype, std::vector<bool>(static_cast<std::size_t>(ndim), false), "x" + std::to_string(i)));
    NodeRef y = op(c.op, inputs);
    clusters.push_back({ir::op_info(c.op).name, inputs, {y}, {y}, {}});
    used.push_back(&c);
  }
  const std::vector<exec::Kernel> kernels = codegen::compile_kernels(clusters, "elemwise_test");
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const std::vector<Tensor> args = random_inputs(*used[i], dtype, shape, 100 * i);
    const std::string what =
        std::string(ir::op_info(used[i]->op).name) + " on " + dtype_name(dtype) + " " + shape_str(shape);
    check_close(kernels[i].run(args)[0], reference(clusters[i], args)[0], used[i]->max_ulps, 0, what);
  }
}

}  // namespace

TEST_CASE("every elementwise op matches the reference, float64 and float32") {
  for (DType dtype : {float64, float32}) {
    check_all_ops(dtype, {5, 37});
    check_all_ops(dtype, {1000});
  }
}

TEST_CASE("every integer op matches the reference, for each integer type and bool") {
  for (DType dtype : {int64, int32, int16, int8, uint8, bool_}) check_all_ops(dtype, {3, 29});
}

TEST_CASE("casts between all dtypes match the reference") {
  const std::vector<DType> dtypes = {bool_, int8, int16, int32, int64, uint8, float32, float64};
  std::vector<codegen::Cluster> clusters;
  for (DType from : dtypes)
    for (DType to : dtypes) {
      if (from == to) continue;
      NodeRef x = input(from, {false}, "x");
      ir::Attrs attrs;
      attrs.dtype = to;
      NodeRef y = op(OpCode::Cast, {x}, attrs);
      clusters.push_back({std::string("cast_") + dtype_name(from) + "_" + dtype_name(to), {x}, {y}, {y}, {}});
    }
  const std::vector<exec::Kernel> kernels = codegen::compile_kernels(clusters, "cast_test");
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const DType from = clusters[i].inputs[0]->type.dtype;
    // Values every target type holds, fractions included: float to int truncates.
    const Tensor x = random_tensor({45}, from, from == bool_ ? 0 : 0, from == bool_ ? 2 : 100, i);
    check_close(kernels[i].run({x})[0], reference(clusters[i], {x})[0], 0, 0, clusters[i].name);
  }
}

TEST_CASE("switch picks per element and converts its arms") {
  NodeRef cond = input(bool_, {false}, "cond"), a = input(int32, {false}, "a"), b = input(float32, {false}, "b");
  NodeRef y = op(OpCode::Switch, {cond, a, b});
  CHECK(y->type.dtype == float64);  // promote(int32, float32)
  codegen::Cluster cluster{"switch", {cond, a, b}, {y}, {y}, {}};
  const std::vector<Tensor> args = {random_tensor({77}, bool_, 0, 2, 1), random_tensor({77}, int32, -50, 50, 2),
                                    random_tensor({77}, float32, -1, 1, 3)};
  check_close(codegen::compile_kernels({cluster})[0].run(args)[0], reference(cluster, args)[0], 0, 0, "switch");
}

TEST_CASE("special values: nan propagation, division by zero, floor semantics") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  NodeRef a = input(float64, {false}, "a"), b = input(float64, {false}, "b");
  std::vector<codegen::Cluster> clusters;
  for (OpCode code : {OpCode::Maximum, OpCode::Minimum, OpCode::IntDiv, OpCode::Mod, OpCode::Sgn, OpCode::Relu}) {
    NodeRef y = code == OpCode::Sgn || code == OpCode::Relu ? op(code, {a}) : op(code, {a, b});
    clusters.push_back({ir::op_info(code).name,
                        y->inputs.size() == 1 ? std::vector<NodeRef>{a} : std::vector<NodeRef>{a, b},
                        {y},
                        {y},
                        {}});
  }
  const std::vector<exec::Kernel> kernels = codegen::compile_kernels(clusters, "special_test");
  const Tensor av = Tensor::from_vector<double>({nan, 1, -7, 7, -7, 0, -0.0, inf, 3, -inf});
  const Tensor bv = Tensor::from_vector<double>({1, nan, 2, -2, -2, 0, 5, 1, inf, 2});
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const std::vector<Tensor> args =
        clusters[i].inputs.size() == 1 ? std::vector<Tensor>{av} : std::vector<Tensor>{av, bv};
    check_close(kernels[i].run(args)[0], reference(clusters[i], args)[0], 0, 0, clusters[i].name);
  }

  // Integer floor division and modulo by zero give 0; INT64_MIN / -1 wraps instead of trapping.
  NodeRef p = input(int64, {false}, "p"), q = input(int64, {false}, "q");
  NodeRef div = op(OpCode::IntDiv, {p, q}), mod = op(OpCode::Mod, {p, q});
  codegen::Cluster int_cluster{"int_div", {p, q}, {div, mod}, {div, mod}, {}};
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  const Tensor pv = Tensor::from_vector<std::int64_t>({7, -7, 7, -7, 5, min, 0});
  const Tensor qv = Tensor::from_vector<std::int64_t>({2, 2, -2, -2, 0, -1, 3});
  const std::vector<Tensor> out = codegen::compile_kernels({int_cluster})[0].run({pv, qv});
  CHECK(out[0].to_vector<std::int64_t>() == std::vector<std::int64_t>{3, -4, -4, 3, 0, min, 0});
  CHECK(out[1].to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, -1, -1, 0, 0, 0});
}
