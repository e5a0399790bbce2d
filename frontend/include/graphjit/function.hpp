// theano.function: compiles inputs -> outputs (+ updates, givens) into a callable.
#pragma once

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

// How a function runs. fast_run: all rewrites, then the LLVM JIT; fast_compile:
// only the rewrites needed to run, then the JIT; reference: the reference
// evaluator, node by node; debug: JIT and reference side by side, reporting
// the first node whose results differ (Theano's DebugMode).
enum class Mode { fast_run, fast_compile, reference, debug };

struct FunctionOptions {
  std::vector<std::pair<SharedVariable, Variable>> updates;
  std::vector<std::pair<Variable, Variable>> givens;
  OnUnusedInput on_unused_input = OnUnusedInput::raise;
  bool allow_input_downcast = false;
  Mode mode = Mode::fast_run;
  std::vector<std::string> excluded_passes;  // rewrites to switch off by name
  std::string name;
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
