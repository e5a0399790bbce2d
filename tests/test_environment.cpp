// Options set in code bypass GRAPHJIT_FLAGS's parser (test_config.cpp tests
// that one): a bad value must still be an error naming the flag, on every use,
// and leave the JIT usable. This executable has one test: the JIT engine is
// process-wide and reads jit_cpu and vector_bits once, when it starts, so the
// bad values must be tried before that, in this order. (num_threads:
// test_thread_pool_env.cpp.)
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/codegen/cluster.hpp"
#include "compiler/codegen/kernel_compiler.hpp"
#include "compiler/jit/jit_engine.hpp"
#include "thrown_message.hpp"

namespace T = graphjit::tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {
graphjit::Function compile_function() {
  const auto x = T::vector("x");
  return graphjit::function({x}, {T::exp(x) + 1});  // a JIT kernel
}

// Straight to the JIT, past function()'s own check of the flags.
void compile_kernel() {
  using namespace graphjit;
  ir::NodeRef x = ir::make_input(ir::Type{float64, {false}}, "x", std::source_location::current());
  ir::NodeRef y = ir::make(ir::OpCode::Tanh, {x}, {});
  codegen::compile_kernels({codegen::Cluster{"k", {x}, {y}, {y}, {}}}, "environment test");
}
}  // namespace

TEST_CASE("bad vector_bits and jit_opt_level set in code are errors on each use") {
  graphjit::Config& flags = graphjit::config();
  // Read when the JIT engine starts (the first compile).
  for (int bad : {100, 1024, -128}) {
    INFO("vector_bits=", bad);
    flags.vector_bits = bad;
    for (int attempt = 0; attempt < 2; ++attempt) {
      CHECK(contains(thrown_message<std::invalid_argument>([] { compile_function(); }), "vector_bits"));
      CHECK(contains(thrown_message<std::invalid_argument>([] { compile_kernel(); }), "vector_bits"));
    }
  }
  flags.vector_bits = 128;
  // Read at every compile. Through compile_kernels the error used to be thrown
  // with the LLVM module outliving its context: the process crashed.
  for (int bad : {7, -1}) {
    INFO("jit_opt_level=", bad);
    flags.jit_opt_level = bad;
    CHECK(contains(thrown_message<std::invalid_argument>([] { compile_function(); }), "jit_opt_level"));
    CHECK(contains(thrown_message<std::invalid_argument>([] { compile_kernel(); }), "jit_opt_level"));
  }
  flags.jit_opt_level = 1;
  auto f = compile_function();
  CHECK(graphjit::jit::JitEngine::instance().host().vector_bits == 128);
  CHECK(f(graphjit::Tensor({0.0}))[0].to_vector<double>() == std::vector<double>{2.0});
}
