// User-defined ops (graphjit/custom_op.hpp): one op-table entry, Custom,
// whose rules look up the user's OpDefinition in a process-wide registry by
// the id in attrs.ints[0] (attrs.text holds its name, for printing). Each
// rule calls the user's function and checks what comes back, so a wrong type
// rule, shape rule or kernel is reported as the op's error, not a crash.
#include "frontend/ops/op_support.hpp"

#include <graphjit/custom_op.hpp>
#include <graphjit/tensor.hpp>

#include <fmt/format.h>
#include <memory>
#include <mutex>

namespace graphjit {

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::shared_ptr<const OpDefinition>> ops;  // by id; never removed, so references stay valid
};

Registry& registry() {
  static Registry r;
  return r;
}

const OpDefinition& definition(std::int64_t id) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  return *r.ops.at(static_cast<std::size_t>(id));
}

const OpDefinition& definition(const ir::Node& node) { return definition(node.attrs.ints.at(0)); }

std::vector<Variable> input_variables(const ir::Node& node) {
  std::vector<Variable> inputs;
  for (const ir::NodeRef& in : node.inputs) inputs.push_back(Variable(in));
  return inputs;
}

}  // namespace

namespace ir {

namespace {

Type custom_type(const Node& node) {
  const OpDefinition& def = definition(node);
  OutputType out;
  try {
    out = def.type(input_variables(node));
  } catch (const std::exception& e) {
    type_error(node, fmt::format("the type rule of user op '{}' rejected its inputs: {}", def.name, e.what()));
  }
  return Type{out.dtype, out.broadcastable};
}

Shape custom_shape(const Node& node, const std::vector<Tensor>& inputs) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  Shape shape;
  try {
    shape = definition(node).shape(shapes);
  } catch (const std::exception& e) {
    shape_error(node, inputs,
                fmt::format("the shape rule of user op '{}' rejected the inputs: {}", definition(node).name, e.what()));
  }
  if (static_cast<int>(shape.size()) != node.type.ndim())
    shape_error(node, inputs,
                fmt::format("the shape rule of user op '{}' gave {}, but its type rule says {} dimensions",
                            definition(node).name, shape_str(shape), node.type.ndim()));
  for (int d = 0; d < node.type.ndim(); ++d)
    if (node.type.broadcastable[static_cast<std::size_t>(d)] && shape[static_cast<std::size_t>(d)] != 1)
      shape_error(node, inputs,
                  fmt::format("the shape rule of user op '{}' gave {}, but dim {} is broadcastable (length 1)",
                              definition(node).name, shape_str(shape), d));
  return shape;
}

// perform, checked against the rules: the oracle must agree with the type
// and shape every other stage was planned with.
Tensor custom_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const OpDefinition& def = definition(node);
  const Shape shape = custom_shape(node, inputs);
  const Tensor out = def.perform(inputs);
  if (!out.defined() || out.dtype() != node.type.dtype || out.shape() != shape)
    shape_error(node, inputs,
                fmt::format("perform of user op '{}' returned {} {}, but its rules say {} {}", def.name,
                            out.defined() ? dtype_name(out.dtype()) : "an undefined tensor",
                            out.defined() ? shape_str(out.shape()) : "", dtype_name(node.type.dtype), shape_str(shape)));
  return out;
}

// The user's native kernel writes into the planner's memory; an op without
// one runs perform and copies its result there.
Tensor custom_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const OpDefinition& def = definition(node);
  Tensor out = memory.get(custom_shape(node, inputs), node.type.dtype);
  if (def.native) def.native(inputs, out);
  else out.assign(custom_reference(node, inputs));
  return out;
}

std::vector<Variable> custom_grad(const Node& node, const Variable& output, const Variable& output_grad) {
  const OpDefinition& def = definition(node);
  if (!def.grad)
    throw GradError(fmt::format("grad: user op '{}' ({}) has no gradient; give its OpDefinition a grad, or "
                                "wrap its input in T::disconnected_grad",
                                def.name, describe(node)));
  std::vector<Variable> grads = def.grad(input_variables(node), output, output_grad);
  if (grads.size() != node.inputs.size())
    throw GradError(fmt::format("grad: the gradient of user op '{}' ({}) gave {} gradients for {} inputs", def.name,
                                describe(node), grads.size(), node.inputs.size()));
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    if (grads[i].ndim() != node.inputs[i]->type.ndim())
      throw GradError(fmt::format("grad: the gradient of user op '{}' for input {} has type {}, but the input has "
                                  "type {} ({})",
                                  def.name, i, grads[i].type_str(), node.inputs[i]->type.str(), describe(node)));
    if (grads[i].dtype() != node.inputs[i]->type.dtype) grads[i] = tensor::cast(grads[i], node.inputs[i]->type.dtype);
  }
  return grads;
}

// The user's R-operator, its result checked against the output's type.
Variable custom_rop(const Node& node, const Variable& output, const std::vector<Variable>& tangents) {
  const OpDefinition& def = definition(node);
  if (!def.rop)
    throw GradError(fmt::format("Rop: user op '{}' ({}) has no R-operator; give its OpDefinition an rop, or use "
                                "Lop or grad instead",
                                def.name, describe(node)));
  Variable r = def.rop(input_variables(node), output, tangents);
  if (!r.defined()) return tensor::zeros_like(output);
  if (r.ndim() != output.ndim())
    throw GradError(fmt::format("Rop: the R-operator of user op '{}' gave {}, but the output is {} ({})", def.name,
                                r.type_str(), output.type_str(), describe(node)));
  return r.dtype() == output.dtype() ? r : tensor::cast(r, output.dtype());
}

}  // namespace

void register_custom_op() {
  define_op(OpCode::Custom, {custom_type, custom_shape, custom_reference, custom_grad, NativeKernel(custom_native)});
  define_op(OpCode::Custom).rop = custom_rop;
}

}  // namespace ir

CustomOp::CustomOp(OpDefinition def) {
  std::string missing;
  if (def.name.empty()) missing += " a name,";
  if (!def.type) missing += " a type rule,";
  if (!def.shape) missing += " a shape rule,";
  if (!def.perform) missing += " perform,";
  if (!missing.empty()) {
    missing.pop_back();
    throw TypeError(fmt::format("CustomOp '{}': the definition lacks{}; each op needs a name, a type rule, a shape "
                                "rule and perform (its reference kernel)",
                                def.name, missing));
  }
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  id_ = static_cast<std::int64_t>(r.ops.size());
  r.ops.push_back(std::make_shared<const OpDefinition>(std::move(def)));
}

const std::string& CustomOp::name() const { return definition(id_).name; }

Variable CustomOp::operator()(const std::vector<Variable>& inputs, std::source_location where) const {
  const OpDefinition& def = definition(id_);
  if (def.arity >= 0 && static_cast<int>(inputs.size()) != def.arity)
    throw TypeError(fmt::format("user op '{}' at {}: takes {} inputs, got {}", def.name, ops::where_str(where),
                                def.arity, inputs.size()));
  for (const Variable& v : inputs) ops::require_defined(v, def.name, where);
  ir::Attrs attrs;
  attrs.ints = {id_};
  attrs.text = def.name;
  return ops::apply(ir::OpCode::Custom, inputs, std::move(attrs), where);
}

}  // namespace graphjit
