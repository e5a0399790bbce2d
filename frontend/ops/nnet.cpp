// Neural-network ops (theano.tensor.nnet): softmax and log-softmax along the
// last axis of tensors of any rank (a (T, B, C) sequence output is T * B rows), softmax's gradient as an op of its own (so the optimizer can
// recognise it), categorical cross-entropy with integer targets, and one-hot
// encoding. The composite losses (one-hot cross-entropy, binary
// cross-entropy) are builders over elementwise ops and reductions.
//
// The reference kernels compute in double, row by row, and round once to the
// output dtype; softmax subtracts each row's max first so exp cannot overflow.
#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace graphjit::ir {

namespace {

// --- types ----------------------------------------------------------------------

void require_float_rows(const Node& node, const Type& t, const char* what) {
  if (t.ndim() < 1)
    ops::type_error(node, fmt::format("{} must have at least one dim (the op works along the last axis), not {}",
                                      what, t.str()));
  if (!is_float(t.dtype))
    ops::type_error(node, fmt::format("{} must be float32 or float64, not {}; cast it first (T::cast)", what,
                                      dtype_name(t.dtype)));
}

void require_int_vector(const Node& node, const Type& t, const char* what) {
  if (t.ndim() != 1 || !is_integer(t.dtype) || t.dtype == bool_)
    ops::type_error(node, fmt::format("{} must be an integer vector of class indices, not {}", what, t.str()));
}

Type softmax_type(const Node& node) {
  require_float_rows(node, node.inputs[0]->type, "the input");
  return node.inputs[0]->type;
}

Type softmax_grad_type(const Node& node) {
  const Type& gy = node.inputs[0]->type;
  const Type& y = node.inputs[1]->type;
  require_float_rows(node, gy, "the output gradient");
  require_float_rows(node, y, "the softmax output");
  if (gy.ndim() != y.ndim()) ops::type_error(node, "the output gradient and the softmax output must have the same rank");
  Type out{promote(gy.dtype, y.dtype), y.broadcastable};
  for (int d = 0; d < y.ndim(); ++d) out.broadcastable[d] = gy.broadcastable[d] && y.broadcastable[d];
  return out;
}

// probs (..., C) of class probabilities along the last axis, integer targets
// (...) of one class per row: a (T, B, C) sequence output takes (T, B) targets.
Type crossentropy_type(const Node& node) {
  const Type& probs = node.inputs[0]->type;
  const Type& targets = node.inputs[1]->type;
  if (probs.ndim() < 1 || !is_float(probs.dtype))
    ops::type_error(node, "the probabilities must be float, one row of class probabilities per example along the "
                          "last axis");
  if (targets.ndim() != probs.ndim() - 1 || !is_integer(targets.dtype) || targets.dtype == bool_)
    ops::type_error(node, fmt::format("the targets must be integer class indices with one dim less than the "
                                      "probabilities ({} dims), or one-hot rows of the probabilities' type; got {}",
                                      probs.ndim() - 1, targets.str()));
  Type out{probs.dtype, targets.broadcastable};
  for (int d = 0; d < targets.ndim(); ++d) out.broadcastable[d] = out.broadcastable[d] && probs.broadcastable[d];
  return out;
}

Type one_hot_type(const Node& node) {
  require_int_vector(node, node.inputs[0]->type, "the labels");
  if (node.attrs.ints.size() != 1 || node.attrs.ints[0] < 1)
    ops::type_error(node, "the number of classes (attrs.ints[0]) must be given and at least 1");
  return Type{node.attrs.dtype, {node.inputs[0]->type.broadcastable[0], node.attrs.ints[0] == 1}};
}

// --- shapes -------------------------------------------------------------------

Shape same_shape(const Node&, const std::vector<Tensor>& inputs) { return inputs[0].shape(); }

Shape softmax_grad_shape(const Node& node, const std::vector<Tensor>& inputs) {
  if (inputs[0].shape() != inputs[1].shape())
    ops::shape_error(node, inputs, "the output gradient and the softmax output must have the same shape");
  return inputs[0].shape();
}

Shape crossentropy_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape rows(inputs[0].shape().begin(), inputs[0].shape().end() - 1);
  if (rows != inputs[1].shape())
    ops::shape_error(node, inputs,
                     fmt::format("the probabilities have rows {} but the targets have shape {}; give one target per "
                                 "row", shape_str(rows), shape_str(inputs[1].shape())));
  return rows;
}

Shape one_hot_shape(const Node& node, const std::vector<Tensor>& inputs) {
  return {inputs[0].shape(0), node.attrs.ints[0]};
}

// --- reference kernels ----------------------------------------------------------

// A float tensor as contiguous float64 rows along its last dim (a vector is
// one row): the layout every kernel here loops over. The values are a copy,
// so kernels overwrite them in place.
struct Rows {
  Tensor values;
  std::int64_t count, length;

  explicit Rows(const Tensor& x)
      : values(x.astype(float64)), count(shape_numel(Shape(x.shape().begin(), x.shape().end() - 1))),
        length(x.shape(-1)) {}
  double* row(std::int64_t r) const { return values.data<double>() + r * length; }
  Tensor as(DType dtype) const { return dtype == float64 ? values : values.astype(dtype); }
};

double row_max(const double* v, std::int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (std::int64_t j = 0; j < n; ++j) m = std::max(m, v[j]);
  return m;
}

// A row of length 0 has no max to shift by: an error, as in the compiled
// code (whose expansion takes that max) and in scipy.special.softmax, even
// when there is no row either, (0, 0), as numpy's max raises. An empty batch
// of real rows, (0, n), is fine.
void check_rows_not_empty(const Node& node, const std::vector<Tensor>& inputs, const Rows& x) {
  if (x.length == 0)
    ops::shape_error(node, inputs, "the rows have length 0: there is no max to shift by (max over a dim of length 0 has no value)");
}

Tensor softmax_reference(const Node& node, const std::vector<Tensor>& inputs) {
  Rows x(inputs[0]);
  check_rows_not_empty(node, inputs, x);
  for (std::int64_t r = 0; r < x.count; ++r) {
    double* v = x.row(r);
    const double m = row_max(v, x.length);
    double total = 0;
    for (std::int64_t j = 0; j < x.length; ++j) total += (v[j] = std::exp(v[j] - m));
    for (std::int64_t j = 0; j < x.length; ++j) v[j] /= total;
  }
  return x.as(node.type.dtype);
}

Tensor log_softmax_reference(const Node& node, const std::vector<Tensor>& inputs) {
  Rows x(inputs[0]);
  check_rows_not_empty(node, inputs, x);
  for (std::int64_t r = 0; r < x.count; ++r) {
    double* v = x.row(r);
    const double m = row_max(v, x.length);
    double total = 0;
    for (std::int64_t j = 0; j < x.length; ++j) total += std::exp(v[j] - m);
    const double log_total = std::log(total);
    for (std::int64_t j = 0; j < x.length; ++j) v[j] = v[j] - m - log_total;
  }
  return x.as(node.type.dtype);
}

// dx = (gy - sum(gy * y)) * y, row by row.
Tensor softmax_grad_reference(const Node& node, const std::vector<Tensor>& inputs) {
  softmax_grad_shape(node, inputs);
  Rows gy(inputs[0]);
  const Rows y(inputs[1]);
  for (std::int64_t r = 0; r < gy.count; ++r) {
    double* g = gy.row(r);
    const double* p = y.row(r);
    double dot = 0;
    for (std::int64_t j = 0; j < gy.length; ++j) dot += g[j] * p[j];
    for (std::int64_t j = 0; j < gy.length; ++j) g[j] = (g[j] - dot) * p[j];
  }
  return gy.as(node.type.dtype);
}

// The class index targets[i], checked against the number of classes.
std::int64_t class_of(const Node& node, const std::vector<Tensor>& inputs, const Tensor& labels, std::int64_t i,
                      std::int64_t classes, const char* what) {
  const auto c = labels.data<std::int64_t>()[i];
  if (c < 0 || c >= classes)
    ops::shape_error(node, inputs,
                     fmt::format("{} {} at index {} is not a class in [0, {})", what, c, i, classes));
  return c;
}

// attrs.ints == {1}: the first input holds log-probabilities (what the
// stabilize pass makes of crossentropy(softmax(x)), over log_softmax(x)).
bool of_log_probs(const Node& node) { return node.attrs.ints.size() == 1 && node.attrs.ints[0] == 1; }

Tensor crossentropy_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape = crossentropy_shape(node, inputs);
  const std::int64_t rows = shape_numel(shape), classes = inputs[0].shape(-1);
  const Tensor probs = inputs[0].reshape({rows, classes});
  const Tensor labels = inputs[1].astype(int64).reshape({rows});
  Tensor out = Tensor::empty({rows}, node.type.dtype);
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t c = class_of(node, inputs, labels, i, classes, "target");
    const double p = probs.get({i, c});
    out.set({i}, of_log_probs(node) ? -p : -std::log(p));
  }
  return out.reshape(shape);
}

// Compiled crossentropy and one-hot: typed loops into the planned memory,
// checking every label like the reference.
Tensor crossentropy_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Shape shape = crossentropy_shape(node, inputs);
  const Tensor probs = inputs[0].contiguous();
  const Tensor labels = inputs[1].astype(int64).reshape({shape_numel(shape)});
  const std::int64_t classes = probs.shape(-1), rows = shape_numel(shape);
  Tensor out = memory.get(shape, node.type.dtype);
  visit_dtype(node.type.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* p = probs.data<T>();
      T* o = out.data<T>();
      const bool log_probs = of_log_probs(node);
      for (std::int64_t i = 0; i < rows; ++i) {
        const T chosen = p[i * classes + class_of(node, inputs, labels, i, classes, "target")];
        o[i] = log_probs ? -chosen : -std::log(chosen);
      }
    } else {
      throw std::logic_error("categorical_crossentropy of non-float probabilities");
    }
  });
  return out;
}

Tensor one_hot_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Shape shape = one_hot_shape(node, inputs);
  const Tensor labels = inputs[0].astype(int64);
  Tensor out = memory.get(shape, node.type.dtype);
  visit_dtype(node.type.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    std::fill(o, o + out.size(), T(0));
    for (std::int64_t i = 0; i < shape[0]; ++i) o[i * shape[1] + class_of(node, inputs, labels, i, shape[1], "label")] = T(1);
  });
  return out;
}

Tensor one_hot_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape = one_hot_shape(node, inputs);
  const Tensor labels = inputs[0].astype(int64);
  Tensor out = Tensor::zeros(shape, node.type.dtype);
  for (std::int64_t i = 0; i < shape[0]; ++i) out.set({i, class_of(node, inputs, labels, i, shape[1], "label")}, 1);
  return out;
}

// --- gradients --------------------------------------------------------------------

Variable sum_rows(const Variable& x) { return tensor::sum(x, std::vector<int>{-1}, /*keepdims=*/true); }

std::vector<Variable> softmax_grad(const Node& node, const Variable& out, const Variable& g) {
  return {ops::sum_to_input(ops::apply(OpCode::SoftmaxGrad, {g, out}, {}, node.where), *node.inputs[0])};
}

std::vector<Variable> log_softmax_grad(const Node& node, const Variable& out, const Variable& g) {
  return {ops::sum_to_input(g - tensor::exp(out) * sum_rows(g), *node.inputs[0])};
}

// Second derivatives through softmax: with dx = (gy - s) * y and s = sum(gy * y),
// d/dgy is softmax_grad(G, y) and d/dy is G * (gy - s) - gy * sum(G * y).
std::vector<Variable> softmax_grad_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable gy = ops::input(node, 0), y = ops::input(node, 1);
  const Variable d_gy = ops::apply(OpCode::SoftmaxGrad, {g, y}, {}, node.where);
  const Variable d_y = g * (gy - sum_rows(gy * y)) - gy * sum_rows(g * y);
  return {ops::sum_to_input(d_gy, *node.inputs[0]), ops::sum_to_input(d_y, *node.inputs[1])};
}

// Only probs[i, targets[i]] reaches the output: its gradient is -g[i] / p there
// and exactly 0 elsewhere (a product with a one-hot mask would give 0 * inf
// = nan where a probability is 0, hence the switch).
std::vector<Variable> crossentropy_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable probs = ops::input(node, 0), targets = ops::input(node, 1);
  const int last = probs.ndim() - 1;
  std::vector<std::int64_t> along_last(static_cast<std::size_t>(last), -1), per_row_pattern;  // (x.., C), (.., x)
  along_last.push_back(0);
  for (int d = 0; d < last; ++d) per_row_pattern.push_back(d);
  per_row_pattern.push_back(-1);
  const Variable classes = tensor::arange(probs.shape(last)).dimshuffle(along_last);
  const Variable chosen = tensor::eq(classes, targets.dimshuffle(per_row_pattern));
  const Variable per_row = -g.dimshuffle(per_row_pattern);
  const Variable grad = tensor::switch_(chosen, of_log_probs(node) ? per_row : per_row / probs, 0);
  return {ops::sum_to_input(grad, *node.inputs[0]), Variable()};
}

}  // namespace

void register_nnet_ops() {
  // Softmax and its relatives are written as fused kernels before lowering
  // (compiler/lower/expand.cpp); with that expansion off they run plain.
  define_op(OpCode::Softmax, {softmax_type, same_shape, softmax_reference, softmax_grad,
                              plain_native<softmax_reference>});

  define_op(OpCode::LogSoftmax, {softmax_type, same_shape, log_softmax_reference, log_softmax_grad,
                                 plain_native<log_softmax_reference>});

  define_op(OpCode::SoftmaxGrad, {softmax_grad_type, softmax_grad_shape, softmax_grad_reference, softmax_grad_grad,
                                  plain_native<softmax_grad_reference>});

  define_op(OpCode::CrossentropyCategorical, {crossentropy_type, crossentropy_shape, crossentropy_reference,
                                              crossentropy_grad, crossentropy_native});

  // One-hot rows are a function of integer labels: no gradient.
  define_op(OpCode::OneHot, {one_hot_type, one_hot_shape, one_hot_reference, nullptr, one_hot_native});
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

using ir::OpCode;

using ops::require_defined;

namespace nnet {

Variable softmax(const Variable& x, SL where) { return ops::apply(OpCode::Softmax, {x}, {}, where); }

Variable log_softmax(const Variable& x, SL where) { return ops::apply(OpCode::LogSoftmax, {x}, {}, where); }

// Theano's rule: targets of the probabilities' rank are one-hot (or soft)
// rows, -sum(targets * log(probs)) along the last axis; anything else goes to
// the integer-target op, whose type check explains what it accepts.
Variable categorical_crossentropy(const Variable& probs, const Variable& targets, SL where) {
  require_defined(probs, "categorical_crossentropy", where);
  require_defined(targets, "categorical_crossentropy", where);
  if (targets.ndim() == probs.ndim())
    return neg(sum(mul(targets, log(probs, where), where), std::vector<int>{-1}, false, where), where);
  return ops::apply(OpCode::CrossentropyCategorical, {probs, targets}, {}, where);
}

// -(target * log(output) + (1 - target) * log(1 - output)), elementwise.
Variable binary_crossentropy(const Variable& output, const Variable& target, SL where) {
  require_defined(output, "binary_crossentropy", where);
  require_defined(target, "binary_crossentropy", where);
  const Variable one = constant(1, is_float(target.dtype()) ? target.dtype() : output.dtype(), where);
  const Variable one_out = constant(1, output.dtype(), where);
  return neg(add(mul(target, log(output, where), where),
                 mul(sub(one, target, where), log(sub(one_out, output, where), where), where), where),
             where);
}

}  // namespace nnet

namespace extra_ops {

Variable to_one_hot(const Variable& y, std::int64_t nb_class, DType dtype, SL where) {
  ir::Attrs attrs;
  attrs.ints = {nb_class};
  attrs.dtype = dtype;
  return ops::apply(OpCode::OneHot, {y}, std::move(attrs), where);
}

}  // namespace extra_ops

}  // namespace graphjit::tensor
