// Theano's profile=True: where a compiled function's time goes.
//
//   auto f = graphjit::function({x}, {y}, {.profile = true});   // or GRAPHJIT_FLAGS=profile=true
//   f(a); f(b);
//   std::cout << graphjit::profile(f).table();
//
// Every step of the function's schedule (a fused JIT kernel, a BLAS call, a
// native op) is timed on every call; the compile time is recorded per stage.
// With the profile flag, the table also prints to stderr when the function is
// destroyed, as Theano prints its summary at exit.
#pragma once

#include <graphjit/function.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace graphjit {

struct StepProfile {
  std::size_t index = 0;  // position in the schedule (the order steps run in)
  std::string kind;       // "kernel" (a fused JIT kernel) or a native step's op: "gemm", "dot", "reshape", ...
  std::string what;       // "fused kernel 'name' (mul, add, tanh)", or the op with its operands
  std::string where;      // the user's source line of the value it computes
  std::size_t calls = 0;
  double seconds = 0;     // summed over the calls
  double share = 0;       // of all calls' time, 0 to 1
  double gflops = 0;      // dot and gemm steps: 2*m*n*k per call over the time; 0 for the others
  double gbytes_per_s = 0;  // fused kernels: bytes of their operands read and written, over the time; 0 for the others
};

struct Profile {
  std::string function;
  std::size_t calls = 0;
  double seconds = 0;              // the calls' wall time, from the arguments to the returned values
  std::vector<StepProfile> steps;  // in run order
  // Compile time per stage, in the order they ran: "optimize" (the rewrites),
  // the lowering stages ("expand", "fuse", ... "compile_kernels"), then
  // "llvm_optimize" and "llvm_codegen", LLVM's IR optimization and machine
  // code emission inside compile_kernels as CPU time summed over the compile
  // threads (flag compile_threads), then "llvm_wall", the wall time
  // compile_kernels spent waiting for them. All three are 0 when every
  // kernel came from the kernel cache.
  std::vector<std::pair<std::string, double>> compile_ms;

  double step_seconds() const;  // the steps' sum; the rest of `seconds` is the executor's own overhead
  // The steps sorted by time, like Theano's profile summary, then the compile stages.
  std::string table() const;
  std::string json() const;
};

// The function's profile so far. Throws FunctionError if the function was not
// compiled with profile = true, or runs in Mode::reference (which has no schedule).
Profile profile(const Function& f);

}  // namespace graphjit
