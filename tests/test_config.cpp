// graphjit::config() and GRAPHJIT_FLAGS: the one parser, its errors, and the
// options reaching the code that reads them.
#include <doctest/doctest.h>

#include "scoped_config.hpp"
#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace T = graphjit::tensor;
using namespace graphjit;
using graphjit::testing::contains;
using graphjit::testing::ScopedConfig;
using graphjit::testing::thrown_message;

namespace {

const char* kAllFlags =
    "optimizer, optimizer_excluding, mode, profile, dump_dir, floatX, num_threads, jit_cpu, vector_bits, "
    "jit_opt_level, compile_threads, dump_passes, dump_ir, nan_guard";

// Runs this test binary again with `environment` prepended, running only the
// test case "child process: report the configuration", and returns its stdout.
std::string run_child(const std::string& environment) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string command = "env " + environment + " GRAPHJIT_CONFIG_CHILD=1 '" + self + "' --no-intro --no-version "
                              "--test-case='child process: report the configuration' 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  std::string out;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) out.append(buffer.data(), n);
  return out;
}

}  // namespace

TEST_CASE("child process: report the configuration") {
  // Only does something when run_child starts it: prints what config() read.
  if (!std::getenv("GRAPHJIT_CONFIG_CHILD")) return;
  try {
    std::printf("FLAGS[%s]\n", flags_string(config()).c_str());
  } catch (const ConfigError& e) {
    std::printf("ERROR[%s]\n", e.what());
  }
}

TEST_CASE("the defaults, written as flags") {
  CHECK(flags_string(Config{}) ==
        "optimizer=fast_run,optimizer_excluding=,mode=fast_run,profile=false,dump_dir=,floatX=float64,num_threads=0,"
        "jit_cpu=,vector_bits=0,jit_opt_level=1,compile_threads=0,dump_passes=false,dump_ir=false,nan_guard=false");
}

TEST_CASE("every flag is parsed into its field") {
  const Config c = parse_flags(
      "optimizer=fast_compile,optimizer_excluding=gemm:stabilize,mode=debug,profile=true,dump_dir=dumps,"
      "floatX=float32,num_threads=3,jit_cpu=haswell,vector_bits=256,jit_opt_level=2,compile_threads=2,dump_passes=1,"
      "dump_ir=True,"
      "nan_guard=false");
  CHECK(c.optimizer == Optimizer::fast_compile);
  CHECK(c.optimizer_excluding == std::vector<std::string>{"gemm", "stabilize"});
  CHECK(c.mode == Mode::debug);
  CHECK(c.profile);
  CHECK(c.dump_dir == "dumps");
  CHECK(c.floatX == float32);
  CHECK(c.num_threads == 3);
  CHECK(c.jit_cpu == "haswell");
  CHECK(c.vector_bits == 256);
  CHECK(c.jit_opt_level == 2);
  CHECK(c.compile_threads == 2);
  CHECK(c.dump_passes);
  CHECK(c.dump_ir);
  CHECK(!c.nan_guard);
  // flags_string writes what parse_flags reads.
  CHECK(flags_string(parse_flags(flags_string(c))) == flags_string(c));
}

TEST_CASE("flags apply in order onto the base; spaces and empty entries are ignored") {
  Config base;
  base.mode = Mode::reference;
  base.jit_opt_level = 3;
  const Config c = parse_flags(" mode = debug ,, optimizer=None, mode=fast_compile,", base);
  CHECK(c.mode == Mode::fast_compile);  // the later one wins
  CHECK(c.optimizer == Optimizer::none);
  CHECK(c.jit_opt_level == 3);  // untouched fields keep the base's value
  CHECK(parse_flags("").optimizer_excluding.empty());
  CHECK(parse_flags("optimizer_excluding=").optimizer_excluding.empty());
}

TEST_CASE("an unknown flag is an error listing the valid flags") {
  const std::string msg = thrown_message<ConfigError>([] { parse_flags("mode=debug,optimiser=fast_run"); });
  CHECK(contains(msg, "no flag named 'optimiser'"));
  CHECK(contains(msg, kAllFlags));
  CHECK(contains(thrown_message<ConfigError>([] { parse_flags("debug"); }), "'debug' is not name=value"));
}

TEST_CASE("a bad value is an error naming the flag and the valid values") {
  auto message = [](const char* flags) { return thrown_message<ConfigError>([&] { parse_flags(flags); }); };
  CHECK(message("mode=fast") ==
        "graphjit flag mode=fast: the value must be one of fast_run, fast_compile, reference, debug");
  CHECK(message("optimizer=none") ==
        "graphjit flag optimizer=none: the value must be one of fast_run, fast_compile, None");
  CHECK(message("floatX=float16") == "graphjit flag floatX=float16: the value must be one of float64, float32");
  CHECK(contains(message("vector_bits=100"), "128, 256 or 512"));
  CHECK(contains(message("jit_opt_level=4"), "0, 1, 2 or 3"));
  CHECK(contains(message("jit_opt_level=1x"), "0, 1, 2 or 3"));
  CHECK(contains(message("num_threads=-1"), "a positive integer"));
  CHECK(contains(message("num_threads="), "a positive integer"));
  CHECK(contains(message("profile=yes"), "true or false"));
}

TEST_CASE("set_flags changes config(), and leaves it as it was when a flag is bad") {
  ScopedConfig restore;
  set_flags("jit_opt_level=2");
  CHECK(config().jit_opt_level == 2);
  CHECK_THROWS_AS(set_flags("jit_opt_level=3,mode=wrong"), ConfigError);
  CHECK(config().jit_opt_level == 2);
  CHECK(config().mode == Mode::fast_run);
}

TEST_CASE("a bad value set in code is caught when a function is compiled") {
  ScopedConfig restore;
  config().vector_bits = 100;
  auto x = T::vector("x");
  CHECK(contains(thrown_message<ConfigError>([&] { function({x}, {x + 1}); }),
                 "vector_bits=100: the value must be 128, 256 or 512"));
}

TEST_CASE("floatX is the default dtype of symbolic inputs and one-hot rows") {
  ScopedConfig restore("floatX=float32");
  CHECK(T::matrix("x").dtype() == float32);
  CHECK(T::scalar().dtype() == float32);
  CHECK(T::tensor4().dtype() == float32);
  CHECK(T::extra_ops::to_one_hot(T::vector("y", int32), 3).dtype() == float32);
  CHECK(T::matrix("x", float64).dtype() == float64);  // an explicit dtype wins
  set_flags("floatX=float64");
  CHECK(T::vector("v").dtype() == float64);
}

TEST_CASE("mode and optimizer_excluding are FunctionOptions' defaults") {
  ScopedConfig restore("mode=reference,optimizer_excluding=gemm:stabilize");
  const FunctionOptions options;
  CHECK(options.mode == Mode::reference);
  CHECK(options.excluded_passes == std::vector<std::string>{"gemm", "stabilize"});
  const FunctionOptions explicit_mode{.mode = Mode::fast_run};
  CHECK(explicit_mode.mode == Mode::fast_run);
}

TEST_CASE("optimizer=None compiles without rewrites; fast_run removes the multiplication by one") {
  auto x = T::vector("x");
  auto y = T::exp(x) * 1.0;
  Tensor xv = Tensor::full({3}, 0.5, float64);
  std::string plain, optimized;
  {
    ScopedConfig restore("optimizer=None");
    auto f = function({x}, {y});
    plain = debugprint(f);
    CHECK(f(xv)[0].get({1}) == doctest::Approx(std::exp(0.5)));
  }
  optimized = debugprint(function({x}, {y}));
  CHECK(contains(plain, "mul"));
  CHECK(!contains(optimized, "mul"));
}

TEST_CASE("optimizer=fast_compile runs only what Mode::fast_compile runs, also in Mode::fast_run") {
  auto x = T::vector("x");
  auto y = T::exp(x) * 1.0;
  ScopedConfig restore("optimizer=fast_compile");
  const std::string narrowed = debugprint(function({x}, {y}, {.mode = Mode::fast_run}));
  const std::string fast_compile = debugprint(function({x}, {y}, {.mode = Mode::fast_compile, .optimizer = Optimizer::fast_run}));
  CHECK(contains(narrowed, "mul"));  // canonicalize did not run
  CHECK(narrowed == fast_compile);
}

TEST_CASE("optimizer_excluding takes rewrites and lowering stages; an unknown name names the flag") {
  auto x = T::vector("x");
  {
    // The example: gemm is a rewrite, fusion a lowering stage.
    ScopedConfig restore("optimizer_excluding=gemm:fusion");
    const std::string text = debugprint(function({x}, {T::exp(x) + 1.0}));
    CHECK(contains(text, "kernel fused1"));  // exp and add in kernels of their own
  }
  ScopedConfig restore("optimizer_excluding=gemm:nosuch");
  const std::string msg = thrown_message<FunctionError>([&] { function({x}, {x + 1}); });
  CHECK(contains(msg, "optimizer_excluding"));
  CHECK(contains(msg, "no pass named 'nosuch'"));
  CHECK(contains(msg, "fusion"));  // the valid names are listed
}

TEST_CASE("the profile and nan_guard flags are FunctionOptions' defaults") {
  CHECK(!FunctionOptions{}.profile);
  CHECK(!FunctionOptions{}.nan_guard);
  ScopedConfig restore("profile=true,nan_guard=true");
  CHECK(FunctionOptions{}.profile);
  CHECK(FunctionOptions{}.nan_guard);
}

TEST_CASE("set_num_threads is recorded in config()") {
  ScopedConfig restore;
  const int before = config().num_threads;
  set_num_threads(1);
  CHECK(config().num_threads == 1);
  set_num_threads(before > 0 ? before : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST_CASE("GRAPHJIT_FLAGS is read by the first call of config(), after the old variables") {
  const std::string ok = run_child("GRAPHJIT_FLAGS='floatX=float32, mode=debug,optimizer_excluding=gemm'");
  CHECK(contains(ok, "FLAGS[optimizer=fast_run,optimizer_excluding=gemm,mode=debug,"));
  CHECK(contains(ok, "floatX=float32"));

  // The old variables still work, and GRAPHJIT_FLAGS wins over them.
  const std::string old = run_child("GRAPHJIT_JIT_CPU=haswell GRAPHJIT_DUMP_IR=/tmp/ir GRAPHJIT_DUMP_PASSES=1 "
                                    "GRAPHJIT_JIT_OPT_LEVEL=3 GRAPHJIT_PROFILE=1 GRAPHJIT_FLAGS=jit_opt_level=0");
  CHECK(contains(old, "profile=true,"));
  CHECK(contains(old, "dump_dir=/tmp/ir,"));
  CHECK(contains(old, "jit_cpu=haswell,"));
  CHECK(contains(old, "jit_opt_level=0,compile_threads=0,dump_passes=true,dump_ir=true"));

  const std::string bad = run_child("GRAPHJIT_FLAGS=floatX=float16");
  CHECK(contains(bad, "ERROR[GRAPHJIT_FLAGS=\"floatX=float16\": graphjit flag floatX=float16: the value must be one "
                      "of float64, float32]"));
  const std::string bad_old = run_child("GRAPHJIT_VECTOR_BITS=64");
  CHECK(contains(bad_old, "ERROR[GRAPHJIT_VECTOR_BITS (the old spelling of flag vector_bits)"));
}

TEST_CASE("flags_help lists every flag with its default") {
  const std::string help = flags_help();
  CHECK(contains(help, "mode: how functions run unless FunctionOptions::mode says otherwise; fast_run, fast_compile, "
                       "reference, debug (default: fast_run)\n"));
  CHECK(contains(help, "dump_dir: directory that receives dumps (empty: stderr); a directory (default: empty)\n"));
  for (const char* name : {"optimizer:", "optimizer_excluding:", "jit_cpu:", "nan_guard:"}) CHECK(contains(help, name));
}
