// Symbolic differentiation (T.grad) and its finite-difference check (verify_grad).
#pragma once

#include <graphjit/variable.hpp>

#include <concepts>
#include <functional>
#include <random>
#include <utility>
#include <vector>

namespace graphjit {

// d(cost)/d(wrt) as a symbolic graph. cost must be a float scalar. A wrt the
// cost does not depend on gets zeros (Theano's disconnected_inputs='raise'
// is the default: pass allow_disconnected=true to accept it).
Variable grad(const Variable& cost, const Variable& wrt, bool allow_disconnected = false);
std::vector<Variable> grad(const Variable& cost, const std::vector<Variable>& wrt, bool allow_disconnected = false);
// wrt as a container of shared variables (parameters kept in a std::vector<SharedVariable>).
template <std::derived_from<Variable> V>
  requires(!std::is_same_v<V, Variable>)
std::vector<Variable> grad(const Variable& cost, const std::vector<V>& wrt, bool allow_disconnected = false) {
  return grad(cost, std::vector<Variable>(wrt.begin(), wrt.end()), allow_disconnected);
}

// theano.grad's keyword arguments.
enum class DisconnectedInputs { raise, warn, ignore };
enum class ReturnDisconnected { zero, none };  // none: an undefined Variable
struct GradOptions {
  // Variables treated as constants: no gradient flows through them.
  std::vector<Variable> consider_constant{};
  DisconnectedInputs disconnected_inputs = DisconnectedInputs::raise;
  ReturnDisconnected return_disconnected = ReturnDisconnected::zero;
  // Gradients of the cost with respect to intermediate variables, given
  // instead of (or added to) what flows back from the cost; the cost may then
  // be an undefined Variable (Theano's cost=None).
  std::vector<std::pair<Variable, Variable>> known_grads{};
};
std::vector<Variable> grad(const Variable& cost, const std::vector<Variable>& wrt, const GradOptions& options);

namespace tensor {
using graphjit::grad;
}

struct VerifyGradOptions {
  double eps = 1e-6;           // finite-difference step (float64)
  double abs_tol = 1e-5;
  double rel_tol = 1e-4;
  std::uint64_t seed = 1234;
};

// theano.gradient.verify_grad: builds f(inputs...) with symbolic inputs of the
// point's types, takes a random projection of its output to a scalar cost, and
// compares grad() against central finite differences at `point`. Throws
// GradError naming the input and the largest mismatch when they differ.
void verify_grad(const std::function<Variable(const std::vector<Variable>&)>& f, const std::vector<Tensor>& point,
                 VerifyGradOptions options = {});

}  // namespace graphjit
