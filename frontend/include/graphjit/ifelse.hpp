// theano.ifelse.ifelse: a lazy branch. Only the branch the scalar `cond`
// selects is computed (in every mode); the other's nodes are skipped unless
// something else needs them. The branches must have the same dtype and rank.
// Gradients flow to the branch taken (zeros to the other). For an
// elementwise, eager choice use T::switch_.
#pragma once

#include <graphjit/variable.hpp>

#include <source_location>

namespace graphjit {

Variable ifelse(const Variable& cond, const Operand& then_branch, const Operand& else_branch,
                std::source_location where = std::source_location::current());

namespace tensor {
using graphjit::ifelse;
}

}  // namespace graphjit
