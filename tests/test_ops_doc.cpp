// docs/ops.md is generated from the op table, so it cannot drift: this test
// regenerates it and fails when the file differs. To rewrite the file after
// adding an op:   GRAPHJIT_WRITE_OPS_DOC=1 build/tests/test_ops_doc
#include <doctest/doctest.h>

#include "compiler/ir/op_info.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

using graphjit::ir::OpCode;
using graphjit::ir::OpKind;

constexpr OpCode kAllOps[] = {
#define GRAPHJIT_OP(Name, printed, kind, arity) OpCode::Name,
#include "compiler/ir/ops.def"
#undef GRAPHJIT_OP
};

// How Theano spells an op where it is not T.<graphjit's printed name>.
std::string theano_spelling(const std::string& name) {
  static const std::map<std::string, std::string> differs = {
      {"input", "T.scalar / T.vector / T.matrix / ..."},
      {"constant", "T.constant"},
      {"shared", "theano.shared"},
      {"add", "+, T.add"},
      {"sub", "-, T.sub"},
      {"mul", "*, T.mul"},
      {"true_div", "/, T.true_div"},
      {"int_div", "//, T.int_div"},
      {"mod", "%, T.mod"},
      {"pow", "**, T.pow"},
      {"neg", "-x, T.neg"},
      {"and", "&, T.and_"},
      {"or", "|, T.or_"},
      {"xor", "^, T.xor"},
      {"not", "~, T.invert"},
      {"switch", "T.switch, T.where"},
      {"cast", "T.cast, x.astype"},
      {"round_half_to_even", "T.round, T.round_half_to_even"},
      {"reciprocal", "T.inv, T.reciprocal"},
      {"erfinv", "T.erfinv"},
      {"softmax", "T.nnet.softmax"},
      {"log_softmax", "T.nnet.logsoftmax"},
      {"softmax_grad", "(softmax's gradient)"},
      {"categorical_crossentropy", "T.nnet.categorical_crossentropy"},
      {"to_one_hot", "T.extra_ops.to_one_hot"},
      {"gemm", "(inserted by the optimizer)"},
      {"dimshuffle", "x.dimshuffle"},
      {"shape", "x.shape"},
      {"shape_i", "x.shape[i]"},
      {"subtensor", "x[i], x[a:b:c]"},
      {"advanced_subtensor", "x[int arrays]"},
      {"inc_subtensor", "T.inc_subtensor, T.set_subtensor"},
      {"advanced_inc_subtensor", "T.inc_subtensor, T.set_subtensor (int arrays)"},
      {"print", "theano.printing.Print"},
      {"sigmoid", "T.nnet.sigmoid"},
      {"softplus", "T.nnet.softplus"},
      {"relu", "T.nnet.relu"},
      {"tensordot", "T.tensordot, T.dot (n-d), T.batched_dot, T.batched_tensordot"},
      {"matrix_inverse", "T.nlinalg.matrix_inverse"},
      {"det", "T.nlinalg.det"},
      {"eigh", "T.nlinalg.eigh"},
      {"solve", "T.slinalg.solve"},
      {"cholesky", "T.slinalg.cholesky"},
      {"cumsum", "T.extra_ops.cumsum, T.cumsum"},
      {"cumprod", "T.extra_ops.cumprod, T.cumprod"},
      {"permute_along_axis", "(sort's gradient)"},
      {"split", "T.split (one node per part)"},
      {"rebroadcast", "T.addbroadcast, T.unbroadcast, T.patternbroadcast"},
      {"custom", "theano.compile.ops.as_op, a theano.Op subclass"},
      {"solve_triangular", "T.slinalg.solve_lower_triangular, T.slinalg.solve_upper_triangular (PyTensor's solve_triangular)"},
  };
  const auto it = differs.find(name);
  return it != differs.end() ? it->second : "T." + name;
}

std::string how_it_runs(const graphjit::ir::OpInfo& info) {
  if (info.kind == OpKind::Leaf) return "a leaf (a call's argument, a constant, a shared value)";
  if (info.kind == OpKind::Elemwise) return "fused JIT kernel";
  if (info.fused_reduction) return "fused JIT kernel (reduction)";
  const std::string name = info.name;
  if (name == "dot" || name == "gemm" || name == "tensordot") return "BLAS (native)";
  if (name == "matrix_inverse" || name == "det" || name == "eigh" || name == "solve" || name == "cholesky" ||
      name == "solve_triangular")
    return "LAPACK (native)";
  if (info.native) return "native kernel";
  return "not compiled";
}

std::string generate() {
  std::ostringstream out;
  out << "# graphjit's ops\n\n"
      << "Generated from the op table (`compiler/ir/ops.def` and the records in `frontend/ops/`) by\n"
      << "`GRAPHJIT_WRITE_OPS_DOC=1 build/tests/test_ops_doc`; `test_ops_doc` fails when this file is out of date.\n"
      << "Builders are in `graphjit::tensor` (`T::`) unless the op is internal; composites written with these\n"
      << "ops (var, std, any, all, logsumexp, elu, relu(x, alpha), hard_sigmoid, softsign, mean, outer, ...) are\n"
      << "not listed.\n\n"
      << "Rop: the op has an R-operator (forward mode, `T::Rop`).\n\n"
      << "| op | Theano | gradient | Rop | compiled as |\n|---|---|---|---|---|\n";
  for (OpCode op : kAllOps) {
    const graphjit::ir::OpInfo& info = graphjit::ir::op_info(op);
    const bool bool_valued = info.kind == OpKind::Elemwise && info.elem_dtype == graphjit::ir::ElemDType::Bool;
    const char* grad = info.grad || info.grad_outputs ? "yes" : (bool_valued || info.kind == OpKind::Leaf ? "n/a" : "no");
    const char* rop = info.rop ? "yes" : (std::string(grad) == "yes" ? "no" : "n/a");
    if (std::string(info.name) == "custom") grad = rop = "if its OpDefinition gives one";
    out << "| `" << info.name << "` | `" << theano_spelling(info.name) << "` | " << grad << " | " << rop << " | "
        << how_it_runs(info) << " |\n";
  }
  return out.str();
}

}  // namespace

TEST_CASE("docs/ops.md is the table the op library generates") {
  const char* source = std::getenv("GRAPHJIT_SOURCE_DIR");
  REQUIRE(source != nullptr);
  const std::string path = std::string(source) + "/docs/ops.md";
  const std::string want = generate();
  if (std::getenv("GRAPHJIT_WRITE_OPS_DOC")) std::ofstream(path) << want;
  std::ifstream in(path);
  std::stringstream have;
  have << in.rdbuf();
  INFO("regenerate with GRAPHJIT_WRITE_OPS_DOC=1 build/tests/test_ops_doc");
  CHECK(have.str() == want);
}
