// 2-d convolution (theano.tensor.nnet.conv2d) and its gradients as ops of
// their own, Theano's AbstractConv2d, AbstractConv2d_gradInputs and
// AbstractConv2d_gradWeights. All three are bilinear, so each one's gradient
// is made of the other two: the graph stays differentiable to any order.
//
// The reference kernels are the definition written as nested loops in
// double (conv_geometry.hpp); the native kernels (conv_native.cpp) are
// im2col + BLAS gemm.
#include "frontend/ops/conv_geometry.hpp"
#include "frontend/ops/conv_native.hpp"
#include "frontend/ops/op_support.hpp"

#include <graphjit/conv.hpp>
#include <graphjit/tensor.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace graphjit::ir {

namespace {

using tensor::nnet::Conv2dOptions;

// --- types ----------------------------------------------------------------------

constexpr const char* kImageLayout = "batch, channels, rows, columns";
constexpr const char* kFilterLayout = "output channels, input channels, rows, columns";

// `layout` names the 4 dims, for the message.
void require_float4(const Node& node, std::size_t i, const char* what, const char* layout) {
  const Type& t = node.inputs[i]->type;
  if (t.ndim() != 4) ops::type_error(node, fmt::format("the {} must be 4-d ({}), not {}", what, layout, t.str()));
  if (!is_float(t.dtype))
    ops::type_error(node, fmt::format("the {} must be float32 or float64, not {}; cast it first (T::cast)", what,
                                      dtype_name(t.dtype)));
}

void require_int_scalar(const Node& node, std::size_t i, const char* what) {
  const Type& t = node.inputs[i]->type;
  if (t.ndim() != 0 || !is_integer(t.dtype) || t.dtype == bool_)
    ops::type_error(node, fmt::format("the {} must be an integer scalar, not {}", what, t.str()));
}

void require_valid_options(const Node& node) {
  if (node.attrs.ints.size() != 16) ops::type_error(node, "the convolution's attributes are malformed");
  const Conv2dOptions o = ops::conv_options(node);
  if (o.subsample[0] < 1 || o.subsample[1] < 1)
    ops::type_error(node, fmt::format("subsample must be at least (1, 1), got ({}, {})", o.subsample[0], o.subsample[1]));
  if (o.filter_dilation[0] < 1 || o.filter_dilation[1] < 1)
    ops::type_error(node, fmt::format("filter_dilation must be at least (1, 1), got ({}, {})", o.filter_dilation[0],
                                      o.filter_dilation[1]));
  if (o.border_mode == tensor::nnet::BorderMode::explicit_pad && (o.pad[0] < 0 || o.pad[1] < 0))
    ops::type_error(node, fmt::format("border_mode pads must not be negative, got ({}, {})", o.pad[0], o.pad[1]));
  if (o.input_shape[1] >= 0 && o.filter_shape[1] >= 0 && o.input_shape[1] != o.filter_shape[1])
    ops::type_error(node, fmt::format("the input_shape hint ({}) has {} channels but the filter_shape hint ({}) "
                                      "expects {}; with border_mode {}",
                                      fmt::join(o.input_shape, ", "), o.input_shape[1], fmt::join(o.filter_shape, ", "),
                                      o.filter_shape[1], ops::border_mode_name(o)));
}

DType float_promote(const Node& node, std::size_t a, std::size_t b) {
  return promote(node.inputs[a]->type.dtype, node.inputs[b]->type.dtype);
}

Type conv2d_type(const Node& node) {
  require_float4(node, 0, "input", kImageLayout);
  require_float4(node, 1, "filters", kFilterLayout);
  require_valid_options(node);
  const auto& x = node.inputs[0]->type.broadcastable;
  const auto& w = node.inputs[1]->type.broadcastable;
  return Type{float_promote(node, 0, 1), {x[0], w[0], false, false}};
}

Type grad_inputs_type(const Node& node) {
  require_float4(node, 0, "filters", kFilterLayout);
  require_float4(node, 1, "output gradient", kImageLayout);
  require_int_scalar(node, 2, "input rows");
  require_int_scalar(node, 3, "input columns");
  require_valid_options(node);
  return Type{float_promote(node, 0, 1), {node.inputs[1]->type.broadcastable[0], node.inputs[0]->type.broadcastable[1],
                                         false, false}};
}

Type grad_weights_type(const Node& node) {
  require_float4(node, 0, "input", kImageLayout);
  require_float4(node, 1, "output gradient", kImageLayout);
  require_int_scalar(node, 2, "filter rows");
  require_int_scalar(node, 3, "filter columns");
  require_valid_options(node);
  return Type{float_promote(node, 0, 1), {node.inputs[1]->type.broadcastable[1], node.inputs[0]->type.broadcastable[1],
                                         false, false}};
}

// --- shapes ---------------------------------------------------------------------

Shape output_shape(const ops::ConvGeometry& g) { return {g.batch, g.out_channels, g.out_rows, g.out_cols}; }

Shape conv2d_shape(const Node& node, const std::vector<Tensor>& inputs) {
  return output_shape(ops::conv_geometry(node, inputs, inputs[0].shape(), inputs[1].shape()));
}

// The output gradient must have the shape the forward conv had.
void check_output_grad(const Node& node, const std::vector<Tensor>& inputs, const ops::ConvGeometry& g,
                       const Tensor& output_grad) {
  if (output_grad.shape() != output_shape(g))
    ops::shape_error(node, inputs,
                     fmt::format("the output gradient has shape ({}) but conv2d's output has shape ({}) here "
                                 "(border_mode {})",
                                 fmt::join(output_grad.shape(), ", "), fmt::join(output_shape(g), ", "),
                                 ops::border_mode_name(ops::conv_options(node))));
}

std::int64_t positive_length(const Node& node, const std::vector<Tensor>& inputs, std::size_t i, const char* what) {
  const auto n = inputs[i].item<std::int64_t>();
  if (n < 1) ops::shape_error(node, inputs, fmt::format("the {} must be at least 1, got {}", what, n));
  return n;
}

}  // namespace

namespace conv_native {

ops::ConvGeometry grad_inputs_geometry(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor &w = inputs[0], &gy = inputs[1];
  const Shape x_shape = {gy.shape(0), w.shape(1), positive_length(node, inputs, 2, "input rows"),
                         positive_length(node, inputs, 3, "input columns")};
  const ops::ConvGeometry g = ops::conv_geometry(node, inputs, x_shape, w.shape());
  check_output_grad(node, inputs, g, gy);
  return g;
}

ops::ConvGeometry grad_weights_geometry(const Node& node, const std::vector<Tensor>& inputs) {
  const Tensor &x = inputs[0], &gy = inputs[1];
  const Shape w_shape = {gy.shape(1), x.shape(1), positive_length(node, inputs, 2, "filter rows"),
                         positive_length(node, inputs, 3, "filter columns")};
  const ops::ConvGeometry g = ops::conv_geometry(node, inputs, x.shape(), w_shape);
  check_output_grad(node, inputs, g, gy);
  return g;
}

}  // namespace conv_native

namespace {

using conv_native::grad_inputs_geometry;
using conv_native::grad_weights_geometry;

Shape grad_inputs_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const ops::ConvGeometry g = grad_inputs_geometry(node, inputs);
  return {g.batch, g.in_channels, g.rows, g.cols};
}

Shape grad_weights_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const ops::ConvGeometry g = grad_weights_geometry(node, inputs);
  return {g.out_channels, g.in_channels, g.filter_rows, g.filter_cols};
}

// --- reference kernels: the definition, tap by tap, in double -------------------------

// Calls f(n, o, i, j, c, r, q, tu, tv) for every product of the convolution:
// output (n, o, i, j) takes input (n, c, r, q) times filter tap (o, c, tu, tv).
template <class F> void for_each_product(const ops::ConvGeometry& g, F f) {
  for (std::int64_t n = 0; n < g.batch; ++n)
    for (std::int64_t o = 0; o < g.out_channels; ++o)
      for (std::int64_t i = 0; i < g.out_rows; ++i)
        for (std::int64_t j = 0; j < g.out_cols; ++j)
          for (std::int64_t c = 0; c < g.in_channels; ++c)
            for (std::int64_t u = 0; u < g.filter_rows; ++u)
              for (std::int64_t v = 0; v < g.filter_cols; ++v) {
                const std::int64_t r = g.input_row(i, u), q = g.input_col(j, v);
                if (r >= 0 && r < g.rows && q >= 0 && q < g.cols) f(n, o, i, j, c, r, q, g.tap_row(u), g.tap_col(v));
              }
}

Tensor conv2d_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const ops::ConvGeometry g = ops::conv_geometry(node, inputs, inputs[0].shape(), inputs[1].shape());
  const Tensor x = inputs[0].astype(float64), w = inputs[1].astype(float64);
  Tensor y = Tensor::zeros(output_shape(g), float64);
  double* py = y.data<double>();
  for_each_product(g, [&](auto n, auto o, auto i, auto j, auto c, auto r, auto q, auto tu, auto tv) {
    py[((n * g.out_channels + o) * g.out_rows + i) * g.out_cols + j] += x.get({n, c, r, q}) * w.get({o, c, tu, tv});
  });
  return y.astype(node.type.dtype);
}

Tensor grad_inputs_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const ops::ConvGeometry g = grad_inputs_geometry(node, inputs);
  const Tensor w = inputs[0].astype(float64), gy = inputs[1].astype(float64);
  Tensor gx = Tensor::zeros({g.batch, g.in_channels, g.rows, g.cols}, float64);
  double* p = gx.data<double>();
  for_each_product(g, [&](auto n, auto o, auto i, auto j, auto c, auto r, auto q, auto tu, auto tv) {
    p[((n * g.in_channels + c) * g.rows + r) * g.cols + q] += gy.get({n, o, i, j}) * w.get({o, c, tu, tv});
  });
  return gx.astype(node.type.dtype);
}

Tensor grad_weights_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const ops::ConvGeometry g = grad_weights_geometry(node, inputs);
  const Tensor x = inputs[0].astype(float64), gy = inputs[1].astype(float64);
  Tensor gw = Tensor::zeros({g.out_channels, g.in_channels, g.filter_rows, g.filter_cols}, float64);
  double* p = gw.data<double>();
  for_each_product(g, [&](auto n, auto o, auto i, auto j, auto c, auto r, auto q, auto tu, auto tv) {
    p[((o * g.in_channels + c) * g.filter_rows + tu) * g.filter_cols + tv] += gy.get({n, o, i, j}) * x.get({n, c, r, q});
  });
  return gw.astype(node.type.dtype);
}

// --- gradients: each bilinear op's partial derivatives are the other two ops -------

std::vector<Variable> conv2d_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable x = ops::input(node, 0), w = ops::input(node, 1);
  const Conv2dOptions o = ops::conv_options(node);
  return {ops::sum_to_input(tensor::nnet::conv2d_grad_inputs(w, g, x.shape(2), x.shape(3), o, node.where), *node.inputs[0]),
          ops::sum_to_input(tensor::nnet::conv2d_grad_weights(x, g, w.shape(2), w.shape(3), o, node.where),
                            *node.inputs[1])};
}

std::vector<Variable> grad_inputs_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable w = ops::input(node, 0), gy = ops::input(node, 1);
  const Conv2dOptions o = ops::conv_options(node);
  return {ops::sum_to_input(tensor::nnet::conv2d_grad_weights(g, gy, w.shape(2), w.shape(3), o, node.where),
                            *node.inputs[0]),
          ops::sum_to_input(tensor::nnet::conv2d(g, w, o, node.where), *node.inputs[1]), Variable(), Variable()};
}

std::vector<Variable> grad_weights_grad(const Node& node, const Variable&, const Variable& g) {
  const Variable x = ops::input(node, 0), gy = ops::input(node, 1);
  const Conv2dOptions o = ops::conv_options(node);
  return {ops::sum_to_input(tensor::nnet::conv2d_grad_inputs(g, gy, x.shape(2), x.shape(3), o, node.where),
                            *node.inputs[0]),
          ops::sum_to_input(tensor::nnet::conv2d(x, g, o, node.where), *node.inputs[1]), Variable(), Variable()};
}

}  // namespace

void register_conv_ops() {
  define_op(OpCode::Conv2d, {conv2d_type, conv2d_shape, conv2d_reference, conv2d_grad, conv_native::conv2d});
  define_op(OpCode::Conv2dGradInputs, {grad_inputs_type, grad_inputs_shape, grad_inputs_reference, grad_inputs_grad,
                                       conv_native::grad_inputs});
  define_op(OpCode::Conv2dGradWeights, {grad_weights_type, grad_weights_shape, grad_weights_reference,
                                        grad_weights_grad, conv_native::grad_weights});
}

}  // namespace graphjit::ir

namespace graphjit::tensor::nnet {

namespace {

ir::Attrs conv_node_attrs(const Conv2dOptions& options) {
  ir::Attrs attrs;
  attrs.ints = ops::conv_attrs(options);
  return attrs;
}

}  // namespace

Variable conv2d(const Variable& input, const Variable& filters, const Conv2dOptions& options, SL where) {
  return ops::apply(ir::OpCode::Conv2d, {input, filters}, conv_node_attrs(options), where);
}

Variable conv2d_grad_inputs(const Variable& filters, const Variable& output_grad, const Variable& input_rows,
                            const Variable& input_cols, const Conv2dOptions& options, SL where) {
  return ops::apply(ir::OpCode::Conv2dGradInputs, {filters, output_grad, input_rows, input_cols},
                    conv_node_attrs(options), where);
}

Variable conv2d_grad_weights(const Variable& input, const Variable& output_grad, const Variable& filter_rows,
                             const Variable& filter_cols, const Conv2dOptions& options, SL where) {
  return ops::apply(ir::OpCode::Conv2dGradWeights,
                    {input, output_grad, filter_rows, filter_cols},
                    conv_node_attrs(options), where);
}

}  // namespace graphjit::tensor::nnet
