// The compiled (fast_run) kernels of conv2d and its gradients: im2col + BLAS
// gemm over chunks of images (conv_native.cpp), and the geometry the
// gradient ops read from their inputs (conv.cpp), shared with the reference.
#pragma once

#include "compiler/ir/op_info.hpp"
#include "frontend/ops/conv_geometry.hpp"

#include <vector>

namespace graphjit::ir::conv_native {

// The geometry of the convolution a gradient op differentiates, checked
// against the output gradient's shape.
ops::ConvGeometry grad_inputs_geometry(const Node& node, const std::vector<Tensor>& inputs);
ops::ConvGeometry grad_weights_geometry(const Node& node, const std::vector<Tensor>& inputs);

Tensor conv2d_run(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& out);
Tensor grad_inputs_run(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& out);
Tensor grad_weights_run(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& out);

inline constexpr NativeKernel conv2d{conv2d_run};
inline constexpr NativeKernel grad_inputs{grad_inputs_run};
inline constexpr NativeKernel grad_weights{grad_weights_run};

}  // namespace graphjit::ir::conv_native
