// Shape ops: reshape, concatenate, the shape of a value (ShapeOf, ShapeI),
// Alloc (a value broadcast to a shape, behind zeros_like and ones_like) and
// arange. Shapes are symbolic: a dim that is only known at run time is an
// int64 scalar computed from the values (x.shape(d)), so one compiled
// function works for every batch size.
#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace graphjit::ir {

namespace {

using ops::checked_numel;
using ops::require_int_scalars;

// Theano's rule: a target dim is broadcastable only when it is the constant 1,
// the one case where its length is known before run time.
bool is_constant_one(const NodeRef& n) {
  return n->op == OpCode::Constant && n->value.ndim() == 0 && n->value.get({}) == 1;
}

std::vector<bool> constant_one_dims(const Node& node, std::size_t first) {
  std::vector<bool> bcast;
  for (std::size_t i = first; i < node.inputs.size(); ++i) bcast.push_back(is_constant_one(node.inputs[i]));
  return bcast;
}

// Scalar inputs first..end read as a shape.
Shape read_dims(const std::vector<Tensor>& inputs, std::size_t first) {
  Shape dims;
  for (std::size_t i = first; i < inputs.size(); ++i) dims.push_back(inputs[i].item<std::int64_t>());
  return dims;
}

// --- Reshape: (x, one int scalar per output dim) ---------------------------------

Type reshape_type(const Node& node) {
  require_int_scalars(node, 1, "a target length");
  int inferred = 0;
  for (std::size_t i = 1; i < node.inputs.size(); ++i) {
    const NodeRef& d = node.inputs[i];
    if (d->op != OpCode::Constant) continue;
    const std::int64_t n = d->value.item<std::int64_t>();
    if (n < -1) ops::type_error(node, fmt::format("target length {} (input {}) is negative; only -1 (infer) is allowed", n, i));
    if (n == -1 && ++inferred > 1) ops::type_error(node, "more than one target length is -1; at most one can be inferred");
  }
  return Type{node.inputs[0]->type.dtype, constant_one_dims(node, 1)};
}

Shape reshape_shape(const Node& node, const std::vector<Tensor>& inputs) {
  Shape target = read_dims(inputs, 1);
  const Shape& from = inputs[0].shape();
  int inferred = -1;
  Shape known_dims;
  for (std::size_t d = 0; d < target.size(); ++d) {
    if (target[d] == -1 && inferred < 0) inferred = static_cast<int>(d);
    else if (target[d] < 0)
      ops::shape_error(node, inputs, fmt::format("the target shape {} has a negative length other than one -1",
                                                 shape_str(target)));
    else known_dims.push_back(target[d]);
  }
  const std::int64_t known = checked_numel(node, inputs, known_dims);
  if (inferred >= 0) {
    if (known == 0 || shape_numel(from) % known != 0)
      ops::shape_error(node, inputs, fmt::format("cannot reshape shape {} ({} elements) into {}: the -1 cannot be inferred",
                                                 shape_str(from), shape_numel(from), shape_str(target)));
    target[inferred] = shape_numel(from) / known;
  }
  if (const std::int64_t n = checked_numel(node, inputs, target); n != shape_numel(from))
    ops::shape_error(node, inputs, fmt::format("cannot reshape shape {} ({} elements) into {} ({} elements)",
                                               shape_str(from), shape_numel(from), shape_str(target), n));
  return target;
}

Tensor reshape_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return inputs[0].reshape(reshape_shape(node, inputs));
}

// x's shape as symbolic dims; broadcastable dims are the constant 1, so
// reshaping to it (or allocating it) gives back x's broadcastable pattern.
std::vector<Variable> symbolic_shape(const Variable& x) {
  std::vector<Variable> dims;
  for (int d = 0; d < x.ndim(); ++d)
    dims.push_back(x.broadcastable()[d] ? constant(1, int64) : x.shape(d));
  return dims;
}

std::vector<Variable> no_grads_after(std::vector<Variable> grads, std::size_t inputs) {
  grads.resize(inputs);
  return grads;
}

std::vector<Variable> reshape_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable x = ops::input(node, 0);
  return no_grads_after({tensor::reshape(g, symbolic_shape(x))}, node.inputs.size());
}

// --- Concatenate: attrs.ints[0] = axis -----------------------------------------

int concat_axis(const Node& node) {
  return ops::normalize_axis(node, node.attrs.ints.at(0), node.inputs[0]->type.ndim());
}

Type concat_type(const Node& node) {
  if (node.inputs.empty()) ops::type_error(node, "needs at least one input");
  const int ndim = node.inputs[0]->type.ndim();
  const int axis = concat_axis(node);
  DType dtype = node.inputs[0]->type.dtype;
  std::vector<bool> bcast(static_cast<std::size_t>(ndim), false);
  for (const NodeRef& in : node.inputs) {
    if (in->type.ndim() != ndim)
      ops::type_error(node, fmt::format("all inputs must have the same number of dimensions; '{}' has {}, '{}' has {}",
                                        node.inputs[0]->label(), ndim, in->label(), in->type.ndim()));
    dtype = promote(dtype, in->type.dtype);
    // Dims other than the axis must match at run time, so one broadcastable
    // input makes them all length 1.
    for (int d = 0; d < ndim; ++d)
      if (d != axis) bcast[d] = bcast[d] || in->type.broadcastable[d];
  }
  if (node.inputs.size() == 1) bcast[axis] = node.inputs[0]->type.broadcastable[axis];
  return Type{dtype, bcast};
}

Shape concat_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const int axis = concat_axis(node);
  Shape out = inputs[0].shape();
  out[axis] = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (int d = 0; d < inputs[i].ndim(); ++d)
      if (d != axis && inputs[i].shape(d) != out[d])
        ops::shape_error(node, inputs,
                         fmt::format("input {} ('{}') has length {} in dim {} where input 0 has {}; all dims but "
                                     "the concatenation axis {} must match",
                                     i, node.inputs[i]->label(), inputs[i].shape(d), d, out[d], axis));
    if (__builtin_add_overflow(out[axis], inputs[i].shape(axis), &out[axis]))
      ops::shape_error(node, inputs, fmt::format("the lengths along axis {} add up past int64", axis));
  }
  checked_numel(node, inputs, out);
  return out;
}

// The inputs copied one after the other into `out`, which the reference
// allocates and the native kernel takes from the memory plan.
Tensor concat_into(const Node& node, const std::vector<Tensor>& inputs, Tensor out) {
  const int axis = concat_axis(node);
  std::int64_t offset = 0;
  for (const Tensor& in : inputs) {
    out.slice(axis, offset, offset + in.shape(axis)).assign(in);
    offset += in.shape(axis);
  }
  return out;
}

Tensor concat_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return concat_into(node, inputs, Tensor::empty(concat_shape(node, inputs), node.type.dtype));
}

Tensor concat_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  return concat_into(node, inputs, memory.get(concat_shape(node, inputs), node.type.dtype));
}

// Each input's gradient is its stretch of g along the axis.
std::vector<Variable> concat_grad(const Node& node, const Variable&, const Variable& g) {
  const int axis = concat_axis(node);
  std::vector<Variable> grads;
  Bound start;  // nullopt: from the beginning
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const Variable x = ops::input(node, i);
    const Variable stop = start ? *start + x.shape(axis) : x.shape(axis);
    if (is_float(x.dtype())) {
      std::vector<Index> index(static_cast<std::size_t>(axis), Slice());
      index.push_back(Slice(start, stop));
      grads.push_back(tensor::cast(tensor::subtensor(g, index), x.dtype()));
    } else {
      grads.emplace_back();
    }
    start = stop;
  }
  return grads;
}

// --- ShapeOf and ShapeI --------------------------------------------------------

Tensor shape_of_reference(const Node&, const std::vector<Tensor>& inputs) {
  const Shape& s = inputs[0].shape();
  return Tensor::from_vector(std::vector<std::int64_t>(s.begin(), s.end()), {static_cast<std::int64_t>(s.size())});
}

int shape_i_axis(const Node& node) {
  return ops::normalize_axis(node, node.attrs.ints.at(0), node.inputs[0]->type.ndim());
}

Tensor shape_i_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return Tensor::scalar<std::int64_t>(inputs[0].shape(shape_i_axis(node)));
}

// --- Alloc: (value, one int scalar per dim) ------------------------------------------
// The value (a scalar, or a tensor whose dims line up with the trailing dims
// of the shape) broadcast to the shape.

Type alloc_type(const Node& node) {
  if (node.inputs.empty()) ops::type_error(node, "needs the value to fill with (input 0)");
  const int value_ndim = node.inputs[0]->type.ndim();
  if (value_ndim > static_cast<int>(node.inputs.size()) - 1)
    ops::type_error(node, fmt::format("the value '{}' ({}) has more dimensions than the {} lengths of the shape",
                                      node.inputs[0]->label(), node.inputs[0]->type.str(), node.inputs.size() - 1));
  require_int_scalars(node, 1, "a length of the allocated shape");
  return Type{node.inputs[0]->type.dtype, constant_one_dims(node, 1)};
}

// A value's dim stretches only where its type says it is broadcastable, so
// that the gradient (which sums over those dims) has the value's shape.
void check_alloc_value(const Node& node, const std::vector<Tensor>& inputs, const Shape& shape) {
  const Tensor& value = inputs[0];
  const std::size_t lead = shape.size() - static_cast<std::size_t>(value.ndim());
  for (int j = 0; j < value.ndim(); ++j) {
    const std::int64_t want = shape[lead + static_cast<std::size_t>(j)];
    if (value.shape(j) != want && !(node.inputs[0]->type.broadcastable[j] && value.shape(j) == 1))
      ops::shape_error(node, inputs,
                       fmt::format("the value '{}' has shape {}, which does not fit the shape {}: its dim {} has length "
                                   "{} where {} is needed (only dims broadcastable in its type, {}, stretch; declare "
                                   "them with T::addbroadcast)",
                                   node.inputs[0]->label(), shape_str(value.shape()), shape_str(shape), j,
                                   value.shape(j), want, node.inputs[0]->type.str()));
  }
}

Shape alloc_shape(const Node& node, const std::vector<Tensor>& inputs) {
  Shape shape = read_dims(inputs, 1);
  for (std::int64_t n : shape)
    if (n < 0) ops::shape_error(node, inputs, fmt::format("cannot allocate the negative shape {}", shape_str(shape)));
  checked_numel(node, inputs, shape);
  check_alloc_value(node, inputs, shape);
  return shape;
}

Tensor alloc_reference(const Node& node, const std::vector<Tensor>& inputs) {
  Tensor out = Tensor::empty(alloc_shape(node, inputs), node.type.dtype);
  out.assign(inputs[0]);
  return out;
}

// Compiled alloc of a scalar: a stride-0 view of the value, since no step
// writes into memory it did not allocate (alloc declares the view). Other
// values are copied into the planned memory.
Tensor alloc_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Shape shape = alloc_shape(node, inputs);
  if (inputs[0].ndim() == 0) return inputs[0].broadcast_to(shape);
  Tensor out = memory.get(shape, node.type.dtype);
  out.assign(inputs[0]);
  return out;
}

// Each element of the value fills a block of the output, so its gradient is
// g summed over the leading dims and over the dims the value stretched along.
std::vector<Variable> alloc_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable value = ops::input(node, 0);
  Variable gv;
  if (is_float(value.dtype())) {
    std::vector<int> lead(static_cast<std::size_t>(g.ndim() - value.ndim()));
    for (std::size_t d = 0; d < lead.size(); ++d) lead[d] = static_cast<int>(d);
    gv = ops::sum_to_input(lead.empty() ? g : tensor::sum(g, lead), *node.inputs[0]);
  }
  return no_grads_after({gv}, node.inputs.size());
}

// --- Arange: (start, stop, step) scalars -----------------------------------------------

Type arange_type(const Node& node) {
  bool all_int = true;
  for (const NodeRef& in : node.inputs) {
    if (in->type.ndim() != 0 || in->type.dtype == bool_)
      ops::type_error(node, fmt::format("start, stop and step must be numeric scalars; '{}' is {}", in->label(),
                                        in->type.str()));
    all_int = all_int && is_integer(in->type.dtype);
  }
  return Type{all_int ? int64 : float64, {false}};
}

// numpy's length: ceil((stop - start) / step), at least 0.
Shape arange_shape(const Node& node, const std::vector<Tensor>& inputs) {
  if (node.type.dtype == int64) {
    const auto start = inputs[0].item<std::int64_t>(), stop = inputs[1].item<std::int64_t>(),
               step = inputs[2].item<std::int64_t>();
    if (step == 0) ops::shape_error(node, inputs, "step is 0; arange needs a nonzero step");
    // In unsigned arithmetic: stop - start and |step| reach 2^64 - 1 and 2^63,
    // past int64 (arange(-2^62, 2^62) once wrapped to a negative distance).
    const bool up = step > 0;
    if (up ? stop <= start : stop >= start) return {0};
    const std::uint64_t distance = up ? static_cast<std::uint64_t>(stop) - static_cast<std::uint64_t>(start)
                                      : static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(stop);
    const std::uint64_t magnitude = up ? static_cast<std::uint64_t>(step) : 0 - static_cast<std::uint64_t>(step);
    const std::uint64_t length = (distance - 1) / magnitude + 1;
    if (length > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      ops::shape_error(node, inputs, fmt::format("arange({}, {}, {}) has {} elements, more than an int64 can count",
                                                 start, stop, step, length));
    return {static_cast<std::int64_t>(length)};
  }
  const double start = inputs[0].item<double>(), stop = inputs[1].item<double>(), step = inputs[2].item<double>();
  const double length = std::ceil((stop - start) / step);
  if (step == 0 || !std::isfinite(length))
    ops::shape_error(node, inputs, fmt::format("arange({}, {}, {}) has no finite length; give finite bounds and a "
                                               "nonzero step", start, stop, step));
  // 2^63 is the first double past int64; converting it or more is undefined.
  if (length >= 0x1p63)
    ops::shape_error(node, inputs, fmt::format("arange({}, {}, {}) has {} elements, more than an int64 can count",
                                               start, stop, step, length));
  return {length > 0 ? static_cast<std::int64_t>(length) : 0};
}

Tensor arange_into(const Node& node, const std::vector<Tensor>& inputs, const Shape& shape, Tensor out) {
  if (node.type.dtype == int64) {
    // Every value lies between start and stop, so it fits; only i * step may
    // not (a huge step), and unsigned arithmetic gets the sum right anyway.
    const auto start = static_cast<std::uint64_t>(inputs[0].item<std::int64_t>());
    const auto step = static_cast<std::uint64_t>(inputs[2].item<std::int64_t>());
    auto* data = out.data<std::int64_t>();
    for (std::int64_t i = 0; i < shape[0]; ++i) data[i] = static_cast<std::int64_t>(start + static_cast<std::uint64_t>(i) * step);
  } else {
    const double start = inputs[0].item<double>(), step = inputs[2].item<double>();
    auto* data = out.data<double>();
    for (std::int64_t i = 0; i < shape[0]; ++i) data[i] = start + static_cast<double>(i) * step;
  }
  return out;
}

Tensor arange_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape = arange_shape(node, inputs);
  return arange_into(node, inputs, shape, Tensor::empty(shape, node.type.dtype));
}

Tensor arange_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Shape shape = arange_shape(node, inputs);
  return arange_into(node, inputs, shape, memory.get(shape, node.type.dtype));
}

// out[i] = start + i * step, and stop only moves where the (integer) length
// changes, so its gradient is 0 almost everywhere.
std::vector<Variable> arange_grad(const Node& node, const Variable& out, const Variable& g) {
  const Variable start = ops::input(node, 0), stop = ops::input(node, 1), step = ops::input(node, 2);
  auto if_float = [](const Variable& v, auto make) { return is_float(v.dtype()) ? tensor::cast(make(), v.dtype()) : Variable(); };
  const Variable positions = tensor::cast(tensor::arange(0, out.shape(0), 1), g.dtype());
  return {if_float(start, [&] { return tensor::sum(g); }), if_float(stop, [&] { return tensor::zeros_like(stop); }),
          if_float(step, [&] { return tensor::sum(g * positions); })};
}

}  // namespace

void register_shape_ops() {
  define_op(OpCode::Reshape, {reshape_type, reshape_shape, reshape_reference, reshape_grad,
                              plain_native<reshape_reference>, /*view_of=*/0});

  define_op(OpCode::Concatenate, {concat_type, concat_shape, concat_reference, concat_grad, concat_native});

  // Shapes are integers: no gradient flows through them.
  OpInfo& shape_of = define_op(OpCode::ShapeOf);
  shape_of.infer_type = [](const Node&) { return Type{int64, {false}}; };
  shape_of.infer_shape = [](const Node&, const std::vector<Tensor>& inputs) -> Shape { return {inputs[0].ndim()}; };
  shape_of.reference = shape_of_reference;
  shape_of.native = plain_native<shape_of_reference>;

  OpInfo& shape_i = define_op(OpCode::ShapeI);
  shape_i.infer_type = [](const Node& node) {
    shape_i_axis(node);
    return Type{int64, {}};
  };
  shape_i.infer_shape = [](const Node&, const std::vector<Tensor>&) { return Shape{}; };
  shape_i.reference = shape_i_reference;
  shape_i.native = plain_native<shape_i_reference>;

  define_op(OpCode::Alloc, {alloc_type, alloc_shape, alloc_reference, alloc_grad, alloc_native, /*view_of=*/0});

  define_op(OpCode::Arange, {arange_type, arange_shape, arange_reference, arange_grad, arange_native});
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

using ir::OpCode;

namespace {

using ops::require_defined;

// A C++ number as arange's bound: integers as int64, others as float64.
Variable arange_bound(const Operand& v) {
  return v.var.defined() ? v.var : operand_constant(v, v.integer_literal ? int64 : float64);
}

Variable filled_like(const Variable& x, double value, const char* fn, SL where) {
  require_defined(x, fn, where);
  std::vector<Variable> inputs{constant(value, x.dtype(), where)};
  for (const Variable& d : ir::symbolic_shape(x)) inputs.push_back(d);
  return ops::apply(OpCode::Alloc, inputs, {}, where);
}

}  // namespace

Variable reshape(const Variable& x, std::vector<Variable> shape, SL where) {
  require_defined(x, "reshape", where);
  shape.insert(shape.begin(), x);
  return ops::apply(OpCode::Reshape, shape, {}, where);
}

// Theano's flatten: keeps the first outdim - 1 dims and folds the rest into one.
Variable flatten(const Variable& x, int outdim, SL where) {
  require_defined(x, "flatten", where);
  if (outdim < 1 || (outdim > 1 && outdim > x.ndim()))
    throw TypeError(fmt::format("flatten at {}: outdim {} is not between 1 and the ndim ({}) of '{}'",
                                ops::where_str(where), outdim, x.ndim(), x.label()));
  std::vector<Variable> dims = ir::symbolic_shape(x);
  dims.resize(static_cast<std::size_t>(outdim - 1));
  Variable folded = constant(1, int64, where);
  bool all_broadcastable = true;
  for (int d = outdim - 1; d < x.ndim(); ++d) {
    if (x.broadcastable()[d]) continue;
    folded = all_broadcastable ? x.shape(d) : folded * x.shape(d);
    all_broadcastable = false;
  }
  dims.push_back(folded);
  return reshape(x, dims, where);
}

Variable concatenate(const std::vector<Variable>& xs, int axis, SL where) {
  if (xs.empty()) throw TypeError(fmt::format("concatenate at {}: needs at least one input", ops::where_str(where)));
  ir::Attrs attrs;
  attrs.ints = {axis};
  return ops::apply(OpCode::Concatenate, xs, std::move(attrs), where);
}

// Each input gets a new length-1 dim at `axis`; then they are concatenated along it.
Variable stack(const std::vector<Variable>& xs, int axis, SL where) {
  if (xs.empty()) throw TypeError(fmt::format("stack at {}: needs at least one input", ops::where_str(where)));
  require_defined(xs[0], "stack", where);
  const int ndim = xs[0].ndim();
  if (axis < -(ndim + 1) || axis > ndim)
    throw TypeError(fmt::format("stack at {}: axis {} is out of range for inputs of {} dimensions (the result has {})",
                                ops::where_str(where), axis, ndim, ndim + 1));
  if (axis < 0) axis += ndim + 1;
  std::vector<Variable> expanded;
  for (const Variable& x : xs) {
    require_defined(x, "stack", where);
    if (x.ndim() != ndim)
      throw TypeError(fmt::format("stack at {}: all inputs must have the same number of dimensions; '{}' is {}, '{}' is {}",
                                  ops::where_str(where), xs[0].label(), xs[0].type_str(), x.label(), x.type_str()));
    std::vector<std::int64_t> pattern;
    for (int d = 0; d < ndim; ++d) {
      if (d == axis) pattern.push_back(-1);
      pattern.push_back(d);
    }
    if (axis == ndim) pattern.push_back(-1);
    expanded.push_back(dimshuffle(x, pattern, where));
  }
  return concatenate(expanded, axis, where);
}

Variable shape(const Variable& x, SL where) {
  require_defined(x, "shape", where);
  return ops::apply(OpCode::ShapeOf, {x}, {}, where);
}

Variable arange(const Operand& stop, SL where) { return arange(0, stop, 1, where); }

Variable arange(const Operand& start, const Operand& stop, const Operand& step, SL where) {
  return ops::apply(OpCode::Arange, {arange_bound(start), arange_bound(stop), arange_bound(step)}, {}, where);
}

Variable zeros_like(const Variable& x, SL where) { return filled_like(x, 0, "zeros_like", where); }
Variable ones_like(const Variable& x, SL where) { return filled_like(x, 1, "ones_like", where); }

}  // namespace graphjit::tensor
