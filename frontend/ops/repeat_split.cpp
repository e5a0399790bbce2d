// Repetition and splitting (issue 8): Repeat (numpy.repeat, a copy) and
// SplitPart (one part of Theano's split, a view), with the composites
// written on them and on alloc, reshape, subtensor and concatenate: tile and roll.
#include "frontend/ops/op_support.hpp"

#include <graphjit/shape_ops.hpp>
#include <graphjit/tensor.hpp>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

namespace graphjit::ir {

namespace {

bool is_int_tensor(const Type& t) { return is_integer(t.dtype) && t.dtype != bool_; }

// --- Repeat: (x, repeats); attrs.ints[0] = axis ---------------------------------------------

int repeat_axis(const Node& node) {
  return ops::normalize_axis(node, node.attrs.ints.at(0), node.inputs[0]->type.ndim());
}

bool is_constant_one(const Node& n) { return n.op == OpCode::Constant && n.value.ndim() == 0 && n.value.get({}) == 1; }

Type repeat_type(const Node& node) {
  const Type& repeats = node.inputs[1]->type;
  if (!is_int_tensor(repeats) || repeats.ndim() > 1)
    ops::type_error(node, fmt::format("repeats '{}' is {}; it must be an integer scalar or vector",
                                      node.inputs[1]->label(), repeats.str()));
  Type out = node.inputs[0]->type;
  const int axis = repeat_axis(node);
  out.broadcastable[axis] = out.broadcastable[axis] && is_constant_one(*node.inputs[1]);
  return out;
}

// How often each element along the axis is repeated (numpy's rule: a vector
// of one count applies to every element), and the output shape.
struct RepeatPlan {
  std::vector<std::int64_t> counts;
  Shape out;
};

RepeatPlan plan_repeat(const Node& node, const std::vector<Tensor>& inputs) {
  const int axis = repeat_axis(node);
  const Tensor& x = inputs[0];
  const Tensor& r = inputs[1];
  const std::int64_t n = x.shape(axis);
  if (r.ndim() == 1 && r.size() != n && r.size() != 1)
    ops::shape_error(node, inputs, fmt::format("repeats has {} counts but '{}' has {} elements along axis {}; give one "
                                               "count per element, or one for all",
                                               r.size(), node.inputs[0]->label(), n, axis));
  RepeatPlan p;
  const std::vector<std::int64_t> given = r.to_vector<std::int64_t>();
  p.out = x.shape();
  p.out[axis] = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = given[given.size() == 1 ? 0 : static_cast<std::size_t>(i)];
    if (c < 0) ops::shape_error(node, inputs, fmt::format("repeats holds the negative count {}; counts must be >= 0", c));
    if (__builtin_add_overflow(p.out[axis], c, &p.out[axis]))
      ops::shape_error(node, inputs, "the repeated length adds up past int64");
    p.counts.push_back(c);
  }
  ops::checked_numel(node, inputs, p.out);
  return p;
}

Shape repeat_shape(const Node& node, const std::vector<Tensor>& inputs) { return plan_repeat(node, inputs).out; }

// Row-major copy: for each block of leading dims, each element along the axis
// (with the dims after it, `inner` bytes) is written counts[i] times.
Tensor repeat_into(const Node& node, const std::vector<Tensor>& inputs, OutputMemory* memory) {
  const RepeatPlan p = plan_repeat(node, inputs);
  Tensor out = memory ? memory->get(p.out, node.type.dtype) : Tensor::empty(p.out, node.type.dtype);
  const Tensor x = inputs[0].contiguous();
  const int axis = repeat_axis(node);
  std::int64_t outer = 1, inner = static_cast<std::int64_t>(dtype_size(x.dtype()));
  for (int d = 0; d < axis; ++d) outer *= x.shape(d);
  for (int d = axis + 1; d < x.ndim(); ++d) inner *= x.shape(d);
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t c : p.counts) {
      for (std::int64_t k = 0; k < c; ++k, dst += inner) std::memcpy(dst, src, static_cast<std::size_t>(inner));
      src += inner;
    }
  return out;
}

Tensor repeat_reference(const Node& node, const std::vector<Tensor>& inputs) { return repeat_into(node, inputs, nullptr); }

Tensor repeat_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  return repeat_into(node, inputs, &memory);
}

// Element i of x went to the output positions where repeat(arange(n)) is i,
// so its gradient is the sum of g there (an advanced increment).
std::vector<Variable> repeat_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable x = ops::input(node, 0), repeats = ops::input(node, 1);
  if (!is_float(x.dtype())) return {Variable(), Variable()};
  const int axis = repeat_axis(node);
  const Variable source = tensor::repeat(tensor::arange(x.shape(axis)), repeats, 0, node.where);
  std::vector<Index> index(static_cast<std::size_t>(axis), Slice());
  index.push_back(source);
  const Variable gx = tensor::inc_subtensor(tensor::subtensor(tensor::zeros_like(x), index), tensor::cast(g, x.dtype()));
  return {gx, Variable()};
}

// --- SplitPart: (x, lengths); attrs.ints {axis, n_splits, part} -------------------------------

int split_axis(const Node& node) { return ops::normalize_axis(node, node.attrs.ints.at(0), node.inputs[0]->type.ndim()); }

Type split_type(const Node& node) {
  const Type& splits = node.inputs[1]->type;
  if (!is_int_tensor(splits) || splits.ndim() != 1)
    ops::type_error(node, fmt::format("the split lengths '{}' are {}; they must be an integer vector",
                                      node.inputs[1]->label(), splits.str()));
  const std::int64_t n = node.attrs.ints.at(1), part = node.attrs.ints.at(2);
  if (part < 0 || part >= n) ops::type_error(node, fmt::format("part {} of {} does not exist", part, n));
  Type out = node.inputs[0]->type;
  out.broadcastable[split_axis(node)] = false;
  return out;
}

// [start, stop) of this part along the axis, after checking all the lengths.
std::pair<std::int64_t, std::int64_t> split_range(const Node& node, const std::vector<Tensor>& inputs) {
  const int axis = split_axis(node);
  const std::vector<std::int64_t> lengths = inputs[1].to_vector<std::int64_t>();
  const std::int64_t n = node.attrs.ints[1], part = node.attrs.ints[2];
  if (static_cast<std::int64_t>(lengths.size()) != n)
    ops::shape_error(node, inputs, fmt::format("{} split lengths were given for n_splits = {}", lengths.size(), n));
  std::int64_t total = 0, start = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t len = lengths[static_cast<std::size_t>(i)];
    if (len < 0) ops::shape_error(node, inputs, fmt::format("split length {} is negative", len));
    if (i == part) start = total;
    if (__builtin_add_overflow(total, len, &total)) ops::shape_error(node, inputs, "the split lengths add up past int64");
  }
  if (total != inputs[0].shape(axis))
    ops::shape_error(node, inputs, fmt::format("the split lengths sum to {} but '{}' has length {} along axis {}; they "
                                               "must add up to it",
                                               total, node.inputs[0]->label(), inputs[0].shape(axis), axis));
  return {start, start + lengths[static_cast<std::size_t>(part)]};
}

Tensor split_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const auto [start, stop] = split_range(node, inputs);
  return inputs[0].slice(split_axis(node), start, stop);
}

Shape split_shape(const Node& node, const std::vector<Tensor>& inputs) { return split_reference(node, inputs).shape(); }

// The part's gradient goes back to its stretch of x; the rest of x gets 0.
std::vector<Variable> split_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable x = ops::input(node, 0), splits = ops::input(node, 1);
  if (!is_float(x.dtype())) return {Variable(), Variable()};
  const std::int64_t part = node.attrs.ints[2];
  const Variable start = part == 0 ? constant(0, int64, node.where)
                                   : tensor::cast(tensor::sum(splits[Slice(std::nullopt, constant(part, int64))]), int64);
  const Variable stop = start + tensor::cast(splits[Index(part)], int64);
  std::vector<Index> index(static_cast<std::size_t>(split_axis(node)), Slice());
  index.push_back(Slice(start, stop));
  return {tensor::inc_subtensor(tensor::subtensor(tensor::zeros_like(x), index), tensor::cast(g, x.dtype())), Variable()};
}

}  // namespace

void register_repeat_split_ops() {
  define_op(OpCode::Repeat, {repeat_type, repeat_shape, repeat_reference, repeat_grad, repeat_native});
  define_op(OpCode::SplitPart,
            {split_type, split_shape, split_reference, split_grad, plain_native<split_reference>, /*view_of=*/0});
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

using ir::OpCode;

namespace {

Variable int_operand(const Operand& v, SL where) {
  if (v.var.defined()) return v.var;
  if (!v.integer_literal || !v.integer)
    throw TypeError(fmt::format("{}: {} is not an integer", ops::where_str(where), v.number));
  return constant(*v.integer, int64, where);
}

// a * b, folded when both are constants, so a product of constant 1s stays
// the constant 1 (and the result's dim broadcastable).
Variable times(const Variable& a, const Variable& b, SL where) {
  const ir::Node &na = *a.node(), &nb = *b.node();
  if (na.op == OpCode::Constant && nb.op == OpCode::Constant)
    return constant(na.value.item<std::int64_t>() * nb.value.item<std::int64_t>(), int64, where);
  return mul(cast(a, int64, where), cast(b, int64, where), where);
}

}  // namespace

Variable repeat(const Variable& x, const Operand& repeats, std::optional<int> axis, SL where) {
  ops::require_defined(x, "repeat", where);
  const Variable flat = axis ? x : flatten(x, 1, where);
  ir::Attrs attrs;
  attrs.ints = {axis.value_or(0)};
  return ops::apply(OpCode::Repeat, {flat, int_operand(repeats, where)}, std::move(attrs), where);
}

namespace {

// numpy's tile as Theano writes it: x with a new broadcastable dim before each
// of its dims, allocated to (r0, s0, r1, s1, ...), then folded pairwise. `r`
// has one count per output dim (ndim of them, at least x.ndim()).
Variable tile_dims(const Variable& x, const std::vector<Variable>& r, SL where) {
  const std::size_t ndim = r.size();
  std::vector<std::int64_t> pattern;
  for (std::size_t d = 0; d < ndim; ++d) {
    pattern.push_back(-1);
    const std::int64_t xd = static_cast<std::int64_t>(d) - static_cast<std::int64_t>(ndim - x.ndim());
    if (xd >= 0) pattern.push_back(xd);
    else pattern.push_back(-1);
  }
  const Variable spread = dimshuffle(x, pattern, where);
  std::vector<Variable> alloc_shape, folded;
  for (std::size_t d = 0; d < ndim; ++d) {
    const Variable s = spread.broadcastable()[2 * d + 1] ? constant(1, int64, where) : spread.shape(2 * d + 1, where);
    alloc_shape.push_back(r[d]);
    alloc_shape.push_back(s);
    folded.push_back(times(r[d], s, where));
  }
  return reshape(alloc(spread, std::vector<Operand>(alloc_shape.begin(), alloc_shape.end()), where), folded, where);
}

// Theano's rule for ndim: at least x's dims (and, for a list, the list's length).
void check_tile_ndim(const Variable& x, int ndim, std::size_t known_reps, SL where) {
  if (ndim < x.ndim() || (known_reps > 0 && static_cast<std::size_t>(ndim) < known_reps))
    throw TypeError(fmt::format("tile at {}: ndim {} is smaller than the {} dims of '{}' ({}) or the {} entries of "
                                "reps; ndim is the output's number of dims", ops::where_str(where), ndim, x.ndim(),
                                x.label(), x.type_str(), known_reps));
}

}  // namespace

Variable tile(const Variable& x, const SymbolicShape& reps, std::optional<int> ndim, SL where) {
  ops::require_defined(x, "tile", where);
  std::vector<Variable> r = reps.lengths("tile", where);
  if (ndim) check_tile_ndim(x, *ndim, r.size(), where);
  const std::size_t n = std::max({r.size(), static_cast<std::size_t>(x.ndim()), static_cast<std::size_t>(ndim.value_or(0))});
  r.insert(r.begin(), n - r.size(), constant(1, int64, where));
  return tile_dims(x, r, where);
}

// An integer vector of counts whose length is known only at run time: padded
// in front with 1s to ndim entries (Theano's offset = ndim - len(reps)). A
// vector longer than ndim makes the padding's length negative, which alloc
// reports at run time.
Variable tile(const Variable& x, const Variable& reps, int ndim, SL where) {
  ops::require_defined(x, "tile", where);
  ops::require_defined(reps, "tile", where);
  if (reps.ndim() != 1) return tile(x, SymbolicShape(reps), ndim, where);
  check_tile_ndim(x, ndim, 0, where);
  const Variable counts = cast(reps, int64, where);
  const Variable padding = ones({constant(ndim, int64, where) - counts.shape(0, where)}, int64, where);
  const Variable padded = concatenate({padding, counts}, 0, where);
  std::vector<Variable> r;
  for (int i = 0; i < ndim; ++i) r.push_back(padded[Index(i, where)]);
  return tile_dims(x, r, where);
}

std::vector<Variable> split(const Variable& x, const Variable& splits, int n_splits, int axis, SL where) {
  ops::require_defined(x, "split", where);
  ops::require_defined(splits, "split", where);
  if (n_splits < 1)
    throw TypeError(fmt::format("split at {}: n_splits is {}; split makes at least one part", ops::where_str(where),
                                n_splits));
  std::vector<Variable> parts;
  for (int i = 0; i < n_splits; ++i) {
    ir::Attrs attrs;
    attrs.ints = {axis, n_splits, i};
    parts.push_back(ops::apply(OpCode::SplitPart, {x, splits}, std::move(attrs), where));
  }
  return parts;
}

std::vector<Variable> split(const Variable& x, const std::vector<std::int64_t>& splits, int axis, SL where) {
  const auto n = static_cast<std::int64_t>(splits.size());
  return split(x, constant(Tensor::from_vector(splits, {n}), "", where), static_cast<int>(n), axis, where);
}

// Theano's roll: the last shift % n elements along the axis, then the others.
Variable roll(const Variable& x, const Operand& shift, std::optional<int> axis, SL where) {
  ops::require_defined(x, "roll", where);
  if (!axis) return reshape(roll(flatten(x, 1, where), shift, 0, where), x.shape(where), x.ndim(), where);
  if (*axis < -x.ndim() || *axis >= x.ndim())
    throw TypeError(fmt::format("roll at {}: axis {} is out of range for '{}' ({})", ops::where_str(where), *axis,
                                x.label(), x.type_str()));
  const int a = *axis < 0 ? *axis + x.ndim() : *axis;
  const Variable n = x.shape(a, where);
  const Variable s = int_operand(shift, where);
  if (s.ndim() != 0 || !is_integer(s.dtype()))
    throw TypeError(fmt::format("roll at {}: the shift '{}' is {}; it must be an integer scalar", ops::where_str(where),
                                s.label(), s.type_str()));
  const Variable cut = n - mod(cast(s, int64, where), n, where);  // x % 0 is 0: an empty axis rolls to itself
  std::vector<Index> front(static_cast<std::size_t>(a), Slice()), back = front;
  front.push_back(Slice(cut, std::nullopt));
  back.push_back(Slice(std::nullopt, cut));
  return concatenate({subtensor(x, front, where), subtensor(x, back, where)}, a, where);
}

}  // namespace graphjit::tensor
