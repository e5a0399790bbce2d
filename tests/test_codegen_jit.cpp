// The JIT engine and its surroundings: IR dumps, module lifetime, compile
// time, the thread pool.
#include "codegen_test_support.hpp"
#include "compiler/jit/ir_dump.hpp"
#include "compiler/jit/jit_engine.hpp"
#include "compiler/exec/thread_pool.hpp"
#include "scoped_config.hpp"
#include "temp_dir.hpp"

#include <atomic>
#include <thread>

using namespace codegen_test;

namespace {

codegen::Cluster tanh_cluster(const std::string& name) {
  NodeRef x = input(float64, {false}, "x");
  NodeRef y = op(OpCode::Tanh, {x});
  return {name, {x}, {y}, {y}, {}};
}

}  // namespace

TEST_CASE("the host target is described") {
  const jit::HostTarget& host = jit::JitEngine::instance().host();
  CHECK(!host.cpu.empty());
  CHECK((host.vector_bits == 128 || host.vector_bits == 256 || host.vector_bits == 512));
}

TEST_CASE("dump_ir with dump_dir writes each module's IR, optimized IR and assembly to the directory") {
  testing::TempDir dir;
  {
    testing::ScopedConfig dumping("dump_ir=true,dump_dir=" + dir.path().string());
    codegen::compile_kernels({tanh_cluster("dumped")}, "dump test");
  }
  {
    testing::ScopedConfig not_dumping("dump_ir=false,dump_dir=" + dir.path().string());
    codegen::compile_kernels({tanh_cluster("not_dumped")}, "no dump");
  }

  CHECK(dir.entry_count() == 3);
  std::string stem;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".s") stem = entry.path().stem().string();
  REQUIRE(stem.rfind("dump_test.", 0) == 0);  // the module name, sanitized and made unique
  const std::string generated = testing::read_bytes(dir.file(stem + ".ll"));
  const std::string optimized = testing::read_bytes(dir.file(stem + ".opt.ll"));
  const std::string assembly = testing::read_bytes(dir.file(stem + ".s"));
  CHECK(generated.find("define void @" + stem + ".k0.dumped(") != std::string::npos);
  CHECK(optimized.find(stem + ".k0.dumped") != std::string::npos);
  CHECK(assembly.find(stem + ".k0.dumped") != std::string::npos);
}

TEST_CASE("kernels keep their code alive; dropped modules are unloaded without disturbing others") {
  std::vector<exec::Kernel> kept;
  for (int i = 0; i < 5; ++i) {
    std::vector<exec::Kernel> batch = codegen::compile_kernels({tanh_cluster("a"), tanh_cluster("b")}, "lifetime");
    kept.push_back(batch[1]);
  }  // the batches' other kernels go, their modules stay while `kept` holds them
  const Tensor x = random_tensor({100}, float64, -3, 3, 1);
  const Tensor expected = reference(tanh_cluster("check"), {x})[0];
  for (const exec::Kernel& k : kept) check_close(k.run({x})[0], expected, 5, 0, "kept kernel");
  kept.erase(kept.begin(), kept.begin() + 4);
  check_close(kept[0].run({x})[0], expected, 5, 0, "survivor");
}

// How long a module of kernels takes to compile is measured by
// benchmarks/bench_kernels ("compile N kernels in one module"), not asserted
// here: a time limit fails under sanitizers and on a loaded machine.

TEST_CASE("the thread pool runs every task exactly once, also when called concurrently or from a task") {
  exec::ThreadPool& pool = exec::ThreadPool::global();
  for (int n : {0, 1, 2, 7, 100}) {
    std::vector<std::atomic<int>> runs(static_cast<std::size_t>(n));
    pool.run(n, [&](int i) { runs[static_cast<std::size_t>(i)]++; });
    for (const auto& r : runs) CHECK(r.load() == 1);
  }
  std::atomic<int> inner{0};
  pool.run(4, [&](int) { pool.run(3, [&](int) { inner++; }); });
  CHECK(inner.load() == 12);

  std::atomic<int> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) pool.run(5, [&](int) { total++; });
    });
  for (auto& c : callers) c.join();
  CHECK(total.load() == 4 * 50 * 5);
}
