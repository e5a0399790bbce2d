// Rop (forward mode over the ops' R-operators), Lop, jacobian and hessian
// (graphjit/rop.hpp).
#include <graphjit/errors.hpp>
#include <graphjit/grad.hpp>
#include <graphjit/rop.hpp>
#include <graphjit/tensor.hpp>

#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"
#include "frontend/ops/op_support.hpp"

#include <fmt/format.h>
#include <unordered_map>

namespace graphjit {

Variable Rop(const Variable& f, const std::vector<Variable>& wrt, const std::vector<Variable>& eval_points) {
  if (!f.defined()) throw GradError("Rop: f is an undefined Variable");
  if (wrt.size() != eval_points.size())
    throw GradError(fmt::format("Rop: {} wrt variables but {} eval points; give one per wrt", wrt.size(), eval_points.size()));
  std::unordered_map<const ir::Node*, Variable> tangent;
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    if (!wrt[i].defined() || !eval_points[i].defined()) throw GradError("Rop: a wrt or eval point is undefined");
    if (wrt[i].ndim() != eval_points[i].ndim())
      throw GradError(fmt::format("Rop: the eval point '{}' ({}) must have the type of '{}' ({})", eval_points[i].label(),
                                  eval_points[i].type_str(), wrt[i].label(), wrt[i].type_str()));
    tangent[wrt[i].node().get()] = eval_points[i];
  }
  for (const ir::NodeRef& node : ir::toposort({f.node()})) {
    if (tangent.count(node.get()) || !is_float(node->type.dtype)) continue;  // no tangent flows through integers
    std::vector<Variable> in(node->inputs.size());
    bool any = false;
    for (std::size_t i = 0; i < in.size(); ++i)
      if (auto t = tangent.find(node->inputs[i].get()); t != tangent.end() && is_float(node->inputs[i]->type.dtype)) {
        in[i] = t->second;
        any = true;
      }
    if (!any) continue;
    const ir::OpInfo& info = ir::op_info(node->op);
    if (!info.rop)
      throw GradError(fmt::format("Rop: {} has no R-operator (forward-mode derivative); use Lop or grad instead",
                                  ops::describe(*node)));
    tangent[node.get()] = info.rop(*node, Variable(node), in);
  }
  auto t = tangent.find(f.node().get());
  return t != tangent.end() ? t->second : tensor::zeros_like(f);
}

Variable Rop(const Variable& f, const Variable& wrt, const Variable& eval_point) {
  return Rop(f, std::vector<Variable>{wrt}, std::vector<Variable>{eval_point});
}

std::vector<Variable> Lop(const Variable& f, const std::vector<Variable>& wrt, const Variable& eval_point) {
  return grad(Variable(), wrt, GradOptions{.disconnected_inputs = DisconnectedInputs::ignore, .known_grads = {{f, eval_point}}});
}

Variable Lop(const Variable& f, const Variable& wrt, const Variable& eval_point) {
  return Lop(f, std::vector<Variable>{wrt}, eval_point).front();
}

Variable jacobian(const Variable& expression, const Variable& wrt, std::int64_t size) {
  if (!expression.defined() || !wrt.defined()) throw GradError("jacobian: an undefined Variable");
  if (size < 1) throw GradError(fmt::format("jacobian: size must be at least 1, got {}", size));
  // Reshaping to {size} checks the count when the function runs.
  const Variable flat = expression.reshape(std::vector<std::int64_t>{size});
  std::vector<Variable> rows;
  for (std::int64_t i = 0; i < size; ++i)
    rows.push_back(grad(flat[i], std::vector<Variable>{wrt}, GradOptions{.disconnected_inputs = DisconnectedInputs::ignore})
                       .front());
  return tensor::stack(rows);
}

Variable hessian(const Variable& cost, const Variable& wrt, std::int64_t size) {
  return jacobian(grad(cost, wrt), wrt, size);
}

}  // namespace graphjit
