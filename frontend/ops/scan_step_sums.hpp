// A non-sequence's gradient in backpropagation through time is a sum over
// steps of the backward step's value, g = sum_t g_t. Accumulated in the loop,
// every step of an RNN pays a small GEMM for dW_hh = sum_t h_{t-1}^T dpre_t.
// When g_t is a sum of terms each either
//   L(dot(a_t^T, b_t))  (a, b matrices: one outer product per step), or
//   L(e_t)              (e_t a value the loop stores anyway),
// with L a chain of linear one-input ops (sum, dimshuffle, cast), the sum over
// steps moves after the loop: sum_t dot(a_t^T, b_t) is one dot of the stacked
// (T*B, .) histories, and sum_t L(e_t) = L(sum_t e_t).
#pragma once

#include "compiler/ir/node.hpp"

#include <graphjit/variable.hpp>

#include <functional>
#include <optional>
#include <vector>

namespace graphjit::ir {

struct StepSumTerm {
  NodeRef term;                  // the term of g_t, L(base)
  NodeRef base;                  // dot(a^T, b) or e
  std::vector<NodeRef> factors;  // {a, b} for a product, {e} otherwise
  bool product() const { return factors.size() == 2; }
};

// g's terms, or nothing when some term has neither form. `stored(v)` says
// whether the loop stores v at every step anyway (a sequence, an emitted
// value): a plain term's e must be one; a product's factors may be anything.
std::optional<std::vector<StepSumTerm>> step_sum_terms(const NodeRef& g, const std::function<bool(const NodeRef&)>& stored);

// The term summed over all steps, given the stacked values of its factors
// (each with the steps on axis 0).
Variable sum_over_steps(const StepSumTerm& term, const std::vector<Variable>& stacked);

}  // namespace graphjit::ir
