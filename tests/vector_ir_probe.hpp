// Single-op kernels for the vector math tests (tests/test_vector_math.cpp,
// test_vector_math_special.cpp), and whether they are really vector code:
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
    NodeRef x = input(dtype, {false}, "x");
    NodeRef y = op(code, {x});
    clusters.push_back({ir::op_info(code).name, {x}, {y}, {y}, {}});
  }
  return clusters;
}

// y = kernel(xs) for a single-op kernel.
template <class T> std::vector<T> run_kernel(const exec::Kernel& kernel, const std::vector<T>& xs) {
  return kernel.run({Tensor::from_vector(xs)})[0].template to_vector<T>();
}

// The generated IR of kernels for `ops` at `dtype`, one body per op.
inline std::vector<std::string> generated_ir(DType dtype, const std::vector<OpCode>& ops) {
  graphjit::testing::TempDir dir;
  {
    graphjit::testing::ScopedConfig dumping("dump_ir=true,dump_dir=" + dir.path().string());
    codegen::compile_kernels(single_op_clusters(dtype, ops), "vector_path_probe");
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
