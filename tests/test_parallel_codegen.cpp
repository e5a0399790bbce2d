// A function's new kernels compiled on several threads (codegen::set_compile_threads):
// the same machine code and results as on one thread, concurrent compiles
// from several user threads, and a failed compile that leaves the JIT usable.
#include "codegen_test_support.hpp"
#include "compiler/jit/jit_engine.hpp"
#include "scoped_config.hpp"
#include "temp_dir.hpp"
#include "thrown_message.hpp"

#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <thread>

using namespace codegen_test;

namespace {

// Twelve different kernels (elementwise chains and row sums) over the inputs
// a and b; `salt` goes into a compiled-in constant, so that callers that must
// not share cached kernels get kernels of their own.
std::vector<codegen::Cluster> many_clusters(double salt) {
  std::vector<codegen::Cluster> clusters;
  const OpCode unary[] = {OpCode::Tanh, OpCode::Exp, OpCode::Log1p, OpCode::Sin, OpCode::Sqrt, OpCode::Sigmoid};
  for (std::size_t i = 0; i < std::size(unary); ++i) {
    NodeRef a = input(float64, {false, false}, "a"), b = input(float64, {false, false}, "b");
    NodeRef c = scalar_constant(salt + static_cast<double>(i), float64, 2);
    NodeRef abs_a = op(OpCode::Abs, {a}), f_a = op(unary[i], {abs_a}), bc = op(OpCode::Mul, {b, c});
    NodeRef y = op(OpCode::Add, {f_a, bc});
    clusters.push_back({"chain" + std::to_string(i), {a, b}, {abs_a, f_a, bc, y}, {y}, {}});
    NodeRef abs_b = op(OpCode::Abs, {b}), f_b = op(unary[i], {abs_b}), fc = op(OpCode::Mul, {f_b, c});
    NodeRef s = reduce(OpCode::Sum, fc, {1});
    clusters.push_back({"sum" + std::to_string(i), {a, b}, {abs_b, f_b, fc}, {}, {s}});
  }
  return clusters;
}

std::vector<Tensor> arguments() {
  return {random_tensor({9, 37}, float64, -2, 2, 1), random_tensor({9, 37}, float64, -2, 2, 2)};
}

// Each kernel's outputs, in order.
std::vector<Tensor> run_all(const std::vector<codegen::Cluster>& clusters, const std::vector<exec::Kernel>& kernels) {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < clusters.size(); ++i) out.push_back(kernels[i].run(arguments())[0]);
  return out;
}

// Sets the compile thread count for a scope.
class ScopedCompileThreads {
 public:
  explicit ScopedCompileThreads(int threads) : saved_(codegen::compile_threads()) { codegen::set_compile_threads(threads); }
  ~ScopedCompileThreads() { codegen::set_compile_threads(saved_); }
  ScopedCompileThreads(const ScopedCompileThreads&) = delete;
  ScopedCompileThreads& operator=(const ScopedCompileThreads&) = delete;

 private:
  int saved_;
};

std::size_t files_with_extension(const std::filesystem::path& dir, const std::string& extension) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) n += entry.path().extension() == extension;
  return n;
}

// A module defining `symbol`, which calls a function nothing defines.
std::unique_ptr<llvm::Module> calls_missing_function(llvm::LLVMContext& context, const std::string& symbol) {
  auto module = std::make_unique<llvm::Module>(symbol, context);
  jit::JitEngine::instance().prepare(*module);
  llvm::IRBuilder<> b(context);
  auto* type = llvm::FunctionType::get(b.getVoidTy(), false);
  auto* f = llvm::Function::Create(type, llvm::Function::ExternalLinkage, symbol, *module);
  auto* missing = llvm::Function::Create(type, llvm::Function::ExternalLinkage, "graphjit_test_no_such_function", *module);
  b.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", f));
  b.CreateCall(missing);
  b.CreateRetVoid();
  return module;
}

}  // namespace

TEST_CASE("kernels compiled on one thread and on several give identical results, the same as the reference") {
  const std::vector<codegen::Cluster> clusters = many_clusters(0.5);
  std::vector<Tensor> one_thread;
  {
    ScopedCompileThreads one(1);
    one_thread = run_all(clusters, codegen::compile_kernels(clusters, "one_thread"));
  }  // the kernels are gone, so the cache does not serve the next compile
  for (int threads : {2, 3}) {
    INFO("compile_threads=", threads);
    testing::TempDir dir;
    ScopedCompileThreads several(threads);
    testing::ScopedConfig dumping("dump_ir=true,dump_dir=" + dir.path().string());
    const double before = jit::thread_llvm_times().wall_ms;
    const std::vector<Tensor> out = run_all(clusters, codegen::compile_kernels(clusters, "several_threads"));
    CHECK(jit::thread_llvm_times().wall_ms > before);  // compiled anew, not from the cache
    CHECK(files_with_extension(dir.path(), ".s") == static_cast<std::size_t>(threads));  // one module per thread
    for (std::size_t i = 0; i < clusters.size(); ++i) {
      INFO(clusters[i].name);
      CHECK(out[i].to_vector<double>() == one_thread[i].to_vector<double>());  // bit for bit
      check_close(out[i], reference(clusters[i], arguments()).back(), 4, 1e-12, clusters[i].name);
    }
  }
}

TEST_CASE("compile threads: 0 picks the hardware threads; more threads than kernels compile one module each") {
  const std::vector<codegen::Cluster> clusters = many_clusters(100);
  const std::vector<codegen::Cluster> three(clusters.begin(), clusters.begin() + 3);
  {
    ScopedCompileThreads hardware(0);
    CHECK(codegen::compile_threads() >= 1);
    CHECK(codegen::compile_threads() <= 8);
  }
  for (int threads : {0, 64}) {
    INFO("compile threads ", threads);
    ScopedCompileThreads setting(threads);
    testing::TempDir dir;
    testing::ScopedConfig dumping("dump_ir=true,dump_dir=" + dir.path().string());
    const std::vector<exec::Kernel> kernels = codegen::compile_kernels(three, "few_kernels");
    const std::size_t modules = files_with_extension(dir.path(), ".s");
    CHECK(modules >= 1);
    CHECK(modules <= three.size());
    if (threads == 64) CHECK(modules == three.size());
    for (std::size_t i = 0; i < three.size(); ++i)
      check_close(kernels[i].run(arguments())[0], reference(three[i], arguments()).back(), 4, 1e-12,
                  three[i].name);
  }
  CHECK_THROWS_AS(codegen::set_compile_threads(-1), std::invalid_argument);
}

TEST_CASE("the flag compile_threads sets the count; set_compile_threads overrides it") {
  const std::vector<codegen::Cluster> all = many_clusters(7.25);  // a salt of its own: no cached kernels
  const std::vector<codegen::Cluster> clusters(all.begin(), all.begin() + 3);
  ScopedCompileThreads unset(0);
  testing::TempDir dir;
  testing::ScopedConfig flag("compile_threads=3,dump_ir=true,dump_dir=" + dir.path().string());
  CHECK(codegen::compile_threads() == 3);
  codegen::compile_kernels(clusters, "flag_threads");
  CHECK(files_with_extension(dir.path(), ".s") == 3);
  ScopedCompileThreads override(1);
  CHECK(codegen::compile_threads() == 1);
}

TEST_CASE("several user threads compile at once, each on several compile threads") {
  ScopedCompileThreads two(2);
  constexpr int kUsers = 4;
  std::atomic<int> ready{0}, failures{0};
  std::vector<std::thread> users;
  for (int u = 0; u < kUsers; ++u)
    users.emplace_back([&, u] {
      ready.fetch_add(1);
      while (ready.load() < kUsers) std::this_thread::yield();  // start together
      try {
        // Users 0 and 1 share their kernels (through the cache or by
        // compiling them side by side); 2 and 3 have their own.
        const std::vector<codegen::Cluster> clusters = many_clusters(u < 2 ? 1000 : 2000 + u);
        const std::vector<exec::Kernel> kernels = codegen::compile_kernels(clusters, "user" + std::to_string(u));
        for (std::size_t i = 0; i < clusters.size(); ++i) {
          const std::vector<double> got = kernels[i].run(arguments())[0].to_vector<double>();
          const std::vector<double> want = reference(clusters[i], arguments()).back().to_vector<double>();
          for (std::size_t j = 0; j < got.size(); ++j)
            if (std::abs(got[j] - want[j]) > 1e-12 * (1 + std::abs(want[j]))) failures++;
        }
      } catch (...) {
        failures += 1000;
      }
    });
  for (std::thread& t : users) t.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("a module that fails to link or to verify throws a clear error and leaves the JIT usable") {
  jit::JitEngine& engine = jit::JitEngine::instance();
  {
    llvm::LLVMContext context;
    const std::string symbol = engine.unique_module_name("missing_callee");
    std::unique_ptr<llvm::Module> module = calls_missing_function(context, symbol);
    std::vector<jit::ObjectCode> objects;
    objects.push_back(engine.compile_object(*module));
    const std::string message =
        testing::thrown_message<std::runtime_error>([&] { engine.load(std::move(objects), symbol, {symbol}); });
    CHECK(testing::contains(message, "cannot find '" + symbol + "'"));
  }
  {
    llvm::LLVMContext context;
    llvm::Module module("no_terminator", context);
    engine.prepare(module);
    auto* f = llvm::Function::Create(llvm::FunctionType::get(llvm::Type::getVoidTy(context), false),
                                     llvm::Function::ExternalLinkage, "no_terminator", module);
    llvm::BasicBlock::Create(context, "entry", f);  // a block must end in a terminator
    const std::string message = testing::thrown_message<std::logic_error>([&] { engine.compile_object(module); });
    CHECK(testing::contains(message, "invalid LLVM IR for module 'no_terminator'"));
  }
  // Both failures behind, kernels still compile on several threads.
  ScopedCompileThreads two(2);
  const std::vector<codegen::Cluster> clusters = many_clusters(3000);
  const std::vector<exec::Kernel> kernels = codegen::compile_kernels(clusters, "after_failures");
  for (std::size_t i = 0; i < clusters.size(); ++i)
    check_close(kernels[i].run(arguments())[0], reference(clusters[i], arguments()).back(), 4,
                1e-12, clusters[i].name);
}
