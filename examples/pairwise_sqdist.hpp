// A user-defined op (graphjit/custom_op.hpp), written as a user would in
// their own code: the squared Euclidean distances between the rows of two
// matrices, D[i, j] = sum_k (X[i, k] - Y[j, k])^2 (scipy's cdist with
// 'sqeuclidean'), the core of RBF kernels, k-nearest neighbours and
// multidimensional scaling. It has a plain reference kernel (perform), a
// native kernel that reads X and Y row by row and expands the square, and a
// gradient built from existing ops:
//   dL/dX = 2 (rowsum(G) * X - G Y),  dL/dY = 2 (colsum(G) * Y - G^T X).
#pragma once

#include <graphjit/graphjit.hpp>

#include <fmt/format.h>
#include <vector>

namespace examples {

inline graphjit::Tensor sqdist_reference(const std::vector<graphjit::Tensor>& in) {
  const graphjit::Tensor& x = in[0];
  const graphjit::Tensor& y = in[1];
  graphjit::Tensor d = graphjit::Tensor::zeros({x.shape(0), y.shape(0)}, x.dtype());
  for (std::int64_t i = 0; i < x.shape(0); ++i)
    for (std::int64_t j = 0; j < y.shape(0); ++j) {
      double sum = 0;
      for (std::int64_t k = 0; k < x.shape(1); ++k) {
        const double diff = x.get({i, k}) - y.get({j, k});
        sum += diff * diff;
      }
      d.set({i, j}, sum);
    }
  return d;
}

// The native kernel: packed rows, |x|^2 + |y|^2 - 2 x.y per pair (clamped at
// zero, which rounding can cross), one pass over Y per row of X.
template <class T> void sqdist_loop(const graphjit::Tensor& xs, const graphjit::Tensor& ys, graphjit::Tensor& out) {
  const graphjit::Tensor x = xs.contiguous(), y = ys.contiguous();
  const std::int64_t n = x.shape(0), m = y.shape(0), k = x.shape(1);
  const T* px = x.data<T>();
  const T* py = y.data<T>();
  T* pd = out.data<T>();
  std::vector<T> y_norm(static_cast<std::size_t>(m));
  for (std::int64_t j = 0; j < m; ++j) {
    T s = 0;
    for (std::int64_t c = 0; c < k; ++c) s += py[j * k + c] * py[j * k + c];
    y_norm[static_cast<std::size_t>(j)] = s;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const T* xi = px + i * k;
    T x_norm = 0;
    for (std::int64_t c = 0; c < k; ++c) x_norm += xi[c] * xi[c];
    for (std::int64_t j = 0; j < m; ++j) {
      T dot = 0;
      for (std::int64_t c = 0; c < k; ++c) dot += xi[c] * py[j * k + c];
      const T d = x_norm + y_norm[static_cast<std::size_t>(j)] - 2 * dot;
      pd[i * m + j] = d > 0 ? d : 0;
    }
  }
}

inline const graphjit::CustomOp& pairwise_sqdist() {
  namespace T = graphjit::tensor;
  using graphjit::Variable;
  static const graphjit::CustomOp op({
      .name = "pairwise_sqdist",
      .arity = 2,
      .type =
          [](const std::vector<Variable>& in) {
            if (in[0].ndim() != 2 || in[1].ndim() != 2 || !graphjit::is_float(in[0].dtype()) ||
                in[0].dtype() != in[1].dtype())
              throw graphjit::TypeError(fmt::format("needs two float matrices of one dtype, got {} and {}",
                                                    in[0].type_str(), in[1].type_str()));
            return graphjit::OutputType{in[0].dtype(), {false, false}};
          },
      .shape =
          [](const std::vector<graphjit::Shape>& in) {
            if (in[0][1] != in[1][1])
              throw graphjit::ShapeError(fmt::format("rows of {} and {} differ in length", graphjit::shape_str(in[0]),
                                                     graphjit::shape_str(in[1])));
            return graphjit::Shape{in[0][0], in[1][0]};
          },
      .perform = sqdist_reference,
      .native =
          [](const std::vector<graphjit::Tensor>& in, graphjit::Tensor& out) {
            if (out.dtype() == graphjit::float32) sqdist_loop<float>(in[0], in[1], out);
            else sqdist_loop<double>(in[0], in[1], out);
          },
      .grad =
          [](const std::vector<Variable>& in, const Variable&, const Variable& g) {
            const Variable& x = in[0];
            const Variable& y = in[1];
            auto gx = 2.0 * (T::sum(g, 1).dimshuffle({0, -1}) * x - T::dot(g, y));
            auto gy = 2.0 * (T::sum(g, 0).dimshuffle({0, -1}) * y - T::dot(g.T(), x));
            return std::vector<Variable>{gx, gy};
          },
  });
  return op;
}

}  // namespace examples
