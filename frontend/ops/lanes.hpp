// Walking a tensor lane by lane along one axis, for the ops that work on
// whole lanes (cumulative sums and products, sorting). A lane is the
// elements whose indices differ only along the axis; the kernels read and
// write them through each tensor's own strides, so strided views need no copy.
#pragma once

#include "frontend/ops/op_support.hpp"

#include <graphjit/runtime/tensor.hpp>
#include <graphjit/tensor.hpp>

#include <cstdint>
#include <optional>
#include <source_location>
#include <vector>

namespace graphjit::ops {

// Calls visit(start) for each lane, `start` being the index of its first
// element (start[axis] == 0), in row-major order. Nothing for an empty shape.
template <class Visit> void for_each_lane(const Shape& shape, int axis, Visit&& visit) {
  if (shape_numel(shape) == 0) return;
  Shape starts = shape;
  starts[static_cast<std::size_t>(axis)] = 1;
  for_each_index(starts, visit);
}

// The element offset of `index` in a tensor with `strides`.
inline std::int64_t offset_of(const std::vector<std::int64_t>& index, const Strides& strides) {
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < index.size(); ++d) offset += index[d] * strides[d];
  return offset;
}

// What a lane op's builder applies the op to: Theano's axis=None means the
// flattened input along its one axis. A valid axis comes back non-negative
// (equal calls make equal nodes); an invalid one unchanged, for the op's type
// rule to report with the node.
struct LaneInput {
  Variable x;
  int axis;
};
inline LaneInput lane_input(ir::OpCode op, const Variable& x, std::optional<int> axis, std::source_location where) {
  require_defined(x, ir::op_info(op).name, where);
  LaneInput in{axis ? x : tensor::flatten(x, 1, where), axis.value_or(0)};
  if (in.axis < 0 && in.axis >= -in.x.ndim()) in.axis += in.x.ndim();
  return in;
}

}  // namespace graphjit::ops
