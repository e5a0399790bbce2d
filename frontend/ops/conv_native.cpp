// conv2d's compiled kernels: im2col + gemm, image by image. Each image is
// unrolled into the matrix `col` (one row per filter tap (c, u, v), one column
// per output pixel), small enough to stay in the core's L2 cache, and each op
// is one BLAS call per image, reading and writing the NCHW images in place:
//   forward:       y[n]  = W (out, taps) @ col
//   grad inputs:   gcol  = W^T @ gy[n], scattered back into gx[n] (col2im)
//   grad weights:  gW   += gy[n] @ col^T
// W is the filters as the cross-correlation reads them (flipped for a true
// convolution). The batch is split over the kernel thread pool, each thread
// making single-threaded gemms on its own images, so the unrolling runs in
// parallel too. A pointwise filter (1x1, unit stride, no pad) skips the
// unrolling. Measured against other choices in docs/architecture.md.
#include "frontend/ops/conv_native.hpp"

#include "compiler/exec/thread_pool.hpp"
#include "frontend/ops/conv_direct.hpp"
#include "frontend/ops/pooled_gemm.hpp"

#include <graphjit/conv_algorithm.hpp>

#include <graphjit/runtime/blas.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>

namespace graphjit::ir::conv_native {

namespace {

using ops::ConvGeometry;

std::int64_t taps(const ConvGeometry& g) { return g.in_channels * g.filter_rows * g.filter_cols; }
std::int64_t pixels(const ConvGeometry& g) { return g.out_rows * g.out_cols; }

// A (rows, cols) matrix of this thread's scratch memory (Slot 0: unrolled
// images; 1: a group's gemm operand or result), kept across calls, since fresh
// pages cost more than the unrolling.
template <class T, int Slot = 0> Tensor scratch(std::int64_t rows, std::int64_t cols) {
  thread_local std::vector<T> buffer;
  if (static_cast<std::int64_t>(buffer.size()) < rows * cols) buffer.resize(static_cast<std::size_t>(rows * cols));
  return Tensor::from_external(buffer.data(), {rows, cols}, dtype_of<T>());
}

// Pointers to image n of an NCHW tensor.
template <class T> T* image_data(const Tensor& t, std::int64_t n) {
  return const_cast<T*>(t.data<T>()) + n * t.shape(1) * t.shape(2) * t.shape(3);
}

// Image n of an NCHW tensor as the (channels, pixels) matrix it is in memory.
template <class T> Tensor image_matrix(const Tensor& t, std::int64_t n) {
  return Tensor::from_external(image_data<T>(t, n), {t.shape(1), t.shape(2) * t.shape(3)}, dtype_of<T>());
}

// A 1x1 filter with unit stride and no padding reads each image as it is:
// its unrolled matrix is the image itself, so no im2col/col2im is needed.
bool pointwise(const ConvGeometry& g) {
  return g.filter_rows == 1 && g.filter_cols == 1 && g.stride_rows == 1 && g.stride_cols == 1 && g.pad_rows == 0 &&
         g.pad_cols == 0 && g.out_rows == g.rows && g.out_cols == g.cols;
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

// The number of pieces the batch is cut into: one per pool thread, fewer for small work.
int image_pieces(const ConvGeometry& g) {
  const std::int64_t work = g.batch * taps(g) * pixels(g) * g.out_channels;
  if (work < (std::int64_t{1} << 18)) return 1;
  return static_cast<int>(std::min<std::int64_t>(exec::ThreadPool::global().concurrency(), g.batch));
}

// Runs f(piece, first, last) over `pieces` pieces of the batch's images, in
// parallel on the kernel thread pool (pieces touch disjoint images).
template <class F> void over_images(const ConvGeometry& g, int pieces, F f) {
  if (pieces <= 1) return f(0, std::int64_t{0}, g.batch);
  SingleThreadedBlas one_thread;
  exec::ThreadPool::global().run(pieces, [&](int k) { f(k, g.batch * k / pieces, g.batch * (k + 1) / pieces); });
}

// Visits every (tap row of col, output row) pair of image n: f(segment of
// col: one output row's pixels, the input row it reads shifted by the tap's
// column offset or null where the tap reads the padding, the output columns
// whose tap lies inside the input). col is the image's (taps, pixels) block
// of a matrix whose rows are `ld` apart (pixels, or more for several images side by side).
template <class T, class F>
void for_each_segment(const ConvGeometry& g, T* x, std::int64_t n, T* col, std::int64_t ld, F f) {
  const std::int64_t image = g.in_channels * g.rows * g.cols;
  for (std::int64_t c = 0; c < g.in_channels; ++c)
    for (std::int64_t u = 0; u < g.filter_rows; ++u)
      for (std::int64_t v = 0; v < g.filter_cols; ++v) {
        T* row = col + ((c * g.filter_rows + u) * g.filter_cols + v) * ld;
        const std::int64_t offset = v * g.dil_cols - g.pad_cols;
        const Span span = valid_span(g.out_cols, g.stride_cols, offset, g.cols);
        for (std::int64_t i = 0; i < g.out_rows; ++i) {
          const std::int64_t r = g.input_row(i, u);
          T* in = (r >= 0 && r < g.rows) ? x + n * image + (c * g.rows + r) * g.cols + offset : nullptr;
          f(row + i * g.out_cols, in, span);
        }
      }
}

template <class T> void im2col(const ConvGeometry& g, const T* x, std::int64_t n, T* col, std::int64_t ld) {
  const std::int64_t s = g.stride_cols, w = g.out_cols;
  for_each_segment(g, const_cast<T*>(x), n, col, ld, [&](T* dst, const T* in, Span span) {
    if (!in) return void(std::fill(dst, dst + w, T(0)));
    std::fill(dst, dst + span.first, T(0));
    if (s == 1) std::memcpy(dst + span.first, in + span.first, sizeof(T) * (span.last - span.first));
    else
      for (std::int64_t j = span.first; j < span.last; ++j) dst[j] = in[j * s];
    std::fill(dst + span.last, dst + w, T(0));
  });
}

// Adds the unrolled gradient col back into image n of x (which starts zeroed).
template <class T> void col2im(const ConvGeometry& g, T* x, std::int64_t n, const T* col, std::int64_t ld) {
  const std::int64_t s = g.stride_cols;
  for_each_segment(g, x, n, const_cast<T*>(col), ld, [&](const T* src, T* in, Span span) {
    if (!in) return;
    for (std::int64_t j = span.first; j < span.last; ++j) in[j * s] += src[j];
  });
}

// How many images one gemm covers. One image of a small output (LeNet's
// conv2: 8x8 pixels) makes gemms too narrow for OpenBLAS's kernels, which
// then spend their time packing; images side by side widen them to >= 256
// columns, as long as the unrolled group stays within half the L2 cache.
template <class T> std::int64_t images_per_gemm(const ConvGeometry& g) {
  if (pointwise(g)) return 1;
  constexpr std::int64_t kColumns = 256, kColBytes = std::int64_t{512} << 10;
  const std::int64_t wide = (kColumns + pixels(g) - 1) / pixels(g);
  const std::int64_t fits = kColBytes / static_cast<std::int64_t>(sizeof(T)) / std::max<std::int64_t>(1, taps(g) * pixels(g));
  return std::max<std::int64_t>(1, std::min(wide, fits));
}

// Images [n, n + count) of x unrolled side by side into this thread's scratch
// ((taps, count * pixels): image k's columns start at k * pixels), or x's own
// image when pointwise (count is then 1).
template <class T> Tensor unrolled(const ConvGeometry& g, const Tensor& x, std::int64_t n, std::int64_t count = 1) {
  if (pointwise(g)) return image_matrix<T>(x, n);
  const std::int64_t P = pixels(g);
  Tensor col = scratch<T>(taps(g), count * P);
  for (std::int64_t k = 0; k < count; ++k) im2col(g, x.data<T>(), n + k, col.data<T>() + k * P, count * P);
  return col;
}

// Images [n, n + count) of an NCHW tensor as one (channels, count * pixels)
// matrix, image k's pixels in columns [k * pixels, (k + 1) * pixels): a view
// of the image itself when count is 1, else gathered into this thread's scratch.
template <class T> Tensor side_by_side(const Tensor& t, std::int64_t n, std::int64_t count) {
  if (count == 1) return image_matrix<T>(t, n);
  const std::int64_t C = t.shape(1), P = t.shape(2) * t.shape(3);
  Tensor m = scratch<T, 1>(C, count * P);
  for (std::int64_t k = 0; k < count; ++k)
    for (std::int64_t c = 0; c < C; ++c)
      std::memcpy(m.data<T>() + c * count * P + k * P, image_data<T>(t, n + k) + c * P, sizeof(T) * P);
  return m;
}

// The reverse of side_by_side: the matrix's column blocks back into images [n, n + count).
template <class T> void scatter_images(const Tensor& m, const Tensor& t, std::int64_t n, std::int64_t count) {
  const std::int64_t C = t.shape(1), P = t.shape(2) * t.shape(3);
  for (std::int64_t k = 0; k < count; ++k)
    for (std::int64_t c = 0; c < C; ++c)
      std::memcpy(image_data<T>(t, n + k) + c * P, m.data<T>() + c * count * P + k * P, sizeof(T) * P);
}

// Runs f(n, count) over images [first, last) in groups of at most `group`.
template <class F> void over_groups(std::int64_t first, std::int64_t last, std::int64_t group, F f) {
  for (std::int64_t n = first; n < last; n += group) f(n, std::min(group, last - n));
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
  Tensor m = Tensor::empty({g.out_channels, taps(g)}, dtype_of<T>());
  flip_taps(g, w.data<T>(), m.data<T>());
  return m;
}

// The inputs as contiguous tensors of the node's dtype.
Tensor operand(const Node& node, const Tensor& t) {
  const Tensor typed = t.dtype() == node.type.dtype ? t : t.astype(node.type.dtype);
  return typed.contiguous();
}

using tensor::nnet::ConvAlgorithm;
std::atomic<ConvAlgorithm> chosen_algorithm{ConvAlgorithm::by_shape};

// Which kernel the by-shape choice gives, from the measurements in
// docs/architecture.md (bench_conv_algorithms): the direct filter gradient
// beats im2col + gemm when there are few taps and every output row is whole
// vectors (LeNet's conv1: 25 taps, 24 columns); the direct forward was never
// clearly faster than the gemm, so the forward keeps the gemm; the input
// gradient has no direct form.
enum class Pass { forward, filter_gradient };
constexpr std::int64_t kDirectMaxTaps = 64;

template <class T> bool use_direct(const ConvGeometry& g, Pass pass) {
  if (!conv_direct::supports(g)) return false;
  switch (chosen_algorithm.load(std::memory_order_relaxed)) {
    case ConvAlgorithm::gemm: return false;
    case ConvAlgorithm::direct: return true;
    case ConvAlgorithm::by_shape: break;
  }
  return pass == Pass::filter_gradient && taps(g) <= kDirectMaxTaps && g.out_cols % conv_direct::lanes<T>() == 0;
}

template <class T> void forward_direct(const ConvGeometry& g, const Tensor& x, const Tensor& w, Tensor& y) {
  const Tensor w_taps = filter_matrix<T>(g, w).transpose().contiguous();
  over_images(g, image_pieces(g), [&](int, std::int64_t first, std::int64_t last) {
    for (std::int64_t n = first; n < last; ++n)
      conv_direct::forward_image(g, image_data<T>(x, n), w_taps.data<T>(), image_data<T>(y, n));
  });
}

// y[n] = W @ col(x[n]), a group of images side by side at a time.
template <class T> void forward(const ConvGeometry& g, const Tensor& x, const Tensor& w, Tensor& y) {
  if (use_direct<T>(g, Pass::forward)) return forward_direct<T>(g, x, w, y);
  const Tensor wm = filter_matrix<T>(g, w);
  const std::int64_t group = images_per_gemm<T>(g);
  over_images(g, image_pieces(g), [&](int, std::int64_t first, std::int64_t last) {
    over_groups(first, last, group, [&](std::int64_t n, std::int64_t count) {
      Tensor yn = count == 1 ? image_matrix<T>(y, n) : scratch<T, 1>(g.out_channels, count * pixels(g));
      gemm(false, false, 1.0, wm, unrolled<T>(g, x, n, count), 0.0, yn);
      if (count > 1) scatter_images<T>(yn, y, n, count);
    });
  });
}

// gx[n] = col2im(W^T @ gy[n]), a group of images side by side at a time
// (straight into gx[n] when pointwise).
template <class T> void backward_inputs(const ConvGeometry& g, const Tensor& w, const Tensor& gy, Tensor& gx) {
  const Tensor wm = filter_matrix<T>(g, w);
  const std::int64_t group = images_per_gemm<T>(g), P = pixels(g);
  over_images(g, image_pieces(g), [&](int, std::int64_t first, std::int64_t last) {
    over_groups(first, last, group, [&](std::int64_t n, std::int64_t count) {
      if (pointwise(g)) {
        Tensor gxn = image_matrix<T>(gx, n);
        return gemm(true, false, 1.0, wm, image_matrix<T>(gy, n), 0.0, gxn);
      }
      Tensor col = scratch<T>(taps(g), count * P);
      gemm(true, false, 1.0, wm, side_by_side<T>(gy, n, count), 0.0, col);
      for (std::int64_t k = 0; k < count; ++k) {
        image_matrix<T>(gx, n + k).fill(0);
        col2im(g, gx.data<T>(), n + k, col.data<T>() + k * P, count * P);
      }
    });
  });
}

// gW = sum over n of gy[n] @ col(x[n])^T: each piece sums its images into its
// own partial (the first piece straight into the result), then the partials add up.
template <class T> void backward_weights(const ConvGeometry& g, const Tensor& x, const Tensor& gy, Tensor& gw) {
  const std::int64_t K = taps(g), OC = g.out_channels;
  Tensor gm = g.flip ? Tensor::empty({OC, K}, dtype_of<T>()) : gw.reshape({OC, K});
  const int pieces = image_pieces(g);
  std::vector<Tensor> partials(static_cast<std::size_t>(pieces), gm);
  for (int k = 1; k < pieces; ++k) partials[static_cast<std::size_t>(k)] = Tensor::empty({OC, K}, dtype_of<T>());
  const bool direct = use_direct<T>(g, Pass::filter_gradient);
  const std::int64_t group = direct ? 1 : images_per_gemm<T>(g);
  over_images(g, pieces, [&](int k, std::int64_t first, std::int64_t last) {
    Tensor& sum = partials[static_cast<std::size_t>(k)];
    if (first == last || direct) sum.fill(0);
    over_groups(first, last, group, [&](std::int64_t n, std::int64_t count) {
      if (direct) conv_direct::add_weight_grad_image(g, image_data<T>(x, n), image_data<T>(gy, n), sum.data<T>());
      else gemm(false, true, 1.0, side_by_side<T>(gy, n, count), unrolled<T>(g, x, n, count), n == first ? 0.0 : 1.0, sum);
    });
  });
  T* total = gm.data<T>();
  for (int k = 1; k < pieces; ++k) {
    const T* part = partials[static_cast<std::size_t>(k)].data<T>();
    for (std::int64_t i = 0; i < OC * K; ++i) total[i] += part[i];
  }
  if (g.flip) flip_taps(g, total, gw.data<T>());  // flipping twice is the identity
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

namespace graphjit::tensor::nnet {

void set_conv_algorithm(ConvAlgorithm algorithm) { ir::conv_native::chosen_algorithm.store(algorithm); }
ConvAlgorithm conv_algorithm() { return ir::conv_native::chosen_algorithm.load(); }

}  // namespace graphjit::tensor::nnet
