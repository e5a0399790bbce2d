// Forward mode and higher order (theano.gradient.Rop, Lop, jacobian, hessian).
#pragma once

#include <graphjit/variable.hpp>

#include <cstdint>
#include <vector>

namespace graphjit {

// J v: the derivative of f in the direction eval_points (one per wrt, each of
// its wrt's type), by forward mode: each op's R-operator (OpInfo::rop)
// applied in graph order. Throws GradError naming an op that has none.
Variable Rop(const Variable& f, const std::vector<Variable>& wrt, const std::vector<Variable>& eval_points);
Variable Rop(const Variable& f, const Variable& wrt, const Variable& eval_point);
// v^T J: reverse mode from f's gradient v (grad with known_grads {f: v}).
std::vector<Variable> Lop(const Variable& f, const std::vector<Variable>& wrt, const Variable& eval_point);
Variable Lop(const Variable& f, const Variable& wrt, const Variable& eval_point);

// The Jacobian of `expression` (any shape, `size` elements) with respect to
// wrt: shape (size, *wrt.shape). One gradient per element, built on the host
// until scan exists; they compile into one function. `size` must be the
// element count at run time (a ShapeError says so otherwise).
Variable jacobian(const Variable& expression, const Variable& wrt, std::int64_t size);
// The Hessian of a scalar cost with respect to wrt, which has `size`
// elements: shape (size, *wrt.shape), the Jacobian of the gradient.
Variable hessian(const Variable& cost, const Variable& wrt, std::int64_t size);

namespace tensor {
using graphjit::hessian;
using graphjit::jacobian;
using graphjit::Lop;
using graphjit::Rop;
}  // namespace tensor

}  // namespace graphjit
