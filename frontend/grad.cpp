// Reverse-mode differentiation over the symbolic graph (T.grad). Gradients
// are graphs themselves, so they are optimized and compiled with the rest.
#include <graphjit/errors.hpp>
#include <graphjit/grad.hpp>
#include <graphjit/tensor.hpp>

#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/passes/passes.hpp"
#include "frontend/ops/op_support.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iostream>
#include <unordered_map>
#include <unordered_set>

namespace graphjit {

namespace {

// Nodes on some path from a wrt variable up to the cost: the only ones whose
// gradients are worth building. Nodes in `constants` (consider_constant) pass nothing on.
std::unordered_set<const ir::Node*> on_paths_to(const std::vector<ir::NodeRef>& order, const std::vector<Variable>& wrt,
                                                const std::unordered_set<const ir::Node*>& constants) {
  std::unordered_set<const ir::Node*> reach;
  for (const Variable& w : wrt) reach.insert(w.node().get());
  for (const ir::NodeRef& node : order)
    for (const ir::NodeRef& in : node->inputs)
      if (reach.count(in.get()) && !constants.count(in.get())) {
        reach.insert(node.get());
        break;
      }
  return reach;
}

// The cost as it will be differentiated: its stabilized form
// (stabilize_before_grad in compiler/passes/stabilize.cpp), whose gradients stay finite where the
// chain rule through the original multiplies an overflowed inf by an
// underflowed 0 (the gradient of log(1 - sigmoid(z)) is -sigmoid(z), not
// -1/(1 - sigmoid(z)) * sigmoid(z)(1 - sigmoid(z))). The two compute the same
// function; the original is kept when a rewrite would remove a wrt variable
// (an intermediate result the stable form does not compute), or a variable
// the options name (consider_constant, known_grads).
ir::NodeRef stable_cost(const Variable& cost, std::vector<Variable> wrt, const GradOptions& options) {
  wrt.insert(wrt.end(), options.consider_constant.begin(), options.consider_constant.end());
  for (const auto& [var, g] : options.known_grads) wrt.push_back(var);
  const ir::NodeRef stable = compiler::passes::stabilize_before_grad({cost.node()}).front();
  if (stable == cost.node()) return stable;
  const auto kept = ir::ancestors({stable});
  for (const Variable& w : wrt)
    if (w.defined() && !kept.count(w.node().get())) return cost.node();
  return stable;
}

// Multi-output ops (scan): per application, its first output node in
// `order`, with every output node of that application in `order`.
std::unordered_map<const ir::Node*, std::vector<const ir::Node*>> multi_output_applications(
    const std::vector<ir::NodeRef>& order) {
  std::unordered_map<const ir::Node*, std::vector<const ir::Node*>> first;
  std::vector<const ir::Node*> firsts;
  for (const ir::NodeRef& n : order) {
    if (!ir::op_info(n->op).grad_outputs) continue;
    auto known = std::find_if(firsts.begin(), firsts.end(), [&](const ir::Node* f) { return ir::same_application(*f, *n); });
    if (known == firsts.end()) {
      firsts.push_back(n.get());
      first[n.get()].push_back(n.get());
    } else {
      first[*known].push_back(n.get());
    }
  }
  return first;
}

}  // namespace

namespace {

void check_cost(const Variable& cost) {
  if (cost.ndim() != 0)
    throw GradError(fmt::format("grad: the cost '{}' must be a scalar, but has type {}; reduce it first "
                                "(e.g. T::mean or T::sum)", cost.label(), cost.type_str()));
  if (!is_float(cost.dtype()))
    throw GradError(fmt::format("grad: the cost '{}' has dtype {}; gradients need a float cost", cost.label(),
                                dtype_name(cost.dtype())));
}

// Where back-propagation starts: d cost/d cost = 1 and the known gradients.
std::unordered_map<const ir::Node*, Variable> seed_grads(const ir::NodeRef& differentiated, const Variable& cost,
                                                         const GradOptions& options) {
  std::unordered_map<const ir::Node*, Variable> grads;
  if (differentiated) grads[differentiated.get()] = constant(1.0, cost.dtype());
  for (const auto& [var, g] : options.known_grads) {
    if (!var.defined() || !g.defined()) throw GradError("grad: a known_grads entry is an undefined Variable");
    if (g.ndim() != var.ndim())
      throw GradError(fmt::format("grad: the known gradient of '{}' ({}) has type {}; it must have the variable's rank",
                                  var.label(), var.type_str(), g.type_str()));
    auto [slot, inserted] = grads.try_emplace(var.node().get(), g);
    if (!inserted) slot->second = slot->second + g;
  }
  return grads;
}

// Theano's disconnected_inputs and return_disconnected for a wrt the cost does not reach.
Variable disconnected(const Variable& cost, const Variable& w, const GradOptions& options) {
  const std::string msg = fmt::format("grad: the cost '{}' does not depend on '{}' (or only through integer operations, "
                                      "constants or disconnected_grad)",
                                      cost.defined() ? cost.label() : "(known_grads)", w.label());
  if (options.disconnected_inputs == DisconnectedInputs::raise)
    throw GradError(msg + "; pass disconnected_inputs = ignore (or allow_disconnected=true) to get zeros");
  if (options.disconnected_inputs == DisconnectedInputs::warn) std::cerr << "graphjit warning: " << msg << '\n';
  return options.return_disconnected == ReturnDisconnected::zero ? tensor::zeros_like(w) : Variable();
}

}  // namespace

std::vector<Variable> grad(const Variable& cost, const std::vector<Variable>& wrt, const GradOptions& options) {
  if (!cost.defined() && options.known_grads.empty())
    throw GradError("grad: the cost is an undefined Variable (and no known_grads are given)");
  if (cost.defined()) check_cost(cost);
  for (const Variable& w : wrt)
    if (!w.defined()) throw GradError("grad: a wrt entry is an undefined Variable");

  const ir::NodeRef differentiated = cost.defined() ? stable_cost(cost, wrt, options) : nullptr;
  std::vector<ir::NodeRef> roots;
  if (differentiated) roots.push_back(differentiated);
  for (const auto& [var, g] : options.known_grads)
    if (var.defined()) roots.push_back(var.node());
  const std::vector<ir::NodeRef> order = ir::toposort(roots);
  std::unordered_set<const ir::Node*> constants;
  for (const Variable& c : options.consider_constant)
    if (c.defined()) constants.insert(c.node().get());
  const auto reach = on_paths_to(order, wrt, constants);
  std::unordered_map<const ir::Node*, Variable> grads = seed_grads(differentiated, cost, options);

  const auto applications = multi_output_applications(order);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const ir::Node& node = **it;
    const ir::OpInfo& info = ir::op_info(node.op);
    auto g = grads.find(&node);
    if (constants.count(&node)) continue;
    std::vector<std::pair<int, Variable>> output_grads;  // multi-output ops: every output's gradient
    if (info.grad_outputs) {
      // Differentiated once, at its first output in `order`, when every
      // output's gradient is complete.
      auto app = applications.find(&node);
      if (app == applications.end()) continue;
      for (const ir::Node* out : app->second)
        if (auto go = grads.find(out); go != grads.end())
          output_grads.emplace_back(static_cast<int>(out->attrs.ints.at(0)), go->second);
      if (output_grads.empty()) continue;
    } else if (g == grads.end() || node.inputs.empty()) {
      continue;
    }
    bool wanted = false;
    for (const ir::NodeRef& in : node.inputs) wanted = wanted || (reach.count(in.get()) && is_float(in->type.dtype));
    if (!wanted) continue;
    if (!info.grad && !info.grad_outputs)
      throw GradError(fmt::format("grad: {} is not differentiable, but the cost depends on the wrt variables "
                                  "through it", ops::describe(node)));
    std::vector<Variable> input_grads =
        info.grad_outputs ? info.grad_outputs(node, output_grads) : info.grad(node, Variable(*it), g->second);
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::Node* in = node.inputs[i].get();
      if (i >= input_grads.size() || !input_grads[i].defined() || !reach.count(in)) continue;
      auto [slot, inserted] = grads.try_emplace(in, input_grads[i]);
      if (!inserted) slot->second = slot->second + input_grads[i];
    }
  }

  std::vector<Variable> result;
  for (const Variable& w : wrt) {
    auto g = grads.find(w.node().get());
    result.push_back(g != grads.end() ? g->second : disconnected(cost, w, options));
  }
  return result;
}

std::vector<Variable> grad(const Variable& cost, const std::vector<Variable>& wrt, bool allow_disconnected) {
  if (!cost.defined()) throw GradError("grad: the cost is an undefined Variable");
  return grad(cost, wrt,
              GradOptions{.disconnected_inputs = allow_disconnected ? DisconnectedInputs::ignore : DisconnectedInputs::raise});
}

Variable grad(const Variable& cost, const Variable& wrt, bool allow_disconnected) {
  return grad(cost, std::vector<Variable>{wrt}, allow_disconnected).front();
}

}  // namespace graphjit
