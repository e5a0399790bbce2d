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
    case OpCode::Eq:
    case OpCode::Neq:
    case OpCode::Lt:
    case OpCode::Le:
    case OpCode::Gt:
    case OpCode::Ge: {
      DType t = node.inputs[0]->type.dtype;
      for (const auto& in : node.inputs) t = promote(t, in->type.dtype);
      return is_float(t) ? t : DType::int64;
    }
    case OpCode::And:
    case OpCode::Or:
    case OpCode::Xor:
    case OpCode::Not: return DType::bool_;
    case OpCode::Cast:
    case OpCode::Switch: return node.type.dtype;
    default: return is_float(node.type.dtype) ? node.type.dtype : DType::int64;
  }
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

std::vector<bool> broadcast_pattern(const ir::Node& node, int ndim) {
  if (node.type.ndim() == 0) return std::vector<bool>(static_cast<std::size_t>(ndim), true);
  return node.type.broadcastable;
}

}  // namespace

KernelPlan plan_kernel(const Cluster& cluster, std::string symbol, int vector_bits) {
  KernelPlan plan;
  plan.name = cluster.name;
  plan.symbol = std::move(symbol);
  plan.inputs = cluster.inputs;
  plan.nodes = cluster.nodes;

  // The rank: every non-scalar value in the cluster has it.
  for (const auto& node : cluster.inputs) plan.ndim = std::max(plan.ndim, node->type.ndim());
  for (const auto& node : cluster.nodes) plan.ndim = std::max(plan.ndim, node->type.ndim());
  plan.loop_ndim = std::max(plan.ndim, 1);
  auto check_rank = [&](const ir::Node& node, bool scalar_ok) {
    if (node.type.ndim() != plan.ndim && !(scalar_ok && node.type.ndim() == 0))
      invalid(cluster, fmt::format("{} has {} dims but the cluster has {}; all its values must have the same rank",
                                   describe_node(node), node.type.ndim(), plan.ndim));
  };

  // Values available to nodes, in order of definition.
  std::unordered_set<const ir::Node*> defined;
  std::vector<bool> iteration_broadcast(static_cast<std::size_t>(plan.ndim), true);
  for (const auto& node : cluster.inputs) {
    check_rank(*node, true);
    defined.insert(node.get());
    if (is_compiled_in_constant(*node)) {
      plan.input_operand.push_back(-1);
      plan.constants.push_back(node.get());
      continue;
    }
    const std::vector<bool> pattern = broadcast_pattern(*node, plan.ndim);
    for (int d = 0; d < plan.ndim; ++d) iteration_broadcast[d] = iteration_broadcast[d] && pattern[d];
    Operand operand;
    operand.role = Operand::Role::Input;
    operand.dtype = node->type.dtype;
    operand.stride_zero = pattern;
    operand.value = node.get();
    operand.index = static_cast<int>(plan.input_operand.size());
    plan.input_operand.push_back(static_cast<int>(plan.operands.size()));
    plan.operands.push_back(std::move(operand));
  }
  for (const auto& node : cluster.nodes) {
    if (ir::op_info(node->op).kind != ir::OpKind::Elemwise)
      invalid(cluster, fmt::format("{} is not an elementwise op", describe_node(*node)));
    check_rank(*node, false);
    for (const auto& in : node->inputs) {
      if (defined.count(in.get())) continue;
      if (!is_compiled_in_constant(*in))
        invalid(cluster, fmt::format("{} reads {}, which is neither a cluster input nor an earlier node",
                                     describe_node(*node), describe_node(*in)));
      defined.insert(in.get());
      plan.constants.push_back(in.get());
    }
    defined.insert(node.get());
  }

  auto check_full_pattern = [&](const ir::Node& value, const char* role) {
    if (!defined.count(&value))
      invalid(cluster, fmt::format("{} {} is not computed in the cluster", role, describe_node(value)));
    if (broadcast_pattern(value, plan.ndim) != iteration_broadcast)
      invalid(cluster, fmt::format("{} {} broadcasts where the cluster does not; it would be repeated "
                                   "(store or reduce it in another kernel)",
                                   role, describe_node(value)));
  };
  for (const auto& node : cluster.outputs) {
    check_full_pattern(*node, "output");
    Operand operand;
    operand.role = Operand::Role::Output;
    operand.dtype = node->type.dtype;
    operand.stride_zero.assign(static_cast<std::size_t>(plan.loop_ndim), false);
    operand.value = node.get();
    operand.index = static_cast<int>(plan.outputs.size());
    plan.outputs.push_back(node);
    plan.operands.push_back(std::move(operand));
  }
  for (const auto& node : cluster.reductions) {
    if (node->inputs.size() != 1) invalid(cluster, fmt::format("{} must have one input", describe_node(*node)));
    Operand operand;
    operand.role = Operand::Role::Reduction;
    operand.reduce = reduce_op(cluster, *node);
    operand.value = node->inputs[0].get();
    check_full_pattern(*operand.value, "reduction input");
    operand.dtype = node->type.dtype;
    operand.keepdims = node->attrs.keepdims;
    operand.stride_zero = reduced_axes(cluster, *node, plan.ndim);
    if (plan.ndim == 0) operand.stride_zero = {true};
    operand.index = static_cast<int>(plan.outputs.size());
    plan.outputs.push_back(node);
    plan.operands.push_back(std::move(operand));
  }
  if (plan.outputs.empty()) invalid(cluster, "it has neither outputs nor reductions");

  // Inputs that are 0-d still get one loop dim.
  for (Operand& operand : plan.operands) operand.stride_zero.resize(static_cast<std::size_t>(plan.loop_ndim), true);

  std::map<std::vector<bool>, int> pattern_ids;
  for (int d = 0; d < plan.loop_ndim; ++d) {
    std::vector<bool> column;
    for (const Operand& operand : plan.operands) column.push_back(operand.stride_zero[d]);
    plan.dim_pattern.push_back(pattern_ids.emplace(column, static_cast<int>(pattern_ids.size())).first->second);
  }

  // One vector register holds the widest element any lane computes with.
  std::size_t widest = 1;
  for (const Operand& operand : plan.operands) widest = std::max(widest, dtype_size(operand.dtype));
  for (const auto& node : plan.nodes)
    widest = std::max({widest, dtype_size(node->type.dtype), dtype_size(compute_dtype(*node))});
  plan.vector_width = std::max(1, vector_bits / 8 / static_cast<int>(widest));
  return plan;
}

}  // namespace graphjit::codegen
