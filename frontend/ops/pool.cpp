// Pooling over the last two dims (theano.tensor.signal.pool.pool_2d) and
// its gradients, Theano's MaxPoolGrad and AveragePoolGrad.
//
// Semantics are those of Theano's C implementation (the one its users ran):
// a window starts every `stride` rows of the zero-padded image and covers
// `ws` rows of it, but only the part inside the unpadded image is read, so
// max pooling never sees the padding. average_inc_pad divides by the window's
// area when ignore_border (the padding counted as zeros), every other average
// by the number of elements read. The max-pool gradient goes to every element
// of a window equal to its max: tied elements all receive it.
//
// attrs.ints: {window rows, window cols, stride rows, stride cols, pad rows,
// pad cols, ignore_border, mode}. The reference kernels are loops in double
// over get(); the native ones are typed loops split over the thread pool.
#include "compiler/exec/thread_pool.hpp"
#include "frontend/ops/op_support.hpp"

#include <graphjit/conv.hpp>
#include <graphjit/tensor.hpp>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace graphjit::ir {

namespace {

using tensor::signal::PoolMode;

// --- geometry -------------------------------------------------------------------------

struct PoolGeometry {
  std::int64_t planes, rows, cols, out_rows, out_cols;
  std::int64_t ws[2], stride[2], pad[2];
  bool ignore_border;
  PoolMode mode;

  // The rows [first, last) of the unpadded input that output row i reads (axis 0), or columns (axis 1).
  std::pair<std::int64_t, std::int64_t> window(int axis, std::int64_t i) const {
    const std::int64_t length = axis == 0 ? rows : cols;
    const std::int64_t start = i * stride[axis];
    const std::int64_t first = std::max(start, pad[axis]) - pad[axis];
    const std::int64_t last = std::min(start + ws[axis], length + pad[axis]) - pad[axis];
    return {first, std::min(last, length)};
  }
  // What the window's sum is divided by.
  double divisor(std::int64_t window_rows, std::int64_t window_cols) const {
    if (mode == PoolMode::sum) return 1;
    if (mode == PoolMode::average_inc_pad && ignore_border) return static_cast<double>(ws[0] * ws[1]);
    return static_cast<double>(window_rows * window_cols);
  }
};

// Theano's Pool.out_shape along one axis, for a padded length.
std::int64_t pooled_length(std::int64_t padded, std::int64_t ws, std::int64_t stride, bool ignore_border) {
  if (ignore_border) return std::max<std::int64_t>((padded - ws) / stride + 1, 0);
  if (stride >= ws) return (padded - 1) / stride + 1;
  return std::max<std::int64_t>(0, (padded - 1 - ws + stride) / stride) + 1;
}

PoolGeometry pool_geometry(const Node& node, const Shape& shape) {
  const auto& a = node.attrs.ints;
  PoolGeometry g{};
  const int nd = static_cast<int>(shape.size());
  g.planes = 1;
  for (int d = 0; d < nd - 2; ++d) g.planes *= shape[d];
  g.rows = shape[nd - 2], g.cols = shape[nd - 1];
  for (int k = 0; k < 2; ++k) g.ws[k] = a[k], g.stride[k] = a[2 + k], g.pad[k] = a[4 + k];
  g.ignore_border = a[6] != 0;
  g.mode = static_cast<PoolMode>(a[7]);
  g.out_rows = g.rows == 0 ? 0 : pooled_length(g.rows + 2 * g.pad[0], g.ws[0], g.stride[0], g.ignore_border);
  g.out_cols = g.cols == 0 ? 0 : pooled_length(g.cols + 2 * g.pad[1], g.ws[1], g.stride[1], g.ignore_border);
  return g;
}

Shape pooled_shape(const Shape& input, const PoolGeometry& g) {
  Shape out = input;
  out[out.size() - 2] = g.out_rows;
  out[out.size() - 1] = g.out_cols;
  return out;
}

const char* mode_name(PoolMode m) {
  switch (m) {
    case PoolMode::max: return "max";
    case PoolMode::sum: return "sum";
    case PoolMode::average_inc_pad: return "average_inc_pad";
    case PoolMode::average_exc_pad: return "average_exc_pad";
  }
  return "?";
}

// --- types and shapes ---------------------------------------------------------------------

void require_pool_attrs(const Node& node) {
  const auto& a = node.attrs.ints;
  if (a.size() != 8 || a[7] < 0 || a[7] > 3) ops::type_error(node, "the pooling attributes are malformed");
  for (int k = 0; k < 2; ++k) {
    if (a[k] < 1 || a[2 + k] < 1)
      ops::type_error(node, fmt::format("the window ({}, {}) and stride ({}, {}) must be at least 1", a[0], a[1], a[2], a[3]));
    if (a[4 + k] < 0 || (a[4 + k] > 0 && a[4 + k] >= a[k]))
      ops::type_error(node, fmt::format("the pad ({}, {}) must be non-negative and smaller than the window ({}, {})",
                                        a[4], a[5], a[0], a[1]));
  }
  if (!a[6] && (a[4] || a[5]))
    ops::type_error(node, fmt::format("pad ({}, {}) needs ignore_border=true, as in Theano", a[4], a[5]));
}

Type pooled_type(const Node& node, const Type& x) {
  if (x.ndim() < 2) ops::type_error(node, fmt::format("the input must have at least 2 dims to pool, not {}", x.str()));
  if (!is_float(x.dtype))
    ops::type_error(node, fmt::format("the input must be float32 or float64, not {}; cast it first", dtype_name(x.dtype)));
  require_pool_attrs(node);
  Type out = x;
  out.broadcastable[x.ndim() - 2] = out.broadcastable[x.ndim() - 1] = false;
  return out;
}

Type pool_type(const Node& node) { return pooled_type(node, node.inputs[0]->type); }

// The gradients have the input's type; the other operands must match the pooled type.
Type pool_grad_type(const Node& node) {
  const Type& x = node.inputs[0]->type;
  const Type pooled = pooled_type(node, x);
  for (std::size_t i = 1; i < node.inputs.size(); ++i)
    if (node.inputs[i]->type.ndim() != x.ndim() || node.inputs[i]->type.dtype != x.dtype)
      ops::type_error(node, fmt::format("operand {} must be {} like the pooled input", i, pooled.str()));
  return Type{x.dtype, std::vector<bool>(x.ndim(), false)};
}

Shape pool_shape(const Node& node, const std::vector<Tensor>& inputs) {
  return pooled_shape(inputs[0].shape(), pool_geometry(node, inputs[0].shape()));
}

// The gradient of the max-pool gradient: (input, pooled, input-shaped), pooled type.
Type max_pool_grad_grad_type(const Node& node) {
  pool_grad_type(node);
  return pool_type(node);
}

// Operand i must have shape `want`; the error names the operand and what pool_2d makes.
void require_operand_shape(const Node& node, const std::vector<Tensor>& inputs, std::size_t i, const Shape& want) {
  if (inputs[i].shape() != want)
    ops::shape_error(node, inputs,
                     fmt::format("operand {} has shape ({}) but needs ({}) for pool_2d ({}) of the input ({})", i,
                                 fmt::join(inputs[i].shape(), ", "), fmt::join(want, ", "),
                                 mode_name(pool_geometry(node, inputs[0].shape()).mode), fmt::join(inputs[0].shape(), ", ")));
}

Shape max_pool_grad_grad_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape pooled = pool_shape(node, inputs);
  require_operand_shape(node, inputs, 1, pooled);
  require_operand_shape(node, inputs, 2, inputs[0].shape());
  return pooled;
}

Shape pool_grad_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape want = pool_shape(node, inputs);
  for (std::size_t i = 1; i < inputs.size(); ++i) require_operand_shape(node, inputs, i, want);
  return inputs[0].shape();
}

// --- reference kernels: windows read with get(), in double ------------------------------------

// Calls f(plane index vector prefix, i, j, rows window, cols window) for every output element.
template <class F> void for_each_window(const Tensor& x, const PoolGeometry& g, F f) {
  const Tensor planes = x.reshape({g.planes, g.rows, g.cols});
  for (std::int64_t p = 0; p < g.planes; ++p)
    for (std::int64_t i = 0; i < g.out_rows; ++i)
      for (std::int64_t j = 0; j < g.out_cols; ++j) f(p, i, j, g.window(0, i), g.window(1, j));
}

Tensor pool_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const PoolGeometry g = pool_geometry(node, inputs[0].shape());
  const Tensor x = inputs[0].astype(float64).reshape({g.planes, g.rows, g.cols});
  Tensor out = Tensor::zeros({g.planes, g.out_rows, g.out_cols}, float64);
  for_each_window(x, g, [&](auto p, auto i, auto j, auto rw, auto cw) {
    double acc = g.mode == PoolMode::max ? x.get({p, rw.first, cw.first}) : 0.0;
    for (std::int64_t r = rw.first; r < rw.second; ++r)
      for (std::int64_t c = cw.first; c < cw.second; ++c)
        acc = g.mode == PoolMode::max ? std::max(acc, x.get({p, r, c})) : acc + x.get({p, r, c});
    out.set({p, i, j}, g.mode == PoolMode::max ? acc : acc / g.divisor(rw.second - rw.first, cw.second - cw.first));
  });
  return out.astype(node.type.dtype).reshape(pooled_shape(inputs[0].shape(), g));
}

// Calls f(p, i, j, r, c) for every element (p, r, c) of x tied for the max of
// window (p, i, j), whose pooled value y holds; x and y as (planes, rows, cols).
template <class F> void for_each_window_max(const Tensor& x, const Tensor& y, const PoolGeometry& g, F f) {
  for_each_window(x, g, [&](auto p, auto i, auto j, auto rw, auto cw) {
    for (std::int64_t r = rw.first; r < rw.second; ++r)
      for (std::int64_t c = cw.first; c < cw.second; ++c)
        if (x.get({p, r, c}) == y.get({p, i, j})) f(p, i, j, r, c);
  });
}

Tensor max_pool_grad_reference(const Node& node, const std::vector<Tensor>& inputs) {
  pool_grad_shape(node, inputs);
  const PoolGeometry g = pool_geometry(node, inputs[0].shape());
  const Tensor x = inputs[0].astype(float64).reshape({g.planes, g.rows, g.cols});
  const Tensor y = inputs[1].astype(float64).reshape({g.planes, g.out_rows, g.out_cols});
  const Tensor gy = inputs[2].astype(float64).reshape({g.planes, g.out_rows, g.out_cols});
  Tensor gx = Tensor::zeros({g.planes, g.rows, g.cols}, float64);
  for_each_window_max(x, y, g, [&](auto p, auto i, auto j, auto r, auto c) {
    gx.set({p, r, c}, gx.get({p, r, c}) + gy.get({p, i, j}));
  });
  return gx.astype(node.type.dtype).reshape(inputs[0].shape());
}

// z[window] = the sum of ggx over the window's elements equal to its max
// (Theano's DownsampleFactorMaxGradGrad: tied elements all contribute).
Tensor max_pool_grad_grad_reference(const Node& node, const std::vector<Tensor>& inputs) {
  max_pool_grad_grad_shape(node, inputs);
  const PoolGeometry g = pool_geometry(node, inputs[0].shape());
  const Tensor x = inputs[0].astype(float64).reshape({g.planes, g.rows, g.cols});
  const Tensor y = inputs[1].astype(float64).reshape({g.planes, g.out_rows, g.out_cols});
  const Tensor ggx = inputs[2].astype(float64).reshape({g.planes, g.rows, g.cols});
  Tensor z = Tensor::zeros({g.planes, g.out_rows, g.out_cols}, float64);
  for_each_window_max(x, y, g, [&](auto p, auto i, auto j, auto r, auto c) {
    z.set({p, i, j}, z.get({p, i, j}) + ggx.get({p, r, c}));
  });
  return z.astype(node.type.dtype).reshape(pooled_shape(inputs[0].shape(), g));
}

Tensor average_pool_grad_reference(const Node& node, const std::vector<Tensor>& inputs) {
  pool_grad_shape(node, inputs);
  const PoolGeometry g = pool_geometry(node, inputs[0].shape());
  const Tensor gy = inputs[1].astype(float64).reshape({g.planes, g.out_rows, g.out_cols});
  Tensor gx = Tensor::zeros({g.planes, g.rows, g.cols}, float64);
  for_each_window(gx, g, [&](auto p, auto i, auto j, auto rw, auto cw) {
    const double share = gy.get({p, i, j}) / g.divisor(rw.second - rw.first, cw.second - cw.first);
    for (std::int64_t r = rw.first; r < rw.second; ++r)
      for (std::int64_t c = cw.first; c < cw.second; ++c) gx.set({p, r, c}, gx.get({p, r, c}) + share);
  });
  return gx.astype(node.type.dtype).reshape(inputs[0].shape());
}

// --- native kernels: typed loops over contiguous planes, split over the thread pool ------------

// Runs f(first plane, last plane) over pieces of the planes, in parallel when worth it.
template <class F> void over_planes(const PoolGeometry& g, F f) {
  auto& pool = exec::ThreadPool::global();
  const std::int64_t work = g.planes * g.rows * g.cols;
  const int pieces = work < (1 << 16) ? 1 : static_cast<int>(std::min<std::int64_t>(pool.concurrency(), g.planes));
  if (pieces <= 1) return f(std::int64_t{0}, g.planes);
  pool.run(pieces, [&](int k) { f(g.planes * k / pieces, g.planes * (k + 1) / pieces); });
}

// Every output row's and column's window, computed once per call rather than per element.
struct Windows {
  std::vector<std::pair<std::int64_t, std::int64_t>> rows, cols;
  explicit Windows(const PoolGeometry& g) {
    for (std::int64_t i = 0; i < g.out_rows; ++i) rows.push_back(g.window(0, i));
    for (std::int64_t j = 0; j < g.out_cols; ++j) cols.push_back(g.window(1, j));
  }
};

// Max (IsMax) or the sum over the window divided by the divisor, for planes [p0, p1).
template <class T, bool IsMax>
void pool_planes(const PoolGeometry& g, const Windows& w, const T* x, T* y, std::int64_t p0, std::int64_t p1) {
  for (std::int64_t p = p0; p < p1; ++p) {
    const T* in = x + p * g.rows * g.cols;
    T* out = y + p * g.out_rows * g.out_cols;
    for (std::int64_t i = 0; i < g.out_rows; ++i) {
      const auto [r0, r1] = w.rows[i];
      for (std::int64_t j = 0; j < g.out_cols; ++j) {
        const auto [c0, c1] = w.cols[j];
        T acc = IsMax ? in[r0 * g.cols + c0] : T(0);
        for (std::int64_t r = r0; r < r1; ++r)
          for (std::int64_t c = c0; c < c1; ++c) {
            const T v = in[r * g.cols + c];
            acc = IsMax ? (v > acc ? v : acc) : acc + v;
          }
        out[i * g.out_cols + j] = IsMax ? acc : static_cast<T>(acc / g.divisor(r1 - r0, c1 - c0));
      }
    }
  }
}

// gx for planes [p0, p1): each window's output gradient to the elements that
// equal its max (IsMax, `y` the pooled values) or spread by the divisor.
template <class T, bool IsMax>
void unpool_planes(const PoolGeometry& g, const Windows& w, const T* x, const T* y, const T* gy, T* gx, std::int64_t p0,
                   std::int64_t p1) {
  for (std::int64_t p = p0; p < p1; ++p) {
    const std::int64_t in_at = p * g.rows * g.cols, out_at = p * g.out_rows * g.out_cols;
    std::fill(gx + in_at, gx + in_at + g.rows * g.cols, T(0));
    for (std::int64_t i = 0; i < g.out_rows; ++i) {
      const auto [r0, r1] = w.rows[i];
      for (std::int64_t j = 0; j < g.out_cols; ++j) {
        const auto [c0, c1] = w.cols[j];
        const std::int64_t o = out_at + i * g.out_cols + j;
        const T share = IsMax ? gy[o] : static_cast<T>(gy[o] / g.divisor(r1 - r0, c1 - c0));
        for (std::int64_t r = r0; r < r1; ++r)
          for (std::int64_t c = c0; c < c1; ++c) {
            const std::int64_t at = in_at + r * g.cols + c;
            if (!IsMax || x[at] == y[o]) gx[at] += share;
          }
      }
    }
  }
}

// Windows that tile the input without overlap or padding (stride == window,
// as LeNet's 2x2 pools): each input element is in at most one window, so the
// loops run row by row over whole windows, without per-window bounds.
bool tiling(const PoolGeometry& g) {
  return g.stride[0] == g.ws[0] && g.stride[1] == g.ws[1] && g.pad[0] == 0 && g.pad[1] == 0 &&
         g.out_rows * g.ws[0] <= g.rows && g.out_cols * g.ws[1] <= g.cols;
}

// Max pooling of tiling windows over planes [p0, p1); the same comparisons in
// the same order as pool_planes, so NaNs and ties come out the same.
template <class T> void max_pool_tiles(const PoolGeometry& g, const T* x, T* y, std::int64_t p0, std::int64_t p1) {
  const std::int64_t wr = g.ws[0], wc = g.ws[1];
  for (std::int64_t p = p0; p < p1; ++p)
    for (std::int64_t i = 0; i < g.out_rows; ++i) {
      T* out = y + (p * g.out_rows + i) * g.out_cols;
      const T* in = x + (p * g.rows + i * wr) * g.cols;
      for (std::int64_t j = 0; j < g.out_cols; ++j) out[j] = in[j * wc];
      for (std::int64_t r = 0; r < wr; ++r)
        for (std::int64_t c = 0; c < wc; ++c)
          for (std::int64_t j = 0; j < g.out_cols; ++j) {
            const T v = in[r * g.cols + j * wc + c];
            out[j] = v > out[j] ? v : out[j];
          }
    }
}

// `value` when `keep`, else +0, without a branch: which elements hold their
// window's max is data-dependent, and mispredicted branches cost more than the loop.
template <class T> T kept_or_zero(bool keep, T value) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  Bits bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits &= Bits{0} - static_cast<Bits>(keep);
  std::memcpy(&value, &bits, sizeof bits);
  return value;
}

// The max-pool gradient of tiling windows over planes [p0, p1): each element
// gets its window's gradient when it equals the window's max, else 0 (also
// the rows and columns no window covers), written once without a fill.
template <class T>
void max_unpool_tiles(const PoolGeometry& g, const T* x, const T* y, const T* gy, T* gx, std::int64_t p0, std::int64_t p1) {
  const std::int64_t wr = g.ws[0], wc = g.ws[1], covered = g.out_cols * wc;
  for (std::int64_t p = p0; p < p1; ++p) {
    for (std::int64_t r = 0; r < g.rows; ++r) {
      const std::int64_t at = (p * g.rows + r) * g.cols, i = r / wr;
      if (i >= g.out_rows) {
        std::fill(gx + at, gx + at + g.cols, T(0));
        continue;
      }
      const T* top = y + (p * g.out_rows + i) * g.out_cols;
      const T* grad = gy + (p * g.out_rows + i) * g.out_cols;
      for (std::int64_t j = 0; j < g.out_cols; ++j)
        for (std::int64_t c = j * wc; c < (j + 1) * wc; ++c) gx[at + c] = kept_or_zero(x[at + c] == top[j], grad[j]);
      std::fill(gx + at + covered, gx + at + g.cols, T(0));
    }
  }
}

template <class F> void for_float(DType dtype, F f) {
  if (dtype == float32) f(float{});
  else f(double{});
}

Tensor pool_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const PoolGeometry g = pool_geometry(node, inputs[0].shape());
  const Tensor x = inputs[0].contiguous();
  Tensor y = memory.get(pooled_shape(x.shape(), g), node.type.dtype);
  for_float(node.type.dtype, [&](auto tag) {
    using T = decltype(tag);
    const Windows w(g);
    over_planes(g, [&](std::int64_t p0, std::int64_t p1) {
      if (g.mode == PoolMode::max && tiling(g)) max_pool_tiles<T>(g, x.data<T>(), y.data<T>(), p0, p1);
      else if (g.mode == PoolMode::max) pool_planes<T, true>(g, w, x.data<T>(), y.data<T>(), p0, p1);
      else pool_planes<T, false>(g, w, x.data<T>(), y.data<T>(), p0, p1);
    });
  });
  return y;
}

// The max-pool gradient's gradient for planes [p0, p1), as its reference.
template <class T>
void max_pool_grad_grad_planes(const PoolGeometry& g, const Windows& w, const T* x, const T* y, const T* ggx, T* z,
                               std::int64_t p0, std::int64_t p1) {
  for (std::int64_t p = p0; p < p1; ++p) {
    const std::int64_t in_at = p * g.rows * g.cols, out_at = p * g.out_rows * g.out_cols;
    for (std::int64_t i = 0; i < g.out_rows; ++i)
      for (std::int64_t j = 0; j < g.out_cols; ++j) {
        const std::int64_t o = out_at + i * g.out_cols + j;
        T sum = 0;
        for (std::int64_t r = w.rows[i].first; r < w.rows[i].second; ++r)
          for (std::int64_t c = w.cols[j].first; c < w.cols[j].second; ++c) {
            const std::int64_t at = in_at + r * g.cols + c;
            if (x[at] == y[o]) sum += ggx[at];
          }
        z[o] = sum;
      }
  }
}

Tensor max_pool_grad_grad_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Shape shape = max_pool_grad_grad_shape(node, inputs);
  const PoolGeometry g = pool_geometry(node, inputs[0].shape());
  const Tensor x = inputs[0].contiguous(), y = inputs[1].contiguous(), ggx = inputs[2].contiguous();
  Tensor z = memory.get(shape, node.type.dtype);
  for_float(node.type.dtype, [&](auto tag) {
    using T = decltype(tag);
    const Windows w(g);
    over_planes(g, [&](std::int64_t p0, std::int64_t p1) {
      max_pool_grad_grad_planes<T>(g, w, x.data<T>(), y.data<T>(), ggx.data<T>(), z.data<T>(), p0, p1);
    });
  });
  return z;
}

// Max mode: inputs (x, y, gy); the others: (x, gy).
Tensor unpool_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  pool_grad_shape(node, inputs);
  const PoolGeometry g = pool_geometry(node, inputs[0].shape());
  const bool max = inputs.size() == 3;
  const Tensor x = inputs[0].contiguous(), gy = inputs.back().contiguous();
  const Tensor y = max ? inputs[1].contiguous() : Tensor();
  Tensor gx = memory.get(x.shape(), node.type.dtype);
  for_float(node.type.dtype, [&](auto tag) {
    using T = decltype(tag);
    const Windows w(g);
    over_planes(g, [&](std::int64_t p0, std::int64_t p1) {
      if (max && tiling(g)) max_unpool_tiles<T>(g, x.data<T>(), y.data<T>(), gy.data<T>(), gx.data<T>(), p0, p1);
      else if (max) unpool_planes<T, true>(g, w, x.data<T>(), y.data<T>(), gy.data<T>(), gx.data<T>(), p0, p1);
      else unpool_planes<T, false>(g, w, x.data<T>(), nullptr, gy.data<T>(), gx.data<T>(), p0, p1);
    });
  });
  return gx;
}

// --- gradients ------------------------------------------------------------------------------

std::vector<Variable> pool_grad(const Node& node, const Variable& out, const Variable& g) {
  const Variable x = ops::input(node, 0);
  const OpCode op = static_cast<PoolMode>(node.attrs.ints[7]) == PoolMode::max ? OpCode::MaxPool2dGrad
                                                                               : OpCode::AveragePool2dGrad;
  const std::vector<Variable> operands = op == OpCode::MaxPool2dGrad ? std::vector<Variable>{x, out, g}
                                                                     : std::vector<Variable>{x, g};
  return {ops::apply(op, operands, node.attrs, node.where)};
}

// The max-pool gradient and its gradient are linear in their third operand
// and, where no element changes which window max it ties, constant in the
// input and the pooled values (Theano returns zeros there too); each one's
// gradient with respect to the third operand is the other op.
std::vector<Variable> max_pool_grad_grad(const Node& node, const Variable&, const Variable& g) {
  return {Variable(), Variable(), ops::apply(OpCode::MaxPool2dGradGrad, {ops::input(node, 0), ops::input(node, 1), g}, node.attrs, node.where)};
}

std::vector<Variable> max_pool_grad_grad_grad(const Node& node, const Variable&, const Variable& g) {
  return {Variable(), Variable(), ops::apply(OpCode::MaxPool2dGrad, {ops::input(node, 0), ops::input(node, 1), g}, node.attrs, node.where)};
}

// The average gradient is linear in gy: its own gradient is the pooling
// itself. The input only gives the shape.
std::vector<Variable> average_pool_grad_grad(const Node& node, const Variable&, const Variable& g) {
  return {Variable(), ops::apply(OpCode::Pool2d, {g}, node.attrs, node.where)};
}

}  // namespace

void register_pool_ops() {
  define_op(OpCode::Pool2d, {pool_type, pool_shape, pool_reference, pool_grad, pool_native});
  define_op(OpCode::MaxPool2dGrad,
            {pool_grad_type, pool_grad_shape, max_pool_grad_reference, max_pool_grad_grad, unpool_native});
  define_op(OpCode::MaxPool2dGradGrad, {max_pool_grad_grad_type, max_pool_grad_grad_shape, max_pool_grad_grad_reference,
                                        max_pool_grad_grad_grad, max_pool_grad_grad_native});
  define_op(OpCode::AveragePool2dGrad, {pool_grad_type, pool_grad_shape, average_pool_grad_reference,
                                        average_pool_grad_grad, unpool_native});
}

}  // namespace graphjit::ir

namespace graphjit::tensor::signal {

Variable pool_2d(const Variable& input, std::array<std::int64_t, 2> ws, const Pool2dOptions& options,
                 std::source_location where) {
  const auto stride = options.stride.value_or(ws);
  ir::Attrs attrs;
  attrs.ints = {ws[0], ws[1], stride[0], stride[1], options.pad[0], options.pad[1], options.ignore_border ? 1 : 0,
                static_cast<std::int64_t>(options.mode)};
  return ops::apply(ir::OpCode::Pool2d, {input}, std::move(attrs), where);
}

}  // namespace graphjit::tensor::signal
