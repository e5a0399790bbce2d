#include "frontend/ops/conv_geometry.hpp"

#include "compiler/ir/diagnostics.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace graphjit::ops {

using tensor::nnet::BorderMode;
using tensor::nnet::Conv2dOptions;

std::vector<std::int64_t> conv_attrs(const Conv2dOptions& o) {
  std::vector<std::int64_t> ints = {static_cast<std::int64_t>(o.border_mode),
                                    o.pad[0], o.pad[1], o.subsample[0], o.subsample[1],
                                    o.filter_dilation[0], o.filter_dilation[1], o.filter_flip ? 1 : 0};
  ints.insert(ints.end(), o.input_shape.begin(), o.input_shape.end());
  ints.insert(ints.end(), o.filter_shape.begin(), o.filter_shape.end());
  return ints;
}

Conv2dOptions conv_options(const ir::Node& node) {
  const auto& a = node.attrs.ints;
  Conv2dOptions o;
  o.border_mode = static_cast<BorderMode>(a.at(0));
  o.pad = {a.at(1), a.at(2)};
  o.subsample = {a.at(3), a.at(4)};
  o.filter_dilation = {a.at(5), a.at(6)};
  o.filter_flip = a.at(7) != 0;
  for (int d = 0; d < 4; ++d) {
    o.input_shape[d] = a.at(8 + d);
    o.filter_shape[d] = a.at(12 + d);
  }
  return o;
}

std::string border_mode_name(const Conv2dOptions& o) {
  switch (o.border_mode) {
    case BorderMode::valid: return "valid";
    case BorderMode::full: return "full";
    case BorderMode::half: return "half";
    case BorderMode::explicit_pad: return fmt::format("({}, {})", o.pad[0], o.pad[1]);
  }
  return "?";
}

std::int64_t conv_pad(BorderMode mode, std::int64_t explicit_pad, std::int64_t filter, std::int64_t dilation) {
  const std::int64_t dilated = (filter - 1) * dilation + 1;
  switch (mode) {
    case BorderMode::valid: return 0;
    case BorderMode::full: return dilated - 1;
    case BorderMode::half: return dilated / 2;
    case BorderMode::explicit_pad: return explicit_pad;
  }
  return 0;
}

namespace {

// A hint disagreeing with the value's shape, named as Theano's users know them.
void check_hint(const ir::Node& node, const std::vector<Tensor>& inputs, const char* what,
                const std::array<std::int64_t, 4>& hint, const Shape& shape) {
  for (int d = 0; d < 4; ++d)
    if (hint[d] >= 0 && hint[d] != shape[d])
      ir::shape_error(node, inputs,
                      fmt::format("the {} has shape ({}) but the {}_shape hint says ({}) (-1: unknown); fix the hint "
                                  "or the value",
                                  what, fmt::join(shape, ", "), what, fmt::join(hint, ", ")));
}

}  // namespace

ConvGeometry conv_geometry(const ir::Node& node, const std::vector<Tensor>& inputs, const Shape& input_shape,
                           const Shape& filter_shape) {
  const Conv2dOptions o = conv_options(node);
  check_hint(node, inputs, "input", o.input_shape, input_shape);
  check_hint(node, inputs, "filter", o.filter_shape, filter_shape);
  ConvGeometry g{};
  g.batch = input_shape[0], g.in_channels = input_shape[1], g.rows = input_shape[2], g.cols = input_shape[3];
  g.out_channels = filter_shape[0], g.filter_rows = filter_shape[2], g.filter_cols = filter_shape[3];
  g.stride_rows = o.subsample[0], g.stride_cols = o.subsample[1];
  g.dil_rows = o.filter_dilation[0], g.dil_cols = o.filter_dilation[1];
  g.flip = o.filter_flip;
  g.pad_rows = conv_pad(o.border_mode, o.pad[0], g.filter_rows, g.dil_rows);
  g.pad_cols = conv_pad(o.border_mode, o.pad[1], g.filter_cols, g.dil_cols);
  const std::int64_t dilated_rows = (g.filter_rows - 1) * g.dil_rows + 1;
  const std::int64_t dilated_cols = (g.filter_cols - 1) * g.dil_cols + 1;
  const std::int64_t span_rows = g.rows + 2 * g.pad_rows - dilated_rows;
  const std::int64_t span_cols = g.cols + 2 * g.pad_cols - dilated_cols;
  auto fail = [&](const std::string& why) {
    ir::shape_error(node, inputs,
                    fmt::format("conv2d of an input of shape ({}) with filters of shape ({}), border_mode {}, "
                                "subsample ({}, {}), filter_dilation ({}, {}): {}",
                                fmt::join(input_shape, ", "), fmt::join(filter_shape, ", "), border_mode_name(o),
                                g.stride_rows, g.stride_cols, g.dil_rows, g.dil_cols, why));
  };
  if (filter_shape[1] != g.in_channels)
    fail(fmt::format("the input has {} channels but the filters expect {} (filters are (out, in, rows, cols))",
                     g.in_channels, filter_shape[1]));
  if (g.filter_rows < 1 || g.filter_cols < 1) fail("the filters must be at least 1x1");
  if (span_rows < 0 || span_cols < 0)
    fail(fmt::format("the (dilated) filters, {}x{}, are larger than the padded input, {}x{}; pad the input or use "
                     "border_mode full or half",
                     dilated_rows, dilated_cols, g.rows + 2 * g.pad_rows, g.cols + 2 * g.pad_cols));
  g.out_rows = span_rows / g.stride_rows + 1;
  g.out_cols = span_cols / g.stride_cols + 1;
  return g;
}

}  // namespace graphjit::ops
