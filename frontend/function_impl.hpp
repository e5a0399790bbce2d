// What a Function holds (internal).
#pragma once

#include <graphjit/function.hpp>

#include "compiler/pipeline.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace graphjit {

struct Function::Impl {
  ~Impl();  // prints the profile table when `print_profile` (frontend/profile.cpp)
  std::string name;
  bool allow_input_downcast = false;
  // Per input: its default value (In(y, value)) and the name a call may give it by.
  std::vector<std::optional<Argument>> defaults;
  std::vector<std::string> input_names;
  // Per user output: Out(x, borrow=true), returned without the protective copy.
  std::vector<bool> borrow;
  compiler::Program original;  // before the rewrites (givens substituted): what printing shows as "before"
  compiler::Compiled compiled;
  // Every shared variable the function reads or writes: results that share
  // storage with one of them are copied before they reach the caller.
  std::vector<std::shared_ptr<SharedState>> shared_states;
  std::vector<SharedVariable> shared_variables;  // the same variables, as the user's handles
  compiler::CompileOptions compile_options;      // what a copy is compiled with

  // Threads (docs/reliability.md): calls of one function run one at a time,
  // since the executor's buffers are the function's own. A call also locks
  // each shared variable it touches, exclusively those it updates, in one
  // global order (by address) so that functions sharing variables cannot
  // deadlock.
  std::mutex call_mutex;
  struct SharedLock {
    SharedState* state;
    bool exclusive;  // the function updates it
  };
  std::vector<SharedLock> lock_order;
  bool print_profile = false;  // the profile flag was on when it was compiled
};

// Fills in what a function's shared variables, locks and compiled program
// are, from `program` (impl's names, defaults, borrow flags and compile
// options already set; `targets`: the update targets). function() and
// Function::copy (frontend/function_copy.cpp) both end with it.
void compile_into(Function::Impl& impl, compiler::Program program, const std::vector<SharedVariable>& targets);

}  // namespace graphjit
