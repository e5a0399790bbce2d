// What rules are written with: matching nodes by op and constant value, and
// building replacements that carry the user's source location and keep the
// replaced node's Type.
#pragma once

#include "compiler/ir/node.hpp"

#include <optional>
#include <vector>

namespace graphjit::compiler::passes {

inline bool is(const ir::NodeRef& n, ir::OpCode op) { return n->op == op; }

// The value of a one-element constant (also behind dimshuffles, which only add
// or drop length-1 dims). Rules match only such constants, which broadcast
// against anything: removing one never hides a shape mismatch.
std::optional<double> scalar_constant(const ir::NodeRef& n);
bool is_scalar_constant(const ir::NodeRef& n, double value);

// A new node in place of `old`: built at old's source location, so errors
// still point at the user's line.
ir::NodeRef make_like(const ir::Node& old, ir::OpCode op, std::vector<ir::NodeRef> inputs, ir::Attrs attrs = {});

// `n` converted to `dtype` (itself when it already has it).
ir::NodeRef as_dtype(const ir::NodeRef& n, DType dtype, const ir::Node& old);

// `n` as a replacement for `old`: cast to old's dtype if needed. nullptr when
// the broadcastable patterns differ, since no cast or dimshuffle can fix that
// (the rule then does not apply).
ir::NodeRef conform(const ir::NodeRef& n, const ir::Node& old);

// Whether a dimshuffle pattern keeps every dim of an ndim-dim input in place.
bool is_identity(const std::vector<std::int64_t>& pattern, int ndim);
// DimShuffle of n by `pattern` (-1 = new broadcastable dim); n itself for the identity.
ir::NodeRef dimshuffle(const ir::NodeRef& n, std::vector<std::int64_t> pattern, const ir::Node& old);

}  // namespace graphjit::compiler::passes
