// conv2d's direct loops: the convolution of one image computed tap by tap in
// vector registers, without unrolling the image into a matrix. They win over
// im2col + gemm where the gemm's inner dimension (the taps) is small, as in a
// first layer with one input channel; conv_native.cpp picks between the two
// per shape (docs/architecture.md has the measurements).
#pragma once

#include "frontend/ops/conv_geometry.hpp"

namespace graphjit::ir::conv_direct {

// Whether the direct loops handle the geometry: unit column stride, so that
// neighbouring output columns read neighbouring input columns.
bool supports(const ops::ConvGeometry& g);

// Elements of T per vector register the loops use (32 bytes).
template <class T> constexpr std::int64_t lanes() { return 32 / static_cast<std::int64_t>(sizeof(T)); }

// y (out_channels, out_rows, out_cols) of one image x (in_channels, rows,
// cols); w_taps is the filters as the cross-correlation reads them (already
// flipped for a true convolution), transposed to (taps, out_channels).
void forward_image(const ops::ConvGeometry& g, const float* x, const float* w_taps, float* y);
void forward_image(const ops::ConvGeometry& g, const double* x, const double* w_taps, double* y);

// gw (out_channels, taps) += the filter gradient of one image: x as above, gy
// (out_channels, out_rows, out_cols).
void add_weight_grad_image(const ops::ConvGeometry& g, const float* x, const float* gy, float* gw);
void add_weight_grad_image(const ops::ConvGeometry& g, const double* x, const double* gy, double* gw);

}  // namespace graphjit::ir::conv_direct
