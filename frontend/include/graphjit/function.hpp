// theano.function: compiles inputs -> outputs (+ updates, givens) into a callable.
#pragma once

#include <graphjit/runtime/config.hpp>
#include <graphjit/shared.hpp>
#include <graphjit/variable.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
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
  // Theano's no_default_updates: true leaves out every default update (the
  // random streams' state advances, graphjit/random_streams.hpp), a list
  // leaves out those of the listed shared variables.
  std::variant<bool, std::vector<SharedVariable>> no_default_updates = false;
};

// An argument: a C++ number or a tensor.
using Argument = std::variant<double, std::int64_t, Tensor>;

// Theano's In(y, value=1, name="y"): an input with a default value (used
// when a call does not give it) and the name a call may give it by
// (`f(1, named("y", 2))`; without a name, the variable's own name).
struct In {
  In(const Variable& variable) : variable(variable) {}
  In(const Variable& variable, Argument value, std::string name = "")
      : variable(variable), value(std::move(value)), name(std::move(name)) {}
  Variable variable;
  std::optional<Argument> value;
  std::string name;
};

// Theano's Out(x, borrow=True). Without borrow, every result is the
// caller's own memory: nothing the function or a later call does changes it.
// With borrow, a result may be the memory it was computed in when that is
// not the caller's: a shared variable's value (`Out(W, true)` returns W's
// tensor itself), an argument (`Out(x, true)` returns x), or the memory of
// another result of the same call. What it aliases may change under it: a
// borrowed shared value changes when any function updates that variable in
// place (a function never does so for a variable it returns, so the result
// is the value from before the call's own updates) or its memory is written
// through get_value(true); treat it as valid until the next call of a
// function using the variable, as Theano does. A result computed into new
// memory is returned without a copy either way.
struct Out {
  Out(const Variable& variable, bool borrow = false) : variable(variable), borrow(borrow) {}
  Variable variable;
  bool borrow = false;
};

// The inputs of function(): `{x, In(y, 1.0)}`, or a std::vector of variables.
struct Inputs {
  Inputs() = default;
  Inputs(std::initializer_list<In> inputs) : items(inputs) {}
  Inputs(std::vector<In> inputs) : items(std::move(inputs)) {}
  Inputs(const std::vector<Variable>& inputs) : items(inputs.begin(), inputs.end()) {}
  std::vector<In> items;
};

// The outputs of function(): one variable, `{y, Out(z, true)}`, or a
// std::vector of variables. Records the user's line for function's errors.
struct Outputs {
  Outputs(const Variable& output, std::source_location where = std::source_location::current())
      : items{Out(output)}, where(where) {}
  Outputs(const Out& output, std::source_location where = std::source_location::current())
      : items{output}, where(where) {}
  Outputs(std::initializer_list<Out> outputs, std::source_location where = std::source_location::current())
      : items(outputs), where(where) {}
  Outputs(const std::vector<Variable>& outputs, std::source_location where = std::source_location::current())
      : items(outputs.begin(), outputs.end()), where(where) {}
  std::vector<Out> items;
  std::source_location where;
};

// A call's results: a vector of tensors that, for a function of one output,
// is also that output (`Tensor y = f(x)`, `f(x).item<double>()`).
class Results : public std::vector<Tensor> {
 public:
  Results() = default;
  explicit Results(std::vector<Tensor> values) : std::vector<Tensor>(std::move(values)) {}
  // The one result; a FunctionError when there are several.
  const Tensor& only() const;
  operator Tensor() const { return only(); }
  template <class T> T item() const { return only().template item<T>(); }
  Shape shape() const { return only().shape(); }
  template <class T> std::vector<T> to_vector() const { return only().template to_vector<T>(); }
};

// An argument given by the input's name: `f(1.0, named("y", 2.0))`.
struct NamedArgument {
  std::string name;
  Argument value;
};
template <class V> NamedArgument named(std::string name, const V& value) {
  if constexpr (std::is_same_v<V, Tensor>) return {std::move(name), value};
  else if constexpr (std::is_integral_v<V>) return {std::move(name), static_cast<std::int64_t>(value)};
  else return {std::move(name), static_cast<double>(value)};
}

class Function {
 public:
  struct Impl;
  explicit Function(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  // Runs the function: checks the arguments against the inputs (positional
  // first, then by name, then the inputs' defaults), computes the outputs
  // and all updates from the values before the call, then writes the
  // updates. Outputs never alias a shared variable's storage, unless
  // borrowed (Out(x, true)).
  Results call(const std::vector<Argument>& args, const std::vector<NamedArgument>& named = {}) const;
  template <class... A> Results operator()(const A&... args) const {
    std::vector<Argument> positional;
    std::vector<NamedArgument> by_name;
    (add_argument(positional, by_name, args), ...);
    return call(positional, by_name);
  }

  // Theano's Function.copy: a new function computing the same outputs and
  // updates. By default it reads and updates the same shared variables as
  // this one (an update by either is seen by both); `swap` and `own_shared`
  // give it shared variables of its own (CopyOptions).
  struct CopyOptions;
  Function copy(const CopyOptions& options) const;
  Function copy() const;
  // Every shared variable the function reads or updates, in graph order
  // (what a copy with own_shared made, for the caller to read and set).
  std::vector<SharedVariable> shared_variables() const;

  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  template <class A>
  static void add_argument(std::vector<Argument>& positional, std::vector<NamedArgument>& by_name, const A& a) {
    if constexpr (std::is_same_v<A, NamedArgument>) by_name.push_back(a);
    else if constexpr (std::is_same_v<A, Tensor> || std::is_same_v<A, Argument>) positional.push_back(a);
    else if constexpr (std::is_integral_v<A>) positional.push_back(static_cast<std::int64_t>(a));
    else positional.push_back(static_cast<double>(a));
  }
  std::shared_ptr<Impl> impl_;
};

Function function(const Inputs& inputs, const Outputs& outputs, const FunctionOptions& options = {},
                  std::source_location where = std::source_location::current());

// The arguments of Function::copy, as Theano's.
struct Function::CopyOptions {
  // Theano's swap: the copy reads and updates `second` wherever the original
  // reads and updates `first` (same type required). The user's graph is not
  // changed.
  std::vector<std::pair<SharedVariable, SharedVariable>> swap{};
  // Every shared variable that swap does not map gets a deep copy of its
  // current value in the copy (shared_variables() lists them), so that
  // neither function's updates reach the other.
  bool own_shared = false;
  // Theano's delete_updates: the copy computes the outputs only, no updates
  // (neither explicit nor default ones).
  bool delete_updates = false;
  std::string name{};  // default: the original's name followed by " copy"
};

// Options by name, in any order and any subset (Theano's keyword arguments):
//   using namespace graphjit::kw;
//   auto train = function({x, y}, loss, updates = {{W, W - 0.1 * gW}}, mode = Mode::fast_run);
// Each keyword is a constant whose `=` makes a FunctionOption that sets one
// field of FunctionOptions; a later option overrides an earlier one.
struct FunctionOption {
  std::function<void(FunctionOptions&)> apply;
};

namespace kw {
template <class M> struct member_type;
template <class C, class T> struct member_type<T C::*> {
  using type = T;
};
template <auto Field> struct Keyword {
  using Value = typename member_type<decltype(Field)>::type;
  FunctionOption operator=(Value value) const {
    return {[v = std::move(value)](FunctionOptions& o) { o.*Field = v; }};
  }
};
inline constexpr Keyword<&FunctionOptions::updates> updates{};
inline constexpr Keyword<&FunctionOptions::givens> givens{};
inline constexpr Keyword<&FunctionOptions::on_unused_input> on_unused_input{};
inline constexpr Keyword<&FunctionOptions::allow_input_downcast> allow_input_downcast{};
inline constexpr Keyword<&FunctionOptions::mode> mode{};
inline constexpr Keyword<&FunctionOptions::excluded_passes> excluded_passes{};
inline constexpr Keyword<&FunctionOptions::name> name{};
inline constexpr Keyword<&FunctionOptions::optimizer> optimizer{};
inline constexpr Keyword<&FunctionOptions::profile> profile{};
inline constexpr Keyword<&FunctionOptions::nan_guard> nan_guard{};
}  // namespace kw

template <class... Options>
  requires(sizeof...(Options) > 0 && (std::is_same_v<Options, FunctionOption> && ...))
Function function(const Inputs& inputs, const Outputs& outputs, const Options&... options) {
  FunctionOptions all;
  (options.apply(all), ...);
  return function(inputs, outputs, all, outputs.where);
}

}  // namespace graphjit
