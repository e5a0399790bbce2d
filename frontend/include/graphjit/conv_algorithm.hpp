// Which algorithm the compiled (fast_run) conv2d kernels use. By default each
// shape gets the one measured faster for it (docs/architecture.md): im2col +
// BLAS gemm, or direct loops where the filters have few taps. Forcing one is
// for measurements and tests.
#pragma once

namespace graphjit::tensor::nnet {

enum class ConvAlgorithm {
  by_shape,  // the default: chosen per shape
  gemm,      // im2col + gemm everywhere
  direct,    // direct loops wherever they apply (unit column stride), else gemm
};

// Process-wide; takes effect on the next call of a compiled function.
void set_conv_algorithm(ConvAlgorithm algorithm);
ConvAlgorithm conv_algorithm();

}  // namespace graphjit::tensor::nnet
