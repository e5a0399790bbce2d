// theano.function: compiles inputs -> outputs (+ updates, givens) into a callable.
#pragma once

#include <graphjit/runtime/config.hpp>
#include <graphjit/shared.hpp>
#include <graphjit/variable.hpp>

#include <memory>
#include <source_location>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace graphjit {

enum class OnUnusedInput { raise, warn, ignore };

// Mode (how a function runs) and Optimizer are declared with the options in
// graphjit/runtime/config.hpp; the defaults below come from config().

struct FunctionOptions {
  std::vector<std::pair<SharedVariable, Variable>> updates{};
  std::vector<std::pair<Variable, Variable>> givens{};
  OnUnusedInput on_unused_input = OnUnusedInput::raise;
  bool allow_input_downcast = false;
  Mode mode = config().mode;
  std::vector<std::string> excluded_passes = config().optimizer_excluding;  // rewrites to switch off by name
  std::string name{};
  Optimizer optimizer = config().optimizer;  // narrows the rewrites the mode runs
  // Time every step of every call (graphjit::profile(f) reads the results;
  // with the profile flag, the table also prints when the function is destroyed).
  bool profile = config().profile;
  // Check every step's outputs for nan and inf; the first op producing one
  // stops the call with its source line and its inputs' statistics.
  bool nan_guard = config().nan_guard;
};

// An argument: a C++ number or a tensor.
using Argument = std::variant<double, std::int64_t, Tensor>;

class Function {
 public:
  struct Impl;
  explicit Function(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  // Runs the function: checks the arguments against the inputs, computes the
  // outputs and all updates from the values before the call, then writes the
  // updates. Outputs never alias a shared variable's storage.
  std::vector<Tensor> call(const std::vector<Argument>& args) const;
  template <class... A> std::vector<Tensor> operator()(const A&... args) const { return call({to_argument(args)...}); }

  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  template <class A> static Argument to_argument(const A& a) {
    if constexpr (std::is_same_v<A, Tensor>) return a;
    else if constexpr (std::is_integral_v<A>) return static_cast<std::int64_t>(a);
    else return static_cast<double>(a);
  }
  std::shared_ptr<Impl> impl_;
};

Function function(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
                  const FunctionOptions& options = {}, std::source_location where = std::source_location::current());

}  // namespace graphjit
