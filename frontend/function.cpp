// theano.function: checks the user's inputs, outputs, updates and givens,
// builds the Program, compiles it, and runs it with checked arguments.
#include <graphjit/errors.hpp>
#include <graphjit/function.hpp>
#include <graphjit/random_streams.hpp>

#include "compiler/ir/graph.hpp"
#include "compiler/pipeline.hpp"
#include "frontend/default_updates.hpp"
#include "frontend/function_impl.hpp"
#include "frontend/ops/op_support.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <iostream>
#include <mutex>
#include <shared_mutex>
#include <unordered_set>

namespace graphjit {

namespace {

std::string fn_name(const FunctionOptions& options, std::source_location where) {
  return options.name.empty() ? fmt::format("function built at {}", ops::where_str(where))
                              : fmt::format("function '{}'", options.name);
}

void check_same_type(const std::string& fname, const char* what, const Variable& target, const Variable& value) {
  if (target.dtype() != value.dtype() || target.ndim() != value.ndim())
    throw FunctionError(fmt::format("{}: {} '{}' has type {} but its replacement '{}' has type {}; they must match "
                                    "(use T::cast or dimshuffle on the replacement)",
                                    fname, what, target.label(), target.type_str(), value.label(), value.type_str()));
}

// A shared variable's broadcastable dims stay of length 1: its update must be
// broadcastable there too (Theano's "an update must have the same type").
void check_keeps_broadcastable(const std::string& fname, const Variable& target, const Variable& value) {
  for (int d = 0; d < target.ndim(); ++d)
    if (target.broadcastable()[d] && !value.broadcastable()[d])
      throw FunctionError(fmt::format("{}: shared variable '{}' has type {}, broadcastable along dim {}, but its update "
                                      "'{}' has type {}, which is not; compute it from broadcastable operands (e.g. a "
                                      "reduction with keepdims=true)",
                                      fname, target.label(), target.type_str(), d, value.label(), value.type_str()));
}

bool opted_out(const FunctionOptions& options, const SharedState* state) {
  if (const bool* all = std::get_if<bool>(&options.no_default_updates)) return *all;
  for (const SharedVariable& v : std::get<std::vector<SharedVariable>>(options.no_default_updates))
    if (v.state().get() == state) return true;
  return false;
}

// Theano's default updates: every shared variable the outputs or updates read
// that has one, is not updated explicitly and not opted out, gets it.
std::vector<std::pair<SharedVariable, Variable>> with_default_updates(const std::vector<Variable>& outputs,
                                                                      const FunctionOptions& options) {
  std::vector<std::pair<SharedVariable, Variable>> updates = options.updates;
  std::unordered_set<const SharedState*> explicit_targets;
  std::vector<Variable> roots = outputs;
  for (const auto& [target, value] : updates) {
    if (target.state()) explicit_targets.insert(target.state().get());
    roots.push_back(value);
  }
  for (auto& found : gather_default_updates(roots, [&](const SharedState* s) {
         return explicit_targets.count(s) > 0 || opted_out(options, s);
       }))
    updates.push_back(std::move(found));
  return updates;
}

}  // namespace

// Every shared variable a program reads (its Shared nodes) or updates, once
// each, in graph order; `targets` are the update targets as the user gave them.
static std::vector<SharedVariable> shared_variables_of(const compiler::Program& program,
                                                const std::vector<SharedVariable>& targets) {
  std::vector<SharedVariable> all;
  auto add = [&](const SharedVariable& v) {
    for (const SharedVariable& seen : all)
      if (seen.state() == v.state()) return;
    all.push_back(v);
  };
  for (const ir::NodeRef& n : ir::toposort(program.outputs))
    if (n->op == ir::OpCode::Shared) add(SharedVariable(n, n->shared));
  for (const SharedVariable& t : targets) add(t);
  return all;
}

// The part of building a function that a copy repeats: what it locks, and
// the compiled program (impl's names, defaults, borrow flags and compile
// options are set).
void compile_into(Function::Impl& impl, compiler::Program program, const std::vector<SharedVariable>& targets) {
  program.borrowed = impl.borrow;
  impl.shared_variables = shared_variables_of(program, targets);
  for (const SharedVariable& v : impl.shared_variables) impl.shared_states.push_back(v.state());
  const auto& updated = program.update_targets;
  // Each variable once (locking one mutex twice would deadlock), by address.
  for (const auto& state : impl.shared_states)
    impl.lock_order.push_back({state.get(), std::find(updated.begin(), updated.end(), state) != updated.end()});
  std::sort(impl.lock_order.begin(), impl.lock_order.end(),
            [](const auto& a, const auto& b) { return std::less<>()(a.state, b.state); });
  impl.original = program;
  impl.compiled = compiler::compile(std::move(program), impl.compile_options);
}

Function function(const Inputs& inputs_, const Outputs& outputs_, const FunctionOptions& options,
                  std::source_location where) {
  const std::string fname = fn_name(options, where);
  std::vector<Variable> inputs, outputs;
  for (const In& in : inputs_.items) inputs.push_back(in.variable);
  for (const Out& out : outputs_.items) outputs.push_back(out.variable);
  check_config(config());
  compiler::Program program;

  std::unordered_set<const ir::Node*> seen_inputs;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Variable& in = inputs[i];
    if (!in.defined()) throw FunctionError(fmt::format("{}: input {} is an undefined Variable", fname, i));
    if (in.node()->op != ir::OpCode::Input)
      throw FunctionError(fmt::format("{}: input {} ('{}') is not a symbolic input ({}): shared variables and "
                                      "expressions cannot be inputs; use givens to substitute expressions",
                                      fname, i, in.label(), ir::op_info(in.node()->op).name));
    if (!seen_inputs.insert(in.node().get()).second)
      throw FunctionError(fmt::format("{}: input '{}' is listed twice", fname, in.label()));
    program.inputs.push_back(in.node());
  }

  std::vector<ir::NodeRef> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined()) throw FunctionError(fmt::format("{}: output {} is an undefined Variable", fname, i));
    roots.push_back(outputs[i].node());
  }
  std::unordered_set<const SharedState*> updated;
  const std::vector<std::pair<SharedVariable, Variable>> updates = with_default_updates(outputs, options);
  for (const auto& [target, value] : updates) {
    if (!target.defined() || !target.state())
      throw FunctionError(fmt::format("{}: an update target is not a shared variable", fname));
    if (!value.defined())
      throw FunctionError(fmt::format("{}: the update of '{}' is an undefined Variable", fname, target.label()));
    check_same_type(fname, "updated shared variable", target, value);
    check_keeps_broadcastable(fname, target, value);
    if (!updated.insert(target.state().get()).second)
      throw FunctionError(fmt::format("{}: shared variable '{}' is updated twice", fname, target.label()));
    roots.push_back(value.node());
    program.update_targets.push_back(target.state());
  }

  ir::Replacements givens;
  for (const auto& [var, value] : options.givens) {
    if (!var.defined() || !value.defined()) throw FunctionError(fmt::format("{}: a givens entry is undefined", fname));
    check_same_type(fname, "givens variable", var, value);
    givens[var.node().get()] = value.node();
  }
  program.outputs = givens.empty() ? roots : ir::clone_replace(roots, givens);
  program.num_user_outputs = outputs.size();

  const auto used = ir::ancestors(program.outputs);
  for (const ir::NodeRef& in : program.inputs) {
    if (used.count(in.get()) || options.on_unused_input == OnUnusedInput::ignore) continue;
    std::string msg = fmt::format("{}: input '{}' is not used to compute any output or update", fname, in->label());
    if (options.on_unused_input == OnUnusedInput::raise)
      throw FunctionError(msg + "; remove it, or pass on_unused_input = OnUnusedInput::ignore");
    std::cerr << "graphjit warning: " << msg << '\n';
  }
  for (const ir::Node* node : used)
    if (node->op == ir::OpCode::Input && !seen_inputs.count(node))
      throw FunctionError(fmt::format("{}: the outputs depend on '{}' ({} built at {}), which is neither an input "
                                      "nor replaced by givens; add it to the inputs or to givens",
                                      fname, node->label(), node->type.str(), ops::where_str(node->where)));

  auto impl = std::make_shared<Function::Impl>();
  impl->name = fname;
  impl->allow_input_downcast = options.allow_input_downcast;
  for (const In& in : inputs_.items) {
    impl->defaults.push_back(in.value);
    impl->input_names.push_back(in.name.empty() ? in.variable.name() : in.name);
  }
  for (const Out& out : outputs_.items) impl->borrow.push_back(out.borrow);
  impl->print_profile = config().profile && options.profile;
  impl->compile_options = {.mode = options.mode,
                           .optimizer = options.optimizer,
                           .excluded_passes = options.excluded_passes,
                           .name = options.name,
                           .profile = options.profile,
                           .nan_guard = options.nan_guard};
  std::vector<SharedVariable> targets;
  for (const auto& [target, value] : updates) targets.push_back(target);
  compile_into(*impl, std::move(program), targets);
  return Function(std::move(impl));
}

namespace {

// A C++ number for a float input may round (as Python floats do in Theano);
// for an integer input it must be held exactly.
bool fits_exactly(const Argument& arg, DType t) {
  if (is_float(t)) return true;
  if (const auto* i = std::get_if<std::int64_t>(&arg)) return represents(t, *i);
  return represents(t, std::get<double>(arg));
}

// numpy's can_cast(from, to, 'safe').
bool safe_cast(DType from, DType to) { return promote(from, to) == to; }

Tensor convert_argument(const Function::Impl& f, std::size_t i, const Argument& arg) {
  const ir::Node& in = *f.compiled.optimized.inputs[i];
  const std::string where = fmt::format("{}: argument {} (input '{}', {})", f.name, i, in.label(), in.type.str());
  if (const Tensor* t = std::get_if<Tensor>(&arg)) {
    if (!t->defined()) throw FunctionError(where + ": got an undefined tensor");
    if (t->ndim() != in.type.ndim())
      throw FunctionError(fmt::format("{}: expected {} dimensions, got a tensor of shape {}", where, in.type.ndim(),
                                      shape_str(t->shape())));
    for (int d = 0; d < t->ndim(); ++d)
      if (in.type.broadcastable[d] && t->shape(d) != 1)
        throw FunctionError(fmt::format("{}: dim {} is broadcastable and must have length 1, got shape {}", where, d,
                                        shape_str(t->shape())));
    if (t->dtype() == in.type.dtype) return *t;
    if (!safe_cast(t->dtype(), in.type.dtype) && !f.allow_input_downcast)
      throw FunctionError(fmt::format("{}: got dtype {}, which does not convert to {} without loss; convert it "
                                      "(Tensor::astype) or pass allow_input_downcast = true",
                                      where, dtype_name(t->dtype()), dtype_name(in.type.dtype)));
    return t->astype(in.type.dtype);
  }
  if (in.type.ndim() != 0)
    throw FunctionError(fmt::format("{}: expected a tensor with {} dimensions, got a number", where, in.type.ndim()));
  // An integer goes from int64 to the input's dtype directly: a trip through
  // double would round values above 2^53.
  const auto* integer = std::get_if<std::int64_t>(&arg);
  const Tensor number = integer ? Tensor::scalar(*integer) : Tensor::scalar(std::get<double>(arg));
  if (!fits_exactly(arg, in.type.dtype) && !f.allow_input_downcast)
    throw FunctionError(fmt::format("{}: the number {} does not fit dtype {} exactly; pass a value that does, or "
                                    "allow_input_downcast = true",
                                    where, integer ? fmt::format("{}", *integer) : fmt::format("{}", std::get<double>(arg)),
                                    dtype_name(in.type.dtype)));
  return number.astype(in.type.dtype);
}

// What one call holds (function_impl.hpp): the function, and each shared
// variable it touches. Released in any order; only taking them is ordered.
struct CallLocks {
  explicit CallLocks(Function::Impl& f) : call(f.call_mutex) {
    for (const auto& [state, exclusive] : f.lock_order) {
      if (exclusive) writers.emplace_back(state->mutex);
      else readers.emplace_back(state->mutex);
    }
  }
  std::unique_lock<std::mutex> call;
  std::vector<std::unique_lock<std::shared_mutex>> writers;
  std::vector<std::shared_lock<std::shared_mutex>> readers;
};

}  // namespace

const Tensor& Results::only() const {
  if (size() != 1)
    throw FunctionError(fmt::format("the function returned {} results; take one by index ([i]) instead of using "
                                    "the results as one tensor", size()));
  return front();
}

namespace {
// The argument of each input: positional ones first, then those given by
// name, then the inputs' defaults; naming what is missing, unknown or given twice.
std::vector<Argument> bind_arguments(const Function::Impl& f, const std::vector<Argument>& positional,
                                     const std::vector<NamedArgument>& named) {
  const compiler::Program& program = f.compiled.optimized;
  const std::size_t n = program.inputs.size();
  auto names = [&] {
    std::string all;
    for (const std::string& name : f.input_names) all += (all.empty() ? "" : ", ") + name;
    return all;
  };
  if (positional.size() > n)
    throw FunctionError(fmt::format("{}: expected {} arguments ({}), got {}", f.name, n, names(), positional.size()));
  std::vector<std::optional<Argument>> bound(positional.begin(), positional.end());
  bound.resize(n);
  for (const NamedArgument& arg : named) {
    const auto it = std::find(f.input_names.begin(), f.input_names.end(), arg.name);
    if (arg.name.empty() || it == f.input_names.end())
      throw FunctionError(fmt::format("{}: no input is named '{}' (the inputs are: {})", f.name, arg.name, names()));
    auto& slot = bound[static_cast<std::size_t>(it - f.input_names.begin())];
    if (slot) throw FunctionError(fmt::format("{}: input '{}' is given twice", f.name, arg.name));
    slot = arg.value;
  }
  std::vector<Argument> args;
  for (std::size_t i = 0; i < n; ++i) {
    if (!bound[i]) bound[i] = f.defaults[i];
    if (!bound[i])
      throw FunctionError(fmt::format("{}: expected {} arguments ({}), got {}; input {} ('{}') has no default value "
                                      "(In(variable, value) gives it one)",
                                      f.name, n, names(), positional.size() + named.size(), i, f.input_names[i]));
    args.push_back(*bound[i]);
  }
  return args;
}
}  // namespace

Results Function::call(const std::vector<Argument>& given, const std::vector<NamedArgument>& named) const {
  Impl& f = *impl_;
  const compiler::Program& program = f.compiled.optimized;
  const std::vector<Argument> args = bind_arguments(f, given, named);
  std::vector<Tensor> values;
  values.reserve(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) values.push_back(convert_argument(f, i, args[i]));

  const CallLocks locks(f);
  std::vector<Tensor> results = f.compiled.executor->run(values);

  // Outputs are the caller's to keep: none may share storage with a shared
  // variable (whose value an update may overwrite) or with another result,
  // unless borrowed.
  std::vector<Tensor> outputs(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(program.num_user_outputs));
  auto aliases_state = [&](const Tensor& t) {
    for (const auto& state : f.shared_states)
      if (t.shares_storage_with(state->value)) return true;
    for (const Tensor& v : values)
      if (t.shares_storage_with(v)) return true;
    return false;
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (f.borrow[i]) continue;  // Out(x, borrow=true): may alias (graphjit/function.hpp)
    bool alias = aliases_state(outputs[i]);
    for (std::size_t j = 0; j < i && !alias; ++j) alias = outputs[i].shares_storage_with(outputs[j]);
    if (alias) outputs[i] = outputs[i].copy();
  }
  // All updates were computed from the old values; now write them.
  for (std::size_t u = 0; u < program.update_targets.size(); ++u) {
    Tensor v = results[program.num_user_outputs + u];
    bool alias = false;
    for (const Tensor& o : outputs) alias = alias || v.shares_storage_with(o);
    for (const auto& state : f.shared_states)
      alias = alias || (state != program.update_targets[u] && v.shares_storage_with(state->value));
    for (const Tensor& a : values) alias = alias || v.shares_storage_with(a);
    program.update_targets[u]->value = alias ? v.copy() : v;
  }
  return Results(std::move(outputs));
}

}  // namespace graphjit
