#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <fmt/format.h>

namespace graphjit::ops {

Variable apply(ir::OpCode op, const std::vector<Variable>& inputs, ir::Attrs attrs, std::source_location where) {
  std::vector<ir::NodeRef> nodes;
  nodes.reserve(inputs.size());
  for (const Variable& v : inputs) {
    if (!v.defined())
      throw TypeError(fmt::format("{} at {}: an input is an undefined Variable (default-constructed or an empty gradient)",
                                  ir::op_info(op).name, where_str(where)));
    nodes.push_back(v.node());
  }
  return Variable(ir::make(op, std::move(nodes), std::move(attrs), where));
}

int normalize_axis(const ir::Node& node, std::int64_t axis, int ndim) {
  if (ndim == 0 || axis < -ndim || axis >= ndim)
    type_error(node, fmt::format("axis {} is out of range for an input of {} dimensions", axis, ndim));
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
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
