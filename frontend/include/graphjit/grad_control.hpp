// Gradient control with theano.gradient's names. Each returns x unchanged;
// only the gradient flowing back through it changes.
#pragma once

#include <graphjit/variable.hpp>

#include <source_location>

namespace graphjit {

// The gradient through x is zeros; x stays connected to the cost.
Variable zero_grad(const Variable& x, std::source_location where = std::source_location::current());
// No gradient flows through x: a wrt reached only through it is disconnected.
Variable disconnected_grad(const Variable& x, std::source_location where = std::source_location::current());
// The gradient through x is clipped elementwise to [lower, upper].
Variable grad_clip(const Variable& x, const Operand& lower, const Operand& upper, std::source_location where = std::source_location::current());
// The gradient through x is multiplied by `multiplier`.
Variable grad_scale(const Variable& x, const Operand& multiplier, std::source_location where = std::source_location::current());

namespace tensor {
using graphjit::disconnected_grad;
using graphjit::grad_clip;
using graphjit::grad_scale;
using graphjit::zero_grad;
}  // namespace tensor

}  // namespace graphjit
