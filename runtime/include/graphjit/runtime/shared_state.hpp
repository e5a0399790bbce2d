// The value behind a shared variable (theano.shared): a named tensor that
// persists across calls. Compiled functions hold it by reference, so a new
// value set with set_value is seen by functions built before. It lives in the
// runtime because every layer reads it: the frontend's SharedVariable owns
// one, the graph's Shared nodes point at it, the executor reads and writes it.
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <shared_mutex>
#include <string>

namespace graphjit {

struct SharedState {
  Tensor value;
  std::string name;
  // Guards `value` (docs/reliability.md, "Threads"): a function call holds it
  // shared while it only reads the variable and exclusively when it updates
  // it; get_value holds it shared, set_value exclusively.
  mutable std::shared_mutex mutex;
};

}  // namespace graphjit
