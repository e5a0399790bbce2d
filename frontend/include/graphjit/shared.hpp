// Shared variables: symbolic variables with a value that persists across calls
// (theano.shared). Functions read them and write them through updates.
#pragma once

#include <graphjit/runtime/shared_state.hpp>
#include <graphjit/variable.hpp>

#include <memory>
#include <shared_mutex>
#include <source_location>
#include <string>

namespace graphjit {

class SharedVariable : public Variable {
 public:
  SharedVariable() = default;
  SharedVariable(std::shared_ptr<const ir::Node> node, std::shared_ptr<SharedState> state)
      : Variable(std::move(node)), state_(std::move(state)) {}

  // borrow=false returns a copy the caller may change freely; borrow=true
  // returns the internal tensor itself (an update may overwrite it in place).
  // Safe to call while other threads call functions that use the variable:
  // the copy is of a value no call is writing.
  Tensor get_value(bool borrow = false) const;
  // The new value must have the variable's dtype and ndim (broadcastable dims
  // of length 1). borrow=false copies it; borrow=true keeps the caller's tensor.
  // Waits for running calls that use the variable: a call sees the value from
  // before or from after, never storage freed under it.
  void set_value(const Tensor& value, bool borrow = false);
  const std::shared_ptr<SharedState>& state() const { return state_; }

 private:
  std::shared_ptr<SharedState> state_;
};

// theano.shared(value, name, borrow): broadcastable is all false, like Theano's default.
SharedVariable shared(const Tensor& value, std::string name = "", bool borrow = false,
                      std::source_location where = std::source_location::current());

}  // namespace graphjit
