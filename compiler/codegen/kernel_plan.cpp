#include "compiler/codegen/kernel_plan.hpp"

#include "compiler/ir/op_info.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <unordered_set>

namespace graphjit::codegen {

using ir::OpCode;

DType compute_dtype(const ir::Node& node) {
  switch (node.op) {
    case OpCode::And:
    case OpCode::Or:
    case OpCode::Xor:
    case OpCode::Not: return DType::bool_;
    case OpCode::Cast:
    case OpCode::Switch: return node.type.dtype;
    default: break;
  }
  // Comparisons and predicates (isnan, isinf): bool results computed in the
  // inputs' common type, so a float is not truncated to an integer first.
  if (ir::op_info(node.op).elem_dtype == ir::ElemDType::Bool) {
    DType t = node.inputs[0]->type.dtype;
    for (const auto& in : node.inputs) t = promote(t, in->type.dtype);
    return is_float(t) ? t : DType::int64;
  }
  return is_float(node.type.dtype) ? node.type.dtype : DType::int64;
}

bool is_compiled_in_constant(const ir::Node& node) {
  if (node.op != OpCode::Constant || !node.value.defined() || node.value.size() != 1) return false;
  return std::all_of(node.type.broadcastable.begin(), node.type.broadcastable.end(), [](bool b) { return b; });
}

std::string KernelPlan::describe() const {
  std::string ops;
  for (const auto& node : nodes) ops += fmt::format("{}{}", ops.empty() ? "" : ", ", ir::op_info(node->op).name);
  for (const auto& node : outputs)
    if (ir::op_info(node->op).kind == ir::OpKind::Reduce)
      ops += fmt::format("{}{}", ops.empty() ? "" : ", ", ir::op_info(node->op).name);
  return fmt::format("fused kernel '{}' ({})", name, ops.empty() ? "copy" : ops);
}

namespace {

[[noreturn]] void invalid(const Cluster& cluster, const std::string& what) {
  throw std::invalid_argument(fmt::format("codegen: cluster '{}': {}", cluster.name, what));
}

std::string describe_node(const ir::Node& node) { return fmt::format("{} ({})", node.label(), node.type.str()); }

ReduceOp reduce_op(const Cluster& cluster, const ir::Node& node) {
  if (const auto op = ir::op_info(node.op).fused_reduction) return *op;
  invalid(cluster, fmt::format("{} is listed as a reduction, but only sum, prod, max and min fuse", describe_node(node)));
}

// The reduced axes of a reduction node as flags per dim of its input.
std::vector<bool> reduced_axes(const Cluster& cluster, const ir::Node& node, int ndim) {
  std::vector<bool> reduced(static_cast<std::size_t>(ndim), node.attrs.axes.empty());
  for (int axis : node.attrs.axes) {
    const int a = axis < 0 ? axis + ndim : axis;
    if (a < 0 || a >= ndim)
      invalid(cluster, fmt::format("{} reduces axis {} of a {}-d value", describe_node(node), axis, ndim));
    reduced[static_cast<std::size_t>(a)] = true;
  }
  return reduced;
}

// Rows of up to this many vectors run in row lanes. Measured with
// benchmarks/bench_softmax_rows (see docs/architecture.md, "Row lanes").
constexpr std::int64_t kRowLanesMaxVectors = 4;

std::vector<bool> broadcast_pattern(const ir::Node& node, int ndim) {
  if (node.type.ndim() == 0) return std::vector<bool>(static_cast<std::size_t>(ndim), true);
  return node.type.broadcastable;
}

// Builds a KernelPlan in stages: rank, inputs, members, outputs, reductions,
// loop-dim patterns, vector width. Each stage checks what it reads.
class KernelPlanner {
 public:
  KernelPlanner(const Cluster& cluster, KernelPlan& plan) : cluster_(cluster), plan_(plan) {}

  void find_rank() {
    for (const auto& node : cluster_.inputs) plan_.ndim = std::max(plan_.ndim, node->type.ndim());
    for (const auto& node : cluster_.nodes) plan_.ndim = std::max(plan_.ndim, node->type.ndim());
    plan_.loop_ndim = std::max(plan_.ndim, 1);
    iteration_broadcast_.assign(static_cast<std::size_t>(plan_.ndim), true);
  }

  // Inputs become operands, except constants compiled into the code; the
  // loop broadcasts a dim only where every input does.
  void add_inputs() {
    for (const auto& node : cluster_.inputs) {
      check_rank(*node, true);
      defined_.insert(node.get());
      if (is_compiled_in_constant(*node)) {
        plan_.input_operand.push_back(-1);
        plan_.constants.push_back(node.get());
        continue;
      }
      const std::vector<bool> pattern = broadcast_pattern(*node, plan_.ndim);
      for (int d = 0; d < plan_.ndim; ++d) iteration_broadcast_[d] = iteration_broadcast_[d] && pattern[d];
      Operand operand = make_operand(Operand::Role::Input, *node, pattern);
      operand.index = static_cast<int>(plan_.input_operand.size());
      plan_.input_operand.push_back(static_cast<int>(plan_.operands.size()));
      plan_.operands.push_back(std::move(operand));
    }
  }

  // Members read only inputs, earlier members and compiled-in constants.
  void check_members() {
    for (const auto& node : cluster_.nodes) {
      if (ir::op_info(node->op).kind != ir::OpKind::Elemwise)
        invalid(cluster_, fmt::format("{} is not an elementwise op", describe_node(*node)));
      check_rank(*node, false);
      for (const auto& in : node->inputs) {
        if (defined_.count(in.get())) continue;
        if (!is_compiled_in_constant(*in))
          invalid(cluster_, fmt::format("{} reads {}, which is neither a cluster input nor an earlier node",
                                        describe_node(*node), describe_node(*in)));
        defined_.insert(in.get());
        plan_.constants.push_back(in.get());
      }
      defined_.insert(node.get());
    }
  }

  void add_outputs() {
    for (const auto& node : cluster_.outputs) {
      check_full_pattern(*node, "output");
      Operand operand = make_operand(Operand::Role::Output, *node,
                                     std::vector<bool>(static_cast<std::size_t>(plan_.loop_ndim), false));
      add_output_operand(node, std::move(operand));
    }
  }

  void add_reductions() {
    for (const auto& node : cluster_.reductions) {
      if (node->inputs.size() != 1) invalid(cluster_, fmt::format("{} must have one input", describe_node(*node)));
      const ir::Node& input = *node->inputs[0];
      check_full_pattern(input, "reduction input");
      Operand operand = make_operand(Operand::Role::Reduction, input, reduced_axes(cluster_, *node, plan_.ndim));
      operand.dtype = node->type.dtype;
      operand.reduce = reduce_op(cluster_, *node);
      operand.keepdims = node->attrs.keepdims;
      if (plan_.ndim == 0) operand.stride_zero = {true};
      add_output_operand(node, std::move(operand));
    }
    if (plan_.outputs.empty()) invalid(cluster_, "it has neither outputs nor reductions");
  }

  // Loop dims whose operands have the same stride-zero flags get one id, so
  // the launcher may collapse them.
  void number_dim_patterns() {
    // Inputs that are 0-d still get one loop dim.
    for (Operand& operand : plan_.operands)
      operand.stride_zero.resize(static_cast<std::size_t>(plan_.loop_ndim), true);
    std::map<std::vector<bool>, int> pattern_ids;
    for (int d = 0; d < plan_.loop_ndim; ++d) {
      std::vector<bool> column;
      for (const Operand& operand : plan_.operands) column.push_back(operand.stride_zero[d]);
      plan_.dim_pattern.push_back(pattern_ids.emplace(column, static_cast<int>(pattern_ids.size())).first->second);
    }
  }

  // One vector register holds the widest element any lane computes with.
  void choose_vector_width(int vector_bits) {
    std::size_t widest = 1;
    for (const Operand& operand : plan_.operands) widest = std::max(widest, dtype_size(operand.dtype));
    for (const auto& node : plan_.nodes)
      widest = std::max({widest, dtype_size(node->type.dtype), dtype_size(compute_dtype(*node))});
    plan_.vector_width = std::max(1, vector_bits / 8 / static_cast<int>(widest));
  }

  // Row lanes pay when some operand is one value per row (a reduction along
  // the row, or an input broadcast along it), so that short rows would leave
  // the per-row loop mostly partial vectors. Reductions must then keep the
  // rows apart and reduce along them.
  void choose_row_lanes() {
    const int L = plan_.loop_ndim;
    if (L < 2 || plan_.vector_width < 2) return;
    const auto row = static_cast<std::size_t>(L - 2), inner = static_cast<std::size_t>(L - 1);
    bool per_row = false;
    for (const Operand& operand : plan_.operands) {
      // Lanes of a step are different rows, and only values stored whole go
      // through the column buffers.
      if (operand.role == Operand::Role::Reduction && (operand.stride_zero[row] || !operand.stride_zero[inner]))
        return;
      per_row = per_row || (operand.stride_zero[inner] && !operand.stride_zero[row]);
    }
    if (per_row) plan_.row_lanes_max_extent = kRowLanesMaxVectors * plan_.vector_width;
  }

 private:
  Operand make_operand(Operand::Role role, const ir::Node& value, std::vector<bool> stride_zero) const {
    Operand operand;
    operand.role = role;
    operand.dtype = value.type.dtype;
    operand.stride_zero = std::move(stride_zero);
    operand.value = &value;
    return operand;
  }

  void add_output_operand(const ir::NodeRef& node, Operand operand) {
    operand.index = static_cast<int>(plan_.outputs.size());
    plan_.outputs.push_back(node);
    plan_.operands.push_back(std::move(operand));
  }

  void check_rank(const ir::Node& node, bool scalar_ok) const {
    if (node.type.ndim() != plan_.ndim && !(scalar_ok && node.type.ndim() == 0))
      invalid(cluster_, fmt::format("{} has {} dims but the cluster has {}; all its values must have the same rank",
                                    describe_node(node), node.type.ndim(), plan_.ndim));
  }

  // A stored or reduced value must be computed here and vary along every dim
  // the loop does, or the kernel would write or count it repeatedly.
  void check_full_pattern(const ir::Node& value, const char* role) const {
    if (!defined_.count(&value))
      invalid(cluster_, fmt::format("{} {} is not computed in the cluster", role, describe_node(value)));
    if (broadcast_pattern(value, plan_.ndim) != iteration_broadcast_)
      invalid(cluster_, fmt::format("{} {} broadcasts where the cluster does not; it would be repeated "
                                    "(store or reduce it in another kernel)",
                                    role, describe_node(value)));
  }

  const Cluster& cluster_;
  KernelPlan& plan_;
  std::unordered_set<const ir::Node*> defined_;  // values available to members, in order of definition
  std::vector<bool> iteration_broadcast_;
};

}  // namespace

KernelPlan plan_kernel(const Cluster& cluster, std::string symbol, int vector_bits) {
  KernelPlan plan;
  plan.name = cluster.name;
  plan.symbol = std::move(symbol);
  plan.inputs = cluster.inputs;
  plan.nodes = cluster.nodes;
  KernelPlanner planner(cluster, plan);
  planner.find_rank();
  planner.add_inputs();
  planner.check_members();
  planner.add_outputs();
  planner.add_reductions();
  planner.number_dim_patterns();
  planner.choose_vector_width(vector_bits);
  planner.choose_row_lanes();
  return plan;
}

bool takes_row_lanes(const KernelPlan& plan, std::int64_t rows, std::int64_t row_extent) {
  return plan.row_lanes_max_extent > 0 && row_extent <= plan.row_lanes_max_extent &&
         row_extent >= plan.vector_width && rows >= plan.vector_width;
}

}  // namespace graphjit::codegen
