#include <chrono>
#include "codegen_test_support.hpp"
using namespace codegen_test;
TEST_CASE("smoke") {
  auto x = input(float64, {false, false}, "x");
  auto a = input(float64, {true, false}, "a");
  auto t = op(OpCode::Tanh, {op(OpCode::Mul, {x, a})});
  codegen::Cluster c{"smoke", {x, a}, {op(OpCode::Mul, {x, a})}, {}, {}};
  auto m = c.nodes[0];
  auto th = op(OpCode::Tanh, {m});
  c.nodes.push_back(th);
  c.outputs = {th};
  auto k = codegen::compile_kernels({c}, "smoke");
  Tensor xv = random_tensor({3, 37}, float64, -2, 2, 1), av = random_tensor({1, 37}, float64, -2, 2, 2);
  auto out = k[0].run({xv, av});
  auto ref = reference(c, {xv, av});
  check_close(out[0], ref[0], 4, 0, "tanh(x*a)");
  MESSAGE("compile ms " << k[0].module_compile_ms());
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<codegen::Cluster> many(10, c);
    auto t0 = std::chrono::steady_clock::now();
    auto ks = codegen::compile_kernels(many, "many");
    auto t1 = std::chrono::steady_clock::now();
    MESSAGE("10 kernels: llvm ms " << ks[0].module_compile_ms() << " total " << std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
}
