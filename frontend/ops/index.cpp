// Indexing, with numpy's semantics as Theano has them:
//   Subtensor             x[i], x[a:b:c], x[{a:b, i}]: basic indexing, a view of x;
//   AdvancedSubtensor     x[int_array], x[{rows, cols}], mixed with ints and slices: a copy;
//   IncSubtensor, AdvancedIncSubtensor
//                         set_subtensor(x[idx], y) / inc_subtensor(x[idx], y): a copy
//                         of x with the region replaced or increased by y.
// attrs.index has one IndexEntry per indexed dim (leading dims of x; the rest
// are kept whole); the entries' integer scalars, slice bounds and index
// arrays are node inputs, in order, after x (and y, for the inc ops).
#include "frontend/ops/newaxis.hpp"
#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <optional>

namespace graphjit::ir {

namespace {

bool is_inc(const Node& node) { return node.op == OpCode::IncSubtensor || node.op == OpCode::AdvancedIncSubtensor; }
bool is_advanced(const Node& node) {
  return node.op == OpCode::AdvancedSubtensor || node.op == OpCode::AdvancedIncSubtensor;
}
std::size_t first_index_input(const Node& node) { return is_inc(node) ? 2 : 1; }
std::size_t inputs_of(const IndexEntry& e) {
  return e.kind == IndexEntry::Range ? std::size_t{e.has_start} + e.has_stop + e.has_step : 1;
}
bool is_full_slice(const IndexEntry& e) { return e.kind == IndexEntry::Range && inputs_of(e) == 0; }

// --- types ---------------------------------------------------------------------------

void check_index_input(const Node& node, std::size_t dim, const IndexEntry& e, const Node& in) {
  const std::string what = fmt::format("'{}' ({}), the {} for dim {}", in.label(), in.type.str(),
                                       e.kind == IndexEntry::Range ? "slice bound" : "index", dim);
  if (in.type.dtype == bool_)
    ops::type_error(node, what + ", is boolean; boolean mask indexing is not supported: index with integers");
  if (!is_integer(in.type.dtype))
    ops::type_error(node, what + ", is not an integer; indices and slice bounds must be integers "
                                 "(cast it with T::cast(..., int64))");
  if (e.kind == IndexEntry::Array ? in.type.ndim() == 0 : in.type.ndim() != 0)
    ops::type_error(node, what + (e.kind == IndexEntry::Range ? ", must be a scalar" : ", must be an index array"));
}

// Checks that the inputs after x (and y) are what attrs.index asks for.
void check_index(const Node& node) {
  const auto& index = node.attrs.index;
  const Node& x = *node.inputs[0];
  if (static_cast<int>(index.size()) > x.type.ndim())
    ops::type_error(node, fmt::format("too many indices: {} given for '{}', which has {} dimensions", index.size(),
                                      x.label(), x.type.ndim()));
  std::size_t next = first_index_input(node);
  for (std::size_t d = 0; d < index.size(); ++d) {
    if (index[d].kind == IndexEntry::Array && !is_advanced(node))
      ops::type_error(node, "index arrays need the advanced indexing ops (tensor::subtensor chooses them)");
    for (std::size_t j = 0; j < inputs_of(index[d]); ++j, ++next) {
      if (next >= node.inputs.size()) ops::type_error(node, "the index needs more inputs than the node has");
      check_index_input(node, d, index[d], *node.inputs[next]);
    }
  }
  if (next != node.inputs.size()) ops::type_error(node, "the node has more inputs than its index uses");
}

// The input holding each picked dim's index (Scalar and Array entries).
std::vector<std::size_t> index_input_positions(const Node& node) {
  std::vector<std::size_t> at;
  std::size_t next = first_index_input(node);
  for (const IndexEntry& e : node.attrs.index) {
    at.push_back(next);
    next += inputs_of(e);
  }
  return at;
}

// numpy's layout of an indexing result. Dims indexed by an integer or an
// array ("picked") are replaced by the broadcast shape of their indices
// (nothing, for integers alone); the other dims ("kept") stay, sliced. The
// broadcast dims sit where the picked dims were if those are adjacent, and
// first otherwise. Basic indexing is the case with no arrays.
struct Layout {
  std::vector<int> picked, kept;
  std::size_t insert_at = 0;  // among the output dims
};

Layout layout_of(const Node& node) {
  Layout l;
  const auto& index = node.attrs.index;
  for (int d = 0; d < node.inputs[0]->type.ndim(); ++d) {
    const bool picked = d < static_cast<int>(index.size()) && index[d].kind != IndexEntry::Range;
    (picked ? l.picked : l.kept).push_back(d);
  }
  const bool adjacent = !l.picked.empty() && l.picked.back() - l.picked.front() + 1 == static_cast<int>(l.picked.size());
  l.insert_at = adjacent ? static_cast<std::size_t>(l.picked.front()) : 0;
  return l;
}

// The type of x[index]: a slice keeps a dim broadcastable only if it takes it whole.
Type indexed_type(const Node& node) {
  check_index(node);
  const Type& x = node.inputs[0]->type;
  const auto& index = node.attrs.index;
  const Layout l = layout_of(node);
  const auto at = index_input_positions(node);
  int nb = 0;
  for (int d : l.picked) nb = std::max(nb, node.inputs[at[d]]->type.ndim());
  // Index arrays broadcast by value (as in numpy); a result dim is
  // broadcastable when every array reaching it is.
  std::vector<bool> bcast(static_cast<std::size_t>(nb), true);
  for (int d : l.picked) {
    const Type& t = node.inputs[at[d]]->type;
    for (int j = 0; j < t.ndim(); ++j) bcast[nb - t.ndim() + j] = bcast[nb - t.ndim() + j] && t.broadcastable[j];
  }
  std::vector<bool> kept;
  for (int d : l.kept)
    kept.push_back(x.broadcastable[d] && (d >= static_cast<int>(index.size()) || is_full_slice(index[d])));
  bcast.insert(bcast.begin(), kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(l.insert_at));
  bcast.insert(bcast.end(), kept.begin() + static_cast<std::ptrdiff_t>(l.insert_at), kept.end());
  return Type{x.dtype, bcast};
}

Type inc_type(const Node& node) {
  const Type region = indexed_type(node);
  const Node& x = *node.inputs[0];
  const Node& y = *node.inputs[1];
  if (y.type.ndim() != region.ndim())
    ops::type_error(node, fmt::format("'{}' has {} dimensions but the region it goes into has {}; y may have fewer "
                                      "(set_subtensor and inc_subtensor pad it on the left), not more",
                                      y.label(), y.type.ndim(), region.ndim()));
  if (is_float(y.type.dtype) && !is_float(x.type.dtype))
    ops::type_error(node, fmt::format("'{}' is {} but '{}' is {}; cast y to {} first if truncation is meant",
                                      y.label(), dtype_name(y.type.dtype), x.label(), dtype_name(x.type.dtype),
                                      dtype_name(x.type.dtype)));
  return x.type;
}

// --- run-time index values ------------------------------------------------------------------

struct ResolvedEntry {
  Tensor picked;  // Scalar and Array entries: the index values
  std::int64_t start = 0, stop = 0, step = 1;  // Range entries, numpy's defaults filled in
};

std::vector<ResolvedEntry> resolve(const Node& node, const std::vector<Tensor>& inputs) {
  std::vector<ResolvedEntry> out;
  std::size_t next = first_index_input(node);
  for (std::size_t d = 0; d < node.attrs.index.size(); ++d) {
    const IndexEntry& e = node.attrs.index[d];
    ResolvedEntry r;
    if (e.kind != IndexEntry::Range) {
      r.picked = inputs[next++];
      out.push_back(std::move(r));
      continue;
    }
    std::optional<std::int64_t> start, stop;
    if (e.has_start) start = inputs[next++].item<std::int64_t>();
    if (e.has_stop) stop = inputs[next++].item<std::int64_t>();
    if (e.has_step) r.step = inputs[next++].item<std::int64_t>();
    if (r.step == 0) ops::shape_error(node, inputs, fmt::format("the slice on dim {} has step 0; use a nonzero step", d));
    // Tensor::slice clamps these to the ends the step walks from and to.
    constexpr auto lowest = std::numeric_limits<std::int64_t>::min(), highest = std::numeric_limits<std::int64_t>::max();
    r.start = start.value_or(r.step > 0 ? 0 : highest);
    r.stop = stop.value_or(r.step > 0 ? highest : lowest);
    out.push_back(std::move(r));
  }
  return out;
}

// i as a position in a dim of `length`, counting negative i from the end.
std::int64_t checked_index(const Node& node, const std::vector<Tensor>& inputs, std::int64_t i, int dim,
                           std::int64_t length) {
  if (i < -length || i >= length)
    ops::shape_error(node, inputs, fmt::format("index {} is out of bounds for dim {} of '{}', which has length {}", i,
                                               dim, node.inputs[0]->label(), length));
  return i < 0 ? i + length : i;
}

// Basic indexing of x (inputs[0], or its copy for the inc ops): a view.
Tensor basic_view(const Node& node, const std::vector<Tensor>& inputs, Tensor x) {
  const auto entries = resolve(node, inputs);
  int axis = 0;  // in the view, which loses each dim an integer picks
  for (std::size_t d = 0; d < entries.size(); ++d) {
    const ResolvedEntry& r = entries[d];
    if (r.picked.defined()) {
      x = x.select(axis, checked_index(node, inputs, r.picked.item<std::int64_t>(), static_cast<int>(d), x.shape(axis)));
    } else {
      x = x.slice(axis, r.start, r.stop, r.step);
      ++axis;
    }
  }
  return x;
}

// Advanced indexing of x: where each element of the result comes from.
struct AdvancedPlan {
  Layout layout;
  Tensor base;                 // x with the slices applied: a view with all of x's dims
  std::vector<Tensor> arrays;  // one per picked dim, broadcast to `bshape`
  Shape bshape;
  Shape out_shape;
};

AdvancedPlan plan_advanced(const Node& node, const std::vector<Tensor>& inputs, Tensor x) {
  AdvancedPlan p;
  p.layout = layout_of(node);
  const auto entries = resolve(node, inputs);
  for (std::size_t d = 0; d < entries.size(); ++d)
    if (!entries[d].picked.defined()) x = x.slice(static_cast<int>(d), entries[d].start, entries[d].stop, entries[d].step);
  p.base = x;
  std::size_t nb = 0;
  for (int d : p.layout.picked) nb = std::max(nb, static_cast<std::size_t>(entries[d].picked.ndim()));
  p.bshape.assign(nb, 1);
  for (int d : p.layout.picked) {
    const Tensor& a = entries[d].picked;
    for (int j = 0; j < a.ndim(); ++j) {
      std::int64_t& slot = p.bshape[nb - a.ndim() + j];
      if (slot == 1) slot = a.shape(j);
      else if (a.shape(j) != 1 && a.shape(j) != slot)
        ops::shape_error(node, inputs, fmt::format("the index for dim {} has shape {}, which does not broadcast with "
                                                   "the other index arrays (broadcast so far: {})",
                                                   d, shape_str(a.shape()), shape_str(p.bshape)));
    }
  }
  for (int d : p.layout.picked) p.arrays.push_back(entries[d].picked.broadcast_to(p.bshape));
  for (std::size_t k = 0; k < p.layout.kept.size(); ++k) {
    if (k == p.layout.insert_at) p.out_shape.insert(p.out_shape.end(), p.bshape.begin(), p.bshape.end());
    p.out_shape.push_back(x.shape(p.layout.kept[k]));
  }
  if (p.layout.insert_at == p.layout.kept.size()) p.out_shape.insert(p.out_shape.end(), p.bshape.begin(), p.bshape.end());
  return p;
}

// Calls f(result index, index into plan.base) for every element of the result.
template <class F>
void for_each_advanced(const Node& node, const std::vector<Tensor>& inputs, const AdvancedPlan& p, F&& f) {
  const std::size_t nb = p.bshape.size();
  std::vector<std::int64_t> src(static_cast<std::size_t>(p.base.ndim())), b(nb);
  for_each_index(p.out_shape, [&](const std::vector<std::int64_t>& out) {
    std::size_t kept = 0;
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (k >= p.layout.insert_at && k < p.layout.insert_at + nb) b[k - p.layout.insert_at] = out[k];
      else src[p.layout.kept[kept++]] = out[k];
    }
    for (std::size_t j = 0; j < p.layout.picked.size(); ++j) {
      const int d = p.layout.picked[j];
      const auto i = static_cast<std::int64_t>(p.arrays[j].get(b));
      src[d] = checked_index(node, inputs, i, d, p.base.shape(d));
    }
    f(out, static_cast<const std::vector<std::int64_t>&>(src));
  });
}

// --- element access that keeps every dtype exact --------------------------------------------

char* element(const Tensor& t, const std::vector<std::int64_t>& index) {
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < index.size(); ++d) offset += index[d] * t.strides()[d];
  return static_cast<char*>(t.raw_data()) + offset * static_cast<std::int64_t>(dtype_size(t.dtype()));
}

void add_element(DType dtype, char* dst, const char* src) {
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T a, b;
    std::memcpy(&a, dst, sizeof(T));
    std::memcpy(&b, src, sizeof(T));
    const T sum = static_cast<T>(a + b);
    std::memcpy(dst, &sum, sizeof(T));
  });
}

// y, in x's dtype, broadcast to the region it goes into: Theano's rule, only
// the dims y's type declares broadcastable stretch.
Tensor fit_y(const Node& node, const std::vector<Tensor>& inputs, const Shape& region) {
  const Tensor& y = inputs[1];
  const Type& yt = node.inputs[1]->type;
  for (int d = 0; d < y.ndim(); ++d)
    if (y.shape(d) != region[d] && !(yt.broadcastable[d] && y.shape(d) == 1))
      ops::shape_error(node, inputs,
                       fmt::format("'{}' has shape {} but the region of '{}' it goes into has shape {}; they must "
                                   "match except in dims where y's type is broadcastable",
                                   node.inputs[1]->label(), shape_str(y.shape()), node.inputs[0]->label(),
                                   shape_str(region)));
  const Tensor converted = y.dtype() == node.type.dtype ? y : y.astype(node.type.dtype);
  return converted.broadcast_to(region);
}

// --- reference kernels -------------------------------------------------------------------------

Tensor subtensor_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return basic_view(node, inputs, inputs[0]);
}

Tensor inc_subtensor_reference(const Node& node, const std::vector<Tensor>& inputs) {
  Tensor out = inputs[0].copy();
  Tensor region = basic_view(node, inputs, out);
  const Tensor y = fit_y(node, inputs, region.shape());
  if (node.attrs.set_instead_of_inc) region.assign(y);
  else
    for_each_index(region.shape(), [&](const std::vector<std::int64_t>& i) {
      add_element(out.dtype(), element(region, i), element(y, i));
    });
  return out;
}

// The gather, into memory the reference allocates and the native kernel
// takes from the memory plan.
Tensor advanced_subtensor_into(const Node& node, const std::vector<Tensor>& inputs, OutputMemory* memory) {
  const AdvancedPlan p = plan_advanced(node, inputs, inputs[0]);
  Tensor out = memory ? memory->get(p.out_shape, node.type.dtype) : Tensor::empty(p.out_shape, node.type.dtype);
  const std::size_t size = dtype_size(out.dtype());
  for_each_advanced(node, inputs, p, [&](const auto& o, const auto& src) {
    std::memcpy(element(out, o), element(p.base, src), size);
  });
  return out;
}

Tensor advanced_subtensor_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return advanced_subtensor_into(node, inputs, nullptr);
}

Tensor advanced_subtensor_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  return advanced_subtensor_into(node, inputs, &memory);
}

// Repeated indices accumulate for inc (numpy.add.at); for set the last one wins.
Tensor advanced_inc_subtensor_reference(const Node& node, const std::vector<Tensor>& inputs) {
  Tensor out = inputs[0].copy();
  const AdvancedPlan p = plan_advanced(node, inputs, out);
  const Tensor y = fit_y(node, inputs, p.out_shape);
  const std::size_t size = dtype_size(out.dtype());
  for_each_advanced(node, inputs, p, [&](const auto& o, const auto& src) {
    if (node.attrs.set_instead_of_inc) std::memcpy(element(p.base, src), element(y, o), size);
    else add_element(out.dtype(), element(p.base, src), element(y, o));
  });
  return out;
}

// --- gradients -------------------------------------------------------------------------------

OpCode inc_op_of(const Node& node) { return is_advanced(node) ? OpCode::AdvancedIncSubtensor : OpCode::IncSubtensor; }
OpCode read_op_of(const Node& node) { return is_advanced(node) ? OpCode::AdvancedSubtensor : OpCode::Subtensor; }

// `op` applied to `data` (and `y`) with the same index as `like`.
Variable same_index(OpCode op, std::vector<Variable> data, const Node& like, bool set = false) {
  for (std::size_t i = first_index_input(like); i < like.inputs.size(); ++i) data.push_back(ops::input(like, i));
  Attrs attrs;
  attrs.index = like.attrs.index;
  attrs.set_instead_of_inc = set;
  return ops::apply(op, data, std::move(attrs), like.where);
}

// g goes back to the region it came from; the rest of x gets 0.
std::vector<Variable> subtensor_grad(const Node& node, const Variable&, const Variable& g) {
  std::vector<Variable> grads(node.inputs.size());
  const Variable x = ops::input(node, 0);
  if (is_float(x.dtype())) grads[0] = same_index(inc_op_of(node), {tensor::zeros_like(x), tensor::cast(g, x.dtype())}, node);
  return grads;
}

// set: x's gradient is g with the overwritten region zeroed; inc: g itself.
// y's gradient is g's region, summed over the dims y was broadcast along.
std::vector<Variable> inc_subtensor_grad(const Node& node, const Variable&, const Variable& g) {
  std::vector<Variable> grads(node.inputs.size());
  const Variable x = ops::input(node, 0), y = ops::input(node, 1);
  if (is_float(x.dtype())) {
    if (node.attrs.set_instead_of_inc) {
      const Variable zeros = tensor::dimshuffle(constant(0, g.dtype()), std::vector<std::int64_t>(y.ndim(), -1));
      grads[0] = same_index(node.op, {g, zeros}, node, /*set=*/true);
    } else {
      grads[0] = g;
    }
  }
  if (is_float(y.dtype())) grads[1] = ops::sum_to_input(same_index(read_op_of(node), {g}, node), *node.inputs[1]);
  return grads;
}

}  // namespace

void register_index_ops() {
  auto x_shape = [](const Node&, const std::vector<Tensor>& inputs) { return inputs[0].shape(); };
  auto subtensor_shape = [](const Node& node, const std::vector<Tensor>& inputs) {
    return basic_view(node, inputs, inputs[0]).shape();
  };
  auto advanced_shape = [](const Node& node, const std::vector<Tensor>& inputs) {
    return plan_advanced(node, inputs, inputs[0]).out_shape;
  };
  define_op(OpCode::Subtensor, {indexed_type, subtensor_shape, subtensor_reference, subtensor_grad,
                                plain_native<subtensor_reference>, /*view_of=*/0});
  define_op(OpCode::AdvancedSubtensor, {indexed_type, advanced_shape, advanced_subtensor_reference, subtensor_grad,
                                        advanced_subtensor_native});
  // The increments copy x first, so the plain implementation is also the compiled one.
  define_op(OpCode::IncSubtensor, {inc_type, x_shape, inc_subtensor_reference, inc_subtensor_grad,
                                   plain_native<inc_subtensor_reference>});
  define_op(OpCode::AdvancedIncSubtensor, {inc_type, x_shape, advanced_inc_subtensor_reference, inc_subtensor_grad,
                                           plain_native<advanced_inc_subtensor_reference>});
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

using ir::OpCode;

Slice slice(Bound start, Bound stop, Bound step) { return Slice(std::move(start), std::move(stop), std::move(step)); }

Variable subtensor(const Variable& x, const std::vector<Index>& indices, SL where) {
  if (!x.defined())
    throw TypeError(fmt::format("subtensor at {}: indexing an undefined Variable", ops::where_str(where)));
  if (auto expanded = ops::index_with_newaxes(x, indices, where)) return *expanded;
  ir::Attrs attrs;
  std::vector<Variable> inputs{x};
  bool advanced = false;
  auto take = [&](const Variable& v, std::size_t dim, const char* what) {
    if (!v.defined())
      throw TypeError(fmt::format("subtensor of '{}' at {}: the {} for dim {} is an undefined Variable", x.label(),
                                  ops::where_str(where), what, dim));
    inputs.push_back(v);
  };
  for (std::size_t d = 0; d < indices.size(); ++d) {
    ir::IndexEntry e;
    const auto& value = indices[d].value();
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
      e.kind = ir::IndexEntry::Scalar;
      inputs.push_back(constant(*i, int64, where));
    } else if (const auto* v = std::get_if<Variable>(&value)) {
      e.kind = v->defined() && v->ndim() > 0 ? ir::IndexEntry::Array : ir::IndexEntry::Scalar;
      advanced = advanced || e.kind == ir::IndexEntry::Array;
      take(*v, d, "index");
    } else {
      const Slice& s = std::get<Slice>(value);
      e.kind = ir::IndexEntry::Range;
      if ((e.has_start = s.start.has_value())) take(*s.start, d, "slice start");
      if ((e.has_stop = s.stop.has_value())) take(*s.stop, d, "slice stop");
      if ((e.has_step = s.step.has_value())) take(*s.step, d, "slice step");
    }
    attrs.index.push_back(e);
  }
  return ops::apply(advanced ? OpCode::AdvancedSubtensor : OpCode::Subtensor, inputs, std::move(attrs), where);
}

namespace {

// Theano's interface: the first argument is x[index] itself; its node says
// what x and the index are.
Variable inc_or_set(const Variable& indexed, const Variable& y, bool set, const char* fn, SL where) {
  ops::require_defined(indexed, fn, where);
  ops::require_defined(y, fn, where);
  const ir::Node& node = *indexed.node();
  if (node.op != OpCode::Subtensor && node.op != OpCode::AdvancedSubtensor)
    throw TypeError(fmt::format("{} at {}: the first argument must be an indexing expression such as x[i], "
                                "x[T::slice(a, b)] or x[{{rows, cols}}], written as {}(x[index], y); '{}' is the "
                                "result of {}",
                                fn, ops::where_str(where), fn, indexed.label(), ir::op_info(node.op).name));
  if (y.ndim() > indexed.ndim())
    throw TypeError(fmt::format("{} at {}: '{}' ({}) has more dimensions than the region '{}' ({}) it goes into", fn,
                                ops::where_str(where), y.label(), y.type_str(), indexed.label(), indexed.type_str()));
  std::vector<std::int64_t> pad(static_cast<std::size_t>(indexed.ndim() - y.ndim()), -1);
  for (int d = 0; d < y.ndim(); ++d) pad.push_back(d);
  std::vector<Variable> inputs{Variable(node.inputs[0]), dimshuffle(y, pad, where)};
  for (std::size_t i = 1; i < node.inputs.size(); ++i) inputs.push_back(Variable(node.inputs[i]));
  ir::Attrs attrs;
  attrs.index = node.attrs.index;
  attrs.set_instead_of_inc = set;
  return ops::apply(node.op == OpCode::Subtensor ? OpCode::IncSubtensor : OpCode::AdvancedIncSubtensor, inputs,
                    std::move(attrs), where);
}

}  // namespace

Variable set_subtensor(const Variable& x_indexed, const Variable& y, SL where) {
  return inc_or_set(x_indexed, y, true, "set_subtensor", where);
}

Variable inc_subtensor(const Variable& x_indexed, const Variable& y, SL where) {
  return inc_or_set(x_indexed, y, false, "inc_subtensor", where);
}

}  // namespace graphjit::tensor
