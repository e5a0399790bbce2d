// conv2d's compiled kernels: im2col + gemm. A chunk of images is unrolled
// into the matrix `col` (one row per filter tap (c, u, v), one column per
// output pixel of each image in the chunk), so each op is one large BLAS call
// per chunk:
//   forward:       y     = W (out, taps) @ col
//   grad inputs:   gcol  = W^T @ gy, scattered back (col2im, accumulating)
//   grad weights:  gW   += gy @ col^T
// W is the filters as the cross-correlation reads them (flipped for a true
// convolution). Chunks bound the scratch memory (kChunkElements per matrix);
// scratch is kept per thread across calls, since fresh pages cost more than
// the unrolling. Measured against other choices in docs/architecture.md.
#include "frontend/ops/conv_native.hpp"

#include "compiler/exec/thread_pool.hpp"

#include <graphjit/runtime/blas.hpp>

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace graphjit::ir::conv_native {

namespace {

using ops::ConvGeometry;

constexpr std::int64_t kChunkElements = std::int64_t{1} << 21;

std::int64_t taps(const ConvGeometry& g) { return g.in_channels * g.filter_rows * g.filter_cols; }
std::int64_t pixels(const ConvGeometry& g) { return g.out_rows * g.out_cols; }

// Images per chunk: as many as keep `col` and the gemm's other operand under the bound.
std::int64_t chunk_images(const ConvGeometry& g) {
  const std::int64_t per_image = std::max(taps(g), g.out_channels) * pixels(g);
  return std::clamp<std::int64_t>(kChunkElements / std::max<std::int64_t>(per_image, 1), 1, std::max<std::int64_t>(g.batch, 1));
}

// A (rows, cols) matrix of scratch memory, slot `slot` of this thread's two.
template <class T> Tensor scratch(int slot, std::int64_t rows, std::int64_t cols) {
  thread_local std::vector<T> buffers[3];
  std::vector<T>& b = buffers[slot];
  if (static_cast<std::int64_t>(b.size()) < rows * cols) b.resize(static_cast<std::size_t>(rows * cols));
  return Tensor::from_external(b.data(), {rows, cols}, dtype_of<T>());
}

// Output columns j whose tap v reads inside the input: [first, last).
struct Span {
  std::int64_t first, last;
};
Span valid_span(std::int64_t out, std::int64_t stride, std::int64_t offset, std::int64_t length) {
  // input index = j * stride + offset must lie in [0, length)
  const std::int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const std::int64_t last = length - offset <= 0 ? 0 : (length - offset - 1) / stride + 1;
  return {std::min(first, out), std::clamp(last, std::min(first, out), out)};
}

// Runs f(first, last) over pieces of [0, count) images on the thread pool
// (pieces write disjoint columns of col and disjoint images).
template <class F> void over_images(std::int64_t count, std::int64_t work_per_image, F f) {
  auto& pool = exec::ThreadPool::global();
  const int pieces = count * work_per_image < (1 << 15) ? 1 : static_cast<int>(std::min<std::int64_t>(pool.concurrency(), count));
  if (pieces <= 1) return f(std::int64_t{0}, count);
  pool.run(pieces, [&](int k) { f(count * k / pieces, count * (k + 1) / pieces); });
}

// Visits every (tap row of col, output row) pair of images [n0, n0 + count):
// f(segment of col: one output row's pixels, the input row it reads shifted
// by the tap's column offset or null where the tap reads the padding, the
// output columns whose tap lies inside the input).
template <class T, class F>
void for_each_segment(const ConvGeometry& g, T* x, std::int64_t n0, std::int64_t count, T* col, std::int64_t ld, F f) {
  const std::int64_t P = pixels(g), image = g.in_channels * g.rows * g.cols;
  over_images(count, taps(g) * P, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t c = 0; c < g.in_channels; ++c)
      for (std::int64_t u = 0; u < g.filter_rows; ++u)
        for (std::int64_t v = 0; v < g.filter_cols; ++v) {
          T* row = col + ((c * g.filter_rows + u) * g.filter_cols + v) * ld;
          const std::int64_t offset = v * g.dil_cols - g.pad_cols;
          const Span span = valid_span(g.out_cols, g.stride_cols, offset, g.cols);
          for (std::int64_t b = b0; b < b1; ++b)
            for (std::int64_t i = 0; i < g.out_rows; ++i) {
              const std::int64_t r = g.input_row(i, u);
              T* in = (r >= 0 && r < g.rows) ? x + (n0 + b) * image + (c * g.rows + r) * g.cols + offset : nullptr;
              f(row + b * P + i * g.out_cols, in, span);
            }
        }
  });
}

template <class T> void im2col(const ConvGeometry& g, const T* x, std::int64_t n0, std::int64_t count, T* col, std::int64_t ld) {
  const std::int64_t s = g.stride_cols, w = g.out_cols;
  for_each_segment(g, const_cast<T*>(x), n0, count, col, ld, [&](T* dst, const T* in, Span span) {
    if (!in) return void(std::fill(dst, dst + w, T(0)));
    std::fill(dst, dst + span.first, T(0));
    if (s == 1) std::memcpy(dst + span.first, in + span.first, sizeof(T) * (span.last - span.first));
    else
      for (std::int64_t j = span.first; j < span.last; ++j) dst[j] = in[j * s];
    std::fill(dst + span.last, dst + w, T(0));
  });
}

template <class T> void col2im(const ConvGeometry& g, T* x, std::int64_t n0, std::int64_t count, const T* col, std::int64_t ld) {
  const std::int64_t s = g.stride_cols;
  for_each_segment(g, x, n0, count, const_cast<T*>(col), ld, [&](const T* src, T* in, Span span) {
    if (!in) return;
    for (std::int64_t j = span.first; j < span.last; ++j) in[j * s] += src[j];
  });
}

// The filters as the (out, taps) matrix the cross-correlation multiplies by:
// a view when not flipped, else a flipped copy (or the reverse, into `w`).
template <class T> void flip_taps(const ConvGeometry& g, const T* from, T* to) {
  const std::int64_t kh = g.filter_rows, kw = g.filter_cols;
  for (std::int64_t oc = 0; oc < g.out_channels * g.in_channels; ++oc)
    for (std::int64_t u = 0; u < kh; ++u)
      for (std::int64_t v = 0; v < kw; ++v) to[(oc * kh + u) * kw + v] = from[(oc * kh + g.tap_row(u)) * kw + g.tap_col(v)];
}

template <class T> Tensor filter_matrix(const ConvGeometry& g, const Tensor& w) {
  if (!g.flip) return w.reshape({g.out_channels, taps(g)});
  Tensor m = scratch<T>(2, g.out_channels, taps(g));
  flip_taps(g, w.data<T>(), m.data<T>());
  return m;
}

// Moves images [n0, n0 + count) between NCHW `images` (per image (C, P)) and
// the matrix layout (C, count * P), in the direction `to_matrix` says.
template <class T> void regroup(const ConvGeometry& g, std::int64_t channels, T* images, std::int64_t n0, std::int64_t count,
                                T* matrix, std::int64_t ld, bool to_matrix) {
  const std::int64_t P = pixels(g);
  over_images(count, channels * P, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b)
      for (std::int64_t c = 0; c < channels; ++c) {
        T* img = images + ((n0 + b) * channels + c) * P;
        T* mat = matrix + c * ld + b * P;
        if (to_matrix) std::memcpy(mat, img, sizeof(T) * P);
        else std::memcpy(img, mat, sizeof(T) * P);
      }
  });
}

// The inputs as contiguous tensors of the node's dtype.
Tensor operand(const Node& node, const Tensor& t) {
  const Tensor typed = t.dtype() == node.type.dtype ? t : t.astype(node.type.dtype);
  return typed.contiguous();
}

template <class T> void forward(const ConvGeometry& g, const Tensor& x, const Tensor& w, Tensor& y) {
  const std::int64_t B = chunk_images(g), P = pixels(g), K = taps(g);
  const Tensor wm = filter_matrix<T>(g, w);
  Tensor col = scratch<T>(0, K, B * P), prod = scratch<T>(1, g.out_channels, B * P);
  for (std::int64_t n0 = 0; n0 < g.batch; n0 += B) {
    const std::int64_t count = std::min(B, g.batch - n0);
    im2col(g, x.data<T>(), n0, count, col.data<T>(), B * P);
    Tensor c = col.slice(1, 0, count * P), p = prod.slice(1, 0, count * P);
    gemm(false, false, 1.0, wm, c, 0.0, p);
    regroup(g, g.out_channels, y.data<T>(), n0, count, prod.data<T>(), B * P, false);
  }
}

template <class T> void backward_inputs(const ConvGeometry& g, const Tensor& w, const Tensor& gy, Tensor& gx) {
  const std::int64_t B = chunk_images(g), P = pixels(g), K = taps(g);
  const Tensor wm = filter_matrix<T>(g, w);
  Tensor col = scratch<T>(0, K, B * P), grads = scratch<T>(1, g.out_channels, B * P);
  gx.fill(0);
  for (std::int64_t n0 = 0; n0 < g.batch; n0 += B) {
    const std::int64_t count = std::min(B, g.batch - n0);
    regroup(g, g.out_channels, gy.data<T>(), n0, count, grads.data<T>(), B * P, true);
    Tensor c = col.slice(1, 0, count * P), gr = grads.slice(1, 0, count * P);
    gemm(true, false, 1.0, wm, gr, 0.0, c);
    col2im(g, gx.data<T>(), n0, count, col.data<T>(), B * P);
  }
}

template <class T> void backward_weights(const ConvGeometry& g, const Tensor& x, const Tensor& gy, Tensor& gw) {
  const std::int64_t B = chunk_images(g), P = pixels(g), K = taps(g);
  Tensor col = scratch<T>(0, K, B * P), grads = scratch<T>(1, g.out_channels, B * P);
  Tensor gm = g.flip ? scratch<T>(2, g.out_channels, K) : gw.reshape({g.out_channels, K});
  for (std::int64_t n0 = 0; n0 < g.batch; n0 += B) {
    const std::int64_t count = std::min(B, g.batch - n0);
    im2col(g, x.data<T>(), n0, count, col.data<T>(), B * P);
    regroup(g, g.out_channels, gy.data<T>(), n0, count, grads.data<T>(), B * P, true);
    Tensor c = col.slice(1, 0, count * P), gr = grads.slice(1, 0, count * P);
    gemm(false, true, 1.0, gr, c, n0 == 0 ? 0.0 : 1.0, gm);
  }
  if (g.batch == 0) gm.fill(0);
  if (g.flip) flip_taps(g, gm.data<T>(), gw.data<T>());  // flipping twice is the identity
}

// Runs `kernel<T>` for the node's float dtype.
template <class F> void for_float(const Node& node, F f) {
  if (node.type.dtype == float32) f(float{});
  else f(double{});
}

}  // namespace

Tensor conv2d_run(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& out) {
  const ConvGeometry g = ops::conv_geometry(node, inputs, inputs[0].shape(), inputs[1].shape());
  const Tensor x = operand(node, inputs[0]), w = operand(node, inputs[1]);
  Tensor y = out.get({g.batch, g.out_channels, g.out_rows, g.out_cols}, node.type.dtype);
  for_float(node, [&](auto tag) { forward<decltype(tag)>(g, x, w, y); });
  return y;
}

Tensor grad_inputs_run(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& out) {
  const ConvGeometry g = grad_inputs_geometry(node, inputs);
  const Tensor w = operand(node, inputs[0]), gy = operand(node, inputs[1]);
  Tensor gx = out.get({g.batch, g.in_channels, g.rows, g.cols}, node.type.dtype);
  for_float(node, [&](auto tag) { backward_inputs<decltype(tag)>(g, w, gy, gx); });
  return gx;
}

Tensor grad_weights_run(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& out) {
  const ConvGeometry g = grad_weights_geometry(node, inputs);
  const Tensor x = operand(node, inputs[0]), gy = operand(node, inputs[1]);
  Tensor gw = out.get({g.out_channels, g.in_channels, g.filter_rows, g.filter_cols}, node.type.dtype);
  for_float(node, [&](auto tag) { backward_weights<decltype(tag)>(g, x, gy, gw); });
  return gw;
}

}  // namespace graphjit::ir::conv_native
