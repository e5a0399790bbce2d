// Convolutional nets: theano.tensor.nnet.conv2d and theano.tensor.signal.pool.pool_2d.
//
//   auto h = T::nnet::conv2d(x, W, {.border_mode = T::nnet::BorderMode::half, .subsample = {2, 2}});
//   auto p = T::signal::pool_2d(h, {2, 2}, {.ignore_border = true});
//
// Images are NCHW (batch, channels, rows, columns); filters are
// (output channels, input channels, rows, columns).
#pragma once

#include <graphjit/variable.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <source_location>
#include <string>

namespace graphjit::tensor {

namespace nnet {

// Theano's border_mode: "valid" (no padding), "full" (every overlap: pad by
// the dilated filter's size - 1), "half" (pad by half the dilated filter's
// size, rounded down: "same" for odd filters and stride 1), or explicit pads.
enum class BorderMode : std::uint8_t { valid, full, half, explicit_pad };

struct Conv2dOptions {
  BorderMode border_mode = BorderMode::valid;
  std::array<std::int64_t, 2> pad = {0, 0};  // rows, columns; read when border_mode is explicit_pad
  std::array<std::int64_t, 2> subsample = {1, 1};
  std::array<std::int64_t, 2> filter_dilation = {1, 1};
  // true: a convolution (the filters are flipped), as in Theano; false: a
  // cross-correlation (what torch.nn.functional.conv2d computes).
  bool filter_flip = true;
  // Shape hints, Theano's input_shape / filter_shape: -1 for an unknown
  // length. Given ones are checked when the graph is built (against each
  // other) and when the function runs (against the values).
  std::array<std::int64_t, 4> input_shape = {-1, -1, -1, -1};
  std::array<std::int64_t, 4> filter_shape = {-1, -1, -1, -1};
};

// Explicit pads, Theano's border_mode=(ph, pw).
inline Conv2dOptions padded(std::int64_t ph, std::int64_t pw, Conv2dOptions o = {}) {
  o.border_mode = BorderMode::explicit_pad;
  o.pad = {ph, pw};
  return o;
}

Variable conv2d(const Variable& input, const Variable& filters, const Conv2dOptions& options = {},
                std::source_location where = std::source_location::current());

// The gradients of conv2d as ops of their own (Theano's AbstractConv2d_gradInputs
// and AbstractConv2d_gradWeights): `input_rows/cols` and `filter_rows/cols` are
// the shapes being reconstructed (int scalars), since strides make them ambiguous.
Variable conv2d_grad_inputs(const Variable& filters, const Variable& output_grad, const Variable& input_rows,
                            const Variable& input_cols, const Conv2dOptions& options = {},
                            std::source_location where = std::source_location::current());
Variable conv2d_grad_weights(const Variable& input, const Variable& output_grad, const Variable& filter_rows,
                             const Variable& filter_cols, const Conv2dOptions& options = {},
                             std::source_location where = std::source_location::current());

}  // namespace nnet

namespace signal {

enum class PoolMode : std::uint8_t { max, sum, average_inc_pad, average_exc_pad };

struct Pool2dOptions {
  // false (Theano's default): partial windows at the bottom and right borders
  // make an extra output row or column; true: they are dropped.
  bool ignore_border = false;
  std::optional<std::array<std::int64_t, 2>> stride;  // default: the window size
  std::array<std::int64_t, 2> pad = {0, 0};           // needs ignore_border; smaller than the window
  PoolMode mode = PoolMode::max;
};

// Pools the last two dims of an input of rank 2 or more.
Variable pool_2d(const Variable& input, std::array<std::int64_t, 2> ws, const Pool2dOptions& options = {},
                 std::source_location where = std::source_location::current());

}  // namespace signal

}  // namespace graphjit::tensor
