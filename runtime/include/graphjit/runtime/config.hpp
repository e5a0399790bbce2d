// graphjit::config(): every process-wide option in one struct, set in code or
// from the GRAPHJIT_FLAGS environment variable (Theano's theano.config and
// THEANO_FLAGS):
//
//   GRAPHJIT_FLAGS="optimizer=fast_compile,optimizer_excluding=gemm:stabilize,mode=debug,floatX=float32"
//
// It lives in runtime/ although the runtime reads none of it because every
// layer above reads it: the compiler (passes, JIT, thread pool) must not
// include frontend headers, and the frontend takes its defaults from it
// (FunctionOptions::mode, T::matrix's dtype, ...). Config is plain data; the
// one parser (runtime/config.cpp) checks every value and names the valid ones.
#pragma once

#include <graphjit/runtime/dtype.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace graphjit {

// How a function runs. fast_run: all rewrites, then the LLVM JIT; fast_compile:
// only the rewrites needed to run, then the JIT; reference: the reference
// evaluator, node by node; debug: JIT and reference side by side, reporting
// the first node whose results differ (Theano's DebugMode).
enum class Mode { fast_run, fast_compile, reference, debug };

// Which rewrites the optimizer may run (Theano's `optimizer` flag). It narrows
// what the mode runs: fast_run allows all of them, fast_compile only the cheap
// ones Mode::fast_compile runs, none no rewrite at all.
enum class Optimizer { fast_run, fast_compile, none };

// A bad flag name or value, in GRAPHJIT_FLAGS or set in code.
struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct Config {
  Optimizer optimizer = Optimizer::fast_run;
  std::vector<std::string> optimizer_excluding;  // rewrite passes switched off by name
  Mode mode = Mode::fast_run;                    // FunctionOptions::mode's default
  bool profile = false;                          // time each step of compiled functions
  std::string dump_dir;                          // where dumps are written ("": stderr)
  DType floatX = DType::float64;                 // default dtype of T::matrix and friends
  int num_threads = 0;                           // threads for BLAS and kernels; 0: all hardware threads
  std::string jit_cpu;                           // CPU to generate code for ("": the host); e.g. haswell
  int vector_bits = 0;                           // cap on vector width: 128, 256, 512; 0: the CPU's widest
  int jit_opt_level = 1;                         // LLVM optimization level of the kernels, 0 to 3
  int compile_threads = 0;                       // threads that compile one function's kernels; 0: hardware threads (at most 8)
  bool dump_passes = false;                      // print the graph after each rewrite that changed it
  bool dump_ir = false;                          // write each module's LLVM IR (and assembly into dump_dir)
  bool nan_guard = false;                        // check each step's outputs for nan and inf
};

// The process's options. The first call reads GRAPHJIT_FLAGS (and throws
// ConfigError if it is wrong); change fields in code afterwards. Functions
// read them when they are compiled, so set them before calling function().
// jit_cpu and vector_bits take effect when the JIT starts (the first compiled
// function), num_threads when the first kernel runs; use set_num_threads() to
// change the thread count later.
Config& config();

// `base` with the comma-separated name=value flags applied, in order (a later
// flag wins). An unknown name or a bad value throws ConfigError listing the
// valid names or values; list values (optimizer_excluding) are colon-separated.
Config parse_flags(std::string_view flags, Config base = {});
// Applies flags to config(); throws like parse_flags and then leaves config() as it was.
void set_flags(std::string_view flags);
// Every flag with its current value, in the form parse_flags reads.
std::string flags_string(const Config& config);
// One line per flag: name, valid values, default and what it does.
std::string flags_help();
// Throws ConfigError if a field set in code holds a value no flag accepts.
void check_config(const Config& config);

const char* mode_name(Mode mode);
const char* optimizer_name(Optimizer optimizer);

}  // namespace graphjit
