// The geometry of a 2-d convolution, shared by conv2d and its two gradient
// ops, their shape rules, reference kernels and native kernels: the options
// as they are stored in a node's attrs.ints, and the sizes of one call.
#pragma once

#include "compiler/ir/node.hpp"

#include <graphjit/conv.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace graphjit::ops {

// attrs.ints of Conv2d, Conv2dGradInputs and Conv2dGradWeights:
// {border mode, pad rows, pad cols, stride rows, stride cols, dilation rows,
//  dilation cols, flip, input shape hint x4, filter shape hint x4}.
std::vector<std::int64_t> conv_attrs(const tensor::nnet::Conv2dOptions& options);
tensor::nnet::Conv2dOptions conv_options(const ir::Node& node);
std::string border_mode_name(const tensor::nnet::Conv2dOptions& options);

// The sizes of one convolution: y[n, o, i, j] = sum over c, u, v of
// x[n, c, i*stride - pad + u*dilation, ...] * w'[o, c, u, v], where w' is w
// flipped along both spatial dims when `flip` (a true convolution).
struct ConvGeometry {
  std::int64_t batch, in_channels, rows, cols;          // the input
  std::int64_t out_channels, filter_rows, filter_cols;  // the filters
  std::int64_t out_rows, out_cols;                      // the output
  std::int64_t pad_rows, pad_cols, stride_rows, stride_cols, dil_rows, dil_cols;
  bool flip;

  // The row of the input that filter row u of output row i reads (may be outside [0, rows)).
  std::int64_t input_row(std::int64_t i, std::int64_t u) const { return i * stride_rows - pad_rows + u * dil_rows; }
  std::int64_t input_col(std::int64_t j, std::int64_t v) const { return j * stride_cols - pad_cols + v * dil_cols; }
  // The filter tap that multiplies tap (u, v) of the cross-correlation.
  std::int64_t tap_row(std::int64_t u) const { return flip ? filter_rows - 1 - u : u; }
  std::int64_t tap_col(std::int64_t v) const { return flip ? filter_cols - 1 - v : v; }
};

// The geometry of conv2d(input of `input_shape`, filters of `filter_shape`);
// throws a ShapeError naming both shapes and the border mode when they do not
// fit (or disagree with the hints). `node` and its `inputs` name the op in the message.
ConvGeometry conv_geometry(const ir::Node& node, const std::vector<Tensor>& inputs, const Shape& input_shape,
                           const Shape& filter_shape);

// The output length along one axis, Theano's get_conv_shape_1axis; the pad the border mode means.
std::int64_t conv_pad(tensor::nnet::BorderMode mode, std::int64_t explicit_pad, std::int64_t filter, std::int64_t dilation);

}  // namespace graphjit::ops
