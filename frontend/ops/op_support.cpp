#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <fmt/format.h>
#include <stdexcept>

namespace graphjit::ops {

void require_defined(const Variable& v, std::string_view builder, std::source_location where) {
  if (!v.defined())
    throw TypeError(fmt::format("{} at {}: an input is an undefined Variable (default-constructed or an empty gradient)",
                                builder, where_str(where)));
}

Variable apply(ir::OpCode op, const std::vector<Variable>& inputs, ir::Attrs attrs, std::source_location where) {
  std::vector<ir::NodeRef> nodes;
  nodes.reserve(inputs.size());
  for (const Variable& v : inputs) {
    require_defined(v, ir::op_info(op).name, where);
    nodes.push_back(v.node());
  }
  return Variable(ir::make(op, std::move(nodes), std::move(attrs), where));
}

int normalize_axis(const ir::Node& node, std::int64_t axis, int ndim) {
  if (ndim == 0 || axis < -ndim || axis >= ndim)
    type_error(node, fmt::format("axis {} is out of range for an input of {} dimensions", axis, ndim));
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

void require_int_scalars(const ir::Node& node, std::size_t first, const char* role) {
  for (std::size_t i = first; i < node.inputs.size(); ++i) {
    const ir::Type& t = node.inputs[i]->type;
    if (t.ndim() != 0 || !is_integer(t.dtype) || t.dtype == bool_)
      type_error(node, fmt::format("input {} ('{}', {}) is {}, which must be an integer scalar", i,
                                   node.inputs[i]->label(), t.str(), role));
  }
}

std::int64_t checked_numel(const ir::Node& node, const std::vector<Tensor>& inputs, const Shape& shape) {
  try {
    return shape_numel(shape);
  } catch (const std::overflow_error&) {
    shape_error(node, inputs, fmt::format("the shape {} has more elements than an int64 can count", shape_str(shape)));
  }
}

Variable sum_to_input(const Variable& g, const ir::Node& input) {
  std::vector<int> axes;
  for (int d = 0; d < input.type.ndim(); ++d)
    if (input.type.broadcastable[d] && !g.broadcastable()[d]) axes.push_back(d);
  Variable out = axes.empty() ? g : tensor::sum(g, axes, /*keepdims=*/true);
  if (out.dtype() != input.type.dtype) out = tensor::cast(out, input.type.dtype);
  return out;
}

}  // namespace graphjit::ops
