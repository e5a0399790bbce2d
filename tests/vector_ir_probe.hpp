// Single-op kernels for the vector math tests (tests/test_vector_math.cpp,
// test_vector_math_special.cpp, test_vector_math_inverse.cpp), and whether they are really vector code:
// compiled with the IR dumped, and the calls on their vector path counted.
#pragma once

#include "codegen_test_support.hpp"
#include "compiler/ir/op_info.hpp"
#include "scoped_config.hpp"
#include "temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace codegen_test {

// The kernel functions of a dumped module, each as the text from its
// `define` to its closing brace.
inline std::vector<std::string> kernel_bodies(const std::string& ir) {
  std::vector<std::string> bodies;
  for (std::size_t at = ir.find("\ndefine "); at != std::string::npos; at = ir.find("\ndefine ", at + 1))
    bodies.push_back(ir.substr(at, ir.find("\n}", at) - at));
  return bodies;
}

// Calls other than LLVM intrinsics, outside blocks named beyond_vector_range.
inline int scalar_calls_on_the_vector_path(const std::string& body) {
  std::istringstream lines(body);
  std::string line;
  bool in_fallback = false;
  int calls = 0;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != ' ') in_fallback = line.rfind("beyond_vector_range", 0) == 0;
    if (line.find(" call ") != std::string::npos && line.find("@llvm.") == std::string::npos && !in_fallback) ++calls;
  }
  return calls;
}

// One cluster y = op(x) per op, named after it.
inline std::vector<codegen::Cluster> single_op_clusters(DType dtype, const std::vector<OpCode>& ops) {
  std::vector<codegen::Cluster> clusters;
  for (OpCode code : ops) {
    std::vector<NodeRef> args;
    for (int k = 0; k < ir::op_info(code).arity; ++k) args.push_back(input(dtype, {false}, "x" + std::to_string(k)));
    NodeRef y = op(code, args);
    clusters.push_back({ir::op_info(code).name, args, {y}, {y}, {}});
  }
  return clusters;
}

// f(first[i]), or f(first[i], second[i]) for a binary op, by a single-op kernel.
template <class T>
std::vector<T> run_kernel(const exec::Kernel& kernel, const std::vector<T>& first, const std::vector<T>& second = {}) {
  std::vector<Tensor> inputs = {Tensor::from_vector(first)};
  if (!second.empty()) inputs.push_back(Tensor::from_vector(second));
  return kernel.run(inputs)[0].template to_vector<T>();
}

// The generated IR of kernels for `ops` at `dtype`, one body per op.
inline std::vector<std::string> generated_ir(DType dtype, const std::vector<OpCode>& ops) {
  graphjit::testing::TempDir dir;
  {
    graphjit::testing::ScopedConfig dumping("dump_ir=true,dump_dir=" + dir.path().string());
    // One module, so that one file holds the bodies in order.
    const int threads = codegen::compile_threads();
    codegen::set_compile_threads(1);
    try {
      codegen::compile_kernels(single_op_clusters(dtype, ops), "vector_path_probe");
    } catch (...) {
      codegen::set_compile_threads(threads);
      throw;
    }
    codegen::set_compile_threads(threads);
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".ll" && entry.path().stem().extension() != ".opt") {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      return kernel_bodies(text.str());
    }
  FAIL("no IR was dumped");
  return {};
}

}  // namespace codegen_test
