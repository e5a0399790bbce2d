// What a Function holds (internal).
#pragma once

#include <graphjit/function.hpp>

#include "compiler/pipeline.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace graphjit {

struct Function::Impl {
  ~Impl();  // prints the profile table when `print_profile` (frontend/profile.cpp)
  std::string name;
  bool allow_input_downcast = false;
  compiler::Program original;  // before the rewrites (givens substituted): what printing shows as "before"
  compiler::Compiled compiled;
  // Every shared variable the function reads or writes: results that share
  // storage with one of them are copied before they reach the caller.
  std::vector<std::shared_ptr<SharedState>> shared_states;

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

}  // namespace graphjit
