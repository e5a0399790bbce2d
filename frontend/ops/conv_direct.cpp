// conv2d's direct loops (conv_direct.hpp). The image is first copied into a
// zero-padded buffer, so the loops need no bounds: an output row's columns
// are vectors of 32 bytes, and each (output row, column vector, block of
// output channels) sums every tap in registers, one load of the input
// feeding the whole channel block. The loops are compiled twice, for AVX2 and
// for the baseline x86-64, and the CPU picks at run time.
#include "frontend/ops/conv_direct.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace graphjit::ir::conv_direct {

namespace {

using ops::ConvGeometry;

// 32-byte vectors of T (GCC's vector extension; attributes do not apply to a dependent type directly).
template <class T> struct VectorOf;
template <> struct VectorOf<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <> struct VectorOf<double> {
  typedef double type __attribute__((vector_size(32)));
};
template <class T> using Vec = typename VectorOf<T>::type;
template <class T> constexpr std::int64_t kLanes = lanes<T>();

// Always inlined, so no call passes a vector and the ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
template <class T> [[gnu::always_inline]] inline Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::int64_t taps(const ConvGeometry& g) { return g.in_channels * g.filter_rows * g.filter_cols; }

// One image zero-padded by the geometry's pads, each row with kLanes columns
// of slack, so a full vector loaded at any output column stays inside.
template <class T> struct PaddedImage {
  const T* data;
  std::int64_t rows, cols;
  // The padded row that filter row u of output row i reads in channel c.
  const T* row(const ConvGeometry& g, std::int64_t c, std::int64_t i, std::int64_t u) const {
    return data + (c * rows + i * g.stride_rows + u * g.dil_rows) * cols;
  }
};

// Each element of the buffer is written once: padding rows, then each row's
// left padding, data, right padding and slack.
template <class T> PaddedImage<T> pad_image(const ConvGeometry& g, const T* x) {
  thread_local std::vector<T> buffer;
  const std::int64_t rows = g.rows + 2 * g.pad_rows, cols = g.cols + 2 * g.pad_cols + kLanes<T>;
  if (static_cast<std::int64_t>(buffer.size()) < g.in_channels * rows * cols)
    buffer.resize(static_cast<std::size_t>(g.in_channels * rows * cols));
  for (std::int64_t c = 0; c < g.in_channels; ++c)
    for (std::int64_t r = 0; r < rows; ++r) {
      T* out = buffer.data() + (c * rows + r) * cols;
      const std::int64_t source_row = r - g.pad_rows;
      if (source_row < 0 || source_row >= g.rows) {
        std::fill(out, out + cols, T(0));
        continue;
      }
      std::fill(out, out + g.pad_cols, T(0));
      std::memcpy(out + g.pad_cols, x + (c * g.rows + source_row) * g.cols, sizeof(T) * g.cols);
      std::fill(out + g.pad_cols + g.cols, out + cols, T(0));
    }
  return {buffer.data(), rows, cols};
}

// Output row i, JB column vectors from j0 (clipped at the row's end),
// channels [o0, o0 + OB): every tap summed in registers, each input vector
// loaded once for OB channels and each weight once for JB vectors.
template <class T, int OB, int JB>
[[gnu::always_inline]] inline void forward_block(const ConvGeometry& g, const PaddedImage<T>& xp, const T* w_taps, T* y,
                                                 std::int64_t o0, std::int64_t i, std::int64_t j0) {
  const std::int64_t OC = g.out_channels, kh = g.filter_rows, kw = g.filter_cols;
  Vec<T> acc[OB][JB] = {};
  for (std::int64_t c = 0; c < g.in_channels; ++c)
    for (std::int64_t u = 0; u < kh; ++u) {
      const T* row = xp.row(g, c, i, u) + j0;
      const T* w = w_taps + (c * kh + u) * kw * OC + o0;
      for (std::int64_t v = 0; v < kw; ++v) {
        Vec<T> xv[JB];
#pragma GCC unroll 4
        for (int k = 0; k < JB; ++k) xv[k] = load(row + v * g.dil_cols + k * kLanes<T>);
#pragma GCC unroll 8
        for (int b = 0; b < OB; ++b) {
          const T wb = w[v * OC + b];
#pragma GCC unroll 4
          for (int k = 0; k < JB; ++k) acc[b][k] += wb * xv[k];
        }
      }
    }
  for (int b = 0; b < OB; ++b)
    for (int k = 0; k < JB; ++k) {
      const std::int64_t j = j0 + k * kLanes<T>, width = std::min(kLanes<T>, g.out_cols - j);
      if (width > 0) std::memcpy(y + ((o0 + b) * g.out_rows + i) * g.out_cols + j, &acc[b][k], sizeof(T) * width);
    }
}

// Output row i, columns from j0, every channel: blocks of 4 channels, then one by one.
template <class T, int JB>
[[gnu::always_inline]] inline void forward_columns(const ConvGeometry& g, const PaddedImage<T>& xp, const T* w_taps, T* y,
                                                   std::int64_t i, std::int64_t j0) {
  std::int64_t o = 0;
  for (; o + 4 <= g.out_channels; o += 4) forward_block<T, 4, JB>(g, xp, w_taps, y, o, i, j0);
  for (; o < g.out_channels; ++o) forward_block<T, 1, JB>(g, xp, w_taps, y, o, i, j0);
}

template <class T>
[[gnu::always_inline]] inline void forward_body(const ConvGeometry& g, const T* x, const T* w_taps, T* y) {
  const PaddedImage<T> xp = pad_image(g, x);
  constexpr std::int64_t L = kLanes<T>;
  for (std::int64_t i = 0; i < g.out_rows; ++i) {
    std::int64_t j0 = 0;
    for (; j0 + 2 * L < g.out_cols; j0 += 3 * L) forward_columns<T, 3>(g, xp, w_taps, y, i, j0);
    if (j0 + L < g.out_cols) forward_columns<T, 2>(g, xp, w_taps, y, i, j0);
    else if (j0 < g.out_cols) forward_columns<T, 1>(g, xp, w_taps, y, i, j0);
  }
}

// gw[o0 .. o0 + OB, tap] += the sum over output pixels of gy * the input the
// tap reads: full column vectors in registers, the last columns one by one
// (so no input beyond a row's outputs enters a product).
template <class T, int OB>
[[gnu::always_inline]] inline void weight_grad_block(const ConvGeometry& g, const PaddedImage<T>& xp, const T* gy, T* gw,
                                                     std::int64_t o0, std::int64_t c, std::int64_t u, std::int64_t v) {
  const std::int64_t P = g.out_rows * g.out_cols, full = g.out_cols / kLanes<T> * kLanes<T>;
  Vec<T> acc[OB] = {};
  T tail[OB] = {};
  for (std::int64_t i = 0; i < g.out_rows; ++i) {
    const T* row = xp.row(g, c, i, u) + v * g.dil_cols;
    const T* grad = gy + o0 * P + i * g.out_cols;
    for (std::int64_t j = 0; j < full; j += kLanes<T>) {
      const Vec<T> xv = load(row + j);
      #pragma GCC unroll 8
      for (int b = 0; b < OB; ++b) acc[b] += load(grad + b * P + j) * xv;
    }
    for (std::int64_t j = full; j < g.out_cols; ++j)
      #pragma GCC unroll 8
      for (int b = 0; b < OB; ++b) tail[b] += grad[b * P + j] * row[j];
  }
  const std::int64_t tap = (c * g.filter_rows + u) * g.filter_cols + v;
  #pragma GCC unroll 8
  for (int b = 0; b < OB; ++b) {
    T sum = tail[b];
    for (std::int64_t l = 0; l < kLanes<T>; ++l) sum += acc[b][l];
    gw[(o0 + b) * taps(g) + tap] += sum;
  }
}

template <class T>
[[gnu::always_inline]] inline void weight_grad_body(const ConvGeometry& g, const T* x, const T* gy, T* gw) {
  const PaddedImage<T> xp = pad_image(g, x);
  for (std::int64_t c = 0; c < g.in_channels; ++c)
    for (std::int64_t u = 0; u < g.filter_rows; ++u)
      for (std::int64_t v = 0; v < g.filter_cols; ++v) {
        std::int64_t o = 0;
        for (; o + 4 <= g.out_channels; o += 4) weight_grad_block<T, 4>(g, xp, gy, gw, o, c, u, v);
        for (; o < g.out_channels; ++o) weight_grad_block<T, 1>(g, xp, gy, gw, o, c, u, v);
      }
}

// The same loops compiled for AVX2 and for the baseline.
template <class T> __attribute__((target("avx2,fma"))) void forward_avx2(const ConvGeometry& g, const T* x, const T* w, T* y) {
  forward_body(g, x, w, y);
}
template <class T> void forward_baseline(const ConvGeometry& g, const T* x, const T* w, T* y) { forward_body(g, x, w, y); }
template <class T>
__attribute__((target("avx2,fma"))) void weight_grad_avx2(const ConvGeometry& g, const T* x, const T* gy, T* gw) {
  weight_grad_body(g, x, gy, gw);
}
template <class T> void weight_grad_baseline(const ConvGeometry& g, const T* x, const T* gy, T* gw) {
  weight_grad_body(g, x, gy, gw);
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

template <class T> void forward_any(const ConvGeometry& g, const T* x, const T* w, T* y) {
  if (has_avx2()) forward_avx2(g, x, w, y);
  else forward_baseline(g, x, w, y);
}

template <class T> void weight_grad_any(const ConvGeometry& g, const T* x, const T* gy, T* gw) {
  if (has_avx2()) weight_grad_avx2(g, x, gy, gw);
  else weight_grad_baseline(g, x, gy, gw);
}

}  // namespace

bool supports(const ConvGeometry& g) { return g.stride_cols == 1; }

void forward_image(const ConvGeometry& g, const float* x, const float* w, float* y) { forward_any(g, x, w, y); }
void forward_image(const ConvGeometry& g, const double* x, const double* w, double* y) { forward_any(g, x, w, y); }
void add_weight_grad_image(const ConvGeometry& g, const float* x, const float* gy, float* gw) { weight_grad_any(g, x, gy, gw); }
void add_weight_grad_image(const ConvGeometry& g, const double* x, const double* gy, double* gw) {
  weight_grad_any(g, x, gy, gw);
}

}  // namespace graphjit::ir::conv_direct
