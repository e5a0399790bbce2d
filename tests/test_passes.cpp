// The optimizer's framework and pipeline: the rule engine, merge, constant
// folding, and optimize() with modes, excluded passes and dumps.
#include "test_passes_support.hpp"

#include "compiler/passes/optimize.hpp"
#include "compiler/passes/pattern.hpp"
#include "scoped_config.hpp"
#include "thrown_message.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>

using namespace graphjit;
using namespace graphjit::testing;
namespace passes = graphjit::compiler::passes;

namespace {

// exp(x) -> x as float32: a rule that forgets the type.
ir::NodeRef exp_to_float32(const ir::NodeRef& n) {
  if (n->op != OpCode::Exp) return nullptr;
  return passes::as_dtype(n->inputs[0], float32, *n);
}
// Two rules that undo each other.
ir::NodeRef neg_to_mul(const ir::NodeRef& n) {
  if (n->op != OpCode::Neg) return nullptr;
  const ir::NodeRef minus_one = ir::make_constant(Tensor::scalar(-1.0), n->where);
  return passes::make_like(*n, OpCode::Mul, {n->inputs[0], passes::dimshuffle(minus_one, {-1}, *n)});
}
ir::NodeRef mul_to_neg(const ir::NodeRef& n) {
  if (n->op != OpCode::Mul || !passes::is_scalar_constant(n->inputs[1], -1)) return nullptr;
  return passes::make_like(*n, OpCode::Neg, {n->inputs[0]});
}
// tanh(x) -> tanh(x) * 1: a rule that would apply again inside its own replacement.
ir::NodeRef times_one(const ir::NodeRef& n) {
  if (n->op != OpCode::Tanh) return nullptr;
  const ir::NodeRef one = ir::make_constant(Tensor::scalar(1.0), n->where);
  return passes::make_like(*n, OpCode::Mul, {n, passes::dimshuffle(one, {-1}, *n)});
}

compiler::Program program_of(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs) {
  compiler::Program p;
  for (const Variable& v : inputs) p.inputs.push_back(v.node());
  p.outputs = roots(outputs);
  p.num_user_outputs = outputs.size();
  return p;
}

compiler::CompileOptions with_mode(Mode mode, std::vector<std::string> excluded = {}) {
  compiler::CompileOptions options;
  options.mode = mode;
  options.excluded_passes = std::move(excluded);
  return options;
}

// Captures what the code under test writes to std::cerr.
class CerrCapture {
 public:
  CerrCapture() : saved_(std::cerr.rdbuf(buffer_.rdbuf())) {}
  ~CerrCapture() { std::cerr.rdbuf(saved_); }
  std::string text() const { return buffer_.str(); }

 private:
  std::ostringstream buffer_;
  std::streambuf* saved_;
};

}  // namespace

// --- the rule engine -------------------------------------------------------------

TEST_CASE("apply_rules rewrites to a fixpoint and rebuilds the users of replaced nodes") {
  auto x = T::vector("x");
  // neg(neg(neg(neg(x)))) needs two rounds of neg_neg; exp(...) must be rebuilt on x.
  auto y = T::exp(-(-(-(-x))));
  const Graph after = rewrite_and_check(passes::canonicalize, {y}, {{x, uniform({5}, -2, 2)}});
  CHECK(count_op(after, OpCode::Neg) == 0);
  REQUIRE(after[0]->op == OpCode::Exp);
  CHECK(after[0]->inputs[0] == x.node());
}

TEST_CASE("apply_rules shares untouched nodes and returns the same graph when no rule fires") {
  auto x = T::matrix("x");
  auto untouched = T::tanh(x);
  auto y = untouched * 1.0;
  const Graph before = roots({y, untouched});
  const Graph after = passes::canonicalize(before);
  CHECK(after[0] == untouched.node());
  CHECK(after[1] == untouched.node());
  CHECK(passes::canonicalize(after) == after);
}

TEST_CASE("a rule that changes the type is reported by name") {
  auto x = T::vector("x");
  const passes::Rule rules[] = {{"exp_to_float32", exp_to_float32}};
  const std::string message =
      thrown_message<std::logic_error>([&] { passes::apply_rules(roots({T::exp(x)}), rules); });
  CHECK(contains(message, "exp_to_float32"));
  CHECK(contains(message, "float32"));
}

TEST_CASE("rules that undo each other are reported instead of looping, by name") {
  auto x = T::vector("x");
  const passes::Rule rules[] = {{"neg_to_mul", neg_to_mul}, {"mul_to_neg", mul_to_neg}};
  const std::string message = thrown_message<std::logic_error>([&] { passes::apply_rules(roots({-x}), rules); });
  CHECK(contains(message, "undo each other"));
  CHECK(contains(message, "'neg_to_mul'"));
  CHECK(contains(message, "'mul_to_neg'"));
  const passes::Rule growing[] = {{"times_one", times_one}};
  CHECK(contains(thrown_message<std::logic_error>([&] { passes::apply_rules(roots({T::tanh(x)}), growing); }),
                 "undo each other"));
}

TEST_CASE("a length is followed to its source through a graph of any depth") {
  // length_from_inputs moves h.shape(d) one node down per rewrite: three
  // rewrites of one node per layer here. A fixed bound of 100 rewrites per
  // node called this "two rules undo each other" from 34 layers on (the
  // 64-layer MLP of issue 7).
  auto x = T::matrix("x");
  auto w = T::matrix("w");
  Variable h = x;
  for (int layer = 0; layer < 300; ++layer) h = T::tanh(T::dot(h, w) + 1.0);
  const Inputs in{{x, uniform({2, 3}, -1, 1, 1)}, {w, uniform({3, 3}, -0.5, 0.5, 2)}};
  const Graph after = rewrite_and_check(passes::canonicalize, {h.shape(0), h.shape(1)}, in);
  REQUIRE(after[0]->op == OpCode::ShapeI);
  CHECK(after[0]->inputs[0] == x.node());
  REQUIRE(after[1]->op == OpCode::ShapeI);
  CHECK(after[1]->inputs[0] == w.node());
}

TEST_CASE("the lengths of every layer of a deep graph cost work linear in its depth") {
  // Each h.shape(0) follows the same path down to x. Walking it once per
  // layer built depth^2 / 2 nodes (4095 here); a path already walked is
  // remembered, so each layer adds a few.
  constexpr int kDepth = 90;
  auto x = T::matrix("x");
  Variable h = x;
  std::vector<Variable> lengths;
  for (int layer = 0; layer < kDepth; ++layer) {
    h = T::tanh(h);
    lengths.push_back(h.shape(0));
  }
  auto newest_id = [] { return ir::make_constant(Tensor::scalar(0.0), std::source_location::current())->id; };
  const std::uint64_t before = newest_id();
  const Graph after = passes::canonicalize(roots(lengths));
  const std::uint64_t built = newest_id() - before - 1;
  CHECK(built <= 4 * kDepth);
  for (const ir::NodeRef& length : after) {
    REQUIRE(length->op == OpCode::ShapeI);
    CHECK(length->inputs[0] == x.node());
  }
}

TEST_CASE("a new node takes the name and source line of the named node it replaces; old nodes keep theirs") {
  auto a = T::vector("a");
  auto b = T::vector("b");
  auto diff = named(a + (-b), "diff");  // becomes a new sub node
  auto same = named(a * 1.0, "same");   // becomes a itself
  const Graph after = passes::canonicalize(roots({diff, same}));
  REQUIRE(after[0]->op == OpCode::Sub);
  CHECK(after[0]->name == "diff");
  CHECK(after[0]->where.line() == diff.node()->where.line());
  CHECK(after[1] == a.node());
  CHECK(after[1]->name == "a");
}

TEST_CASE("use_count counts the users of a node while rules run") {
  auto x = T::matrix("x");
  auto shared_product = T::dot(x, x);
  // The product is read twice, so no gemm may absorb it (it would run twice).
  auto y = shared_product + x;
  auto z = T::tanh(shared_product);
  const Graph after = rewrite_and_check(passes::insert_gemm, {y, z}, {{x, uniform({3, 3}, -1, 1)}});
  CHECK(count_op(after, OpCode::Gemm) == 0);
  CHECK(count_op(after, OpCode::Dot) == 1);
}

// --- merge ---------------------------------------------------------------------------

TEST_CASE("merge makes equal subexpressions one node") {
  auto x = T::matrix("x");
  auto w = T::matrix("w");
  auto y = T::tanh(T::dot(x, w)) + T::tanh(T::dot(x, w));
  const Graph before = roots({y});
  CHECK(count_op(before, OpCode::Dot) == 2);
  const Graph after = rewrite_and_check(passes::merge, {y}, {{x, uniform({3, 4}, -1, 1)}, {w, uniform({4, 2}, -1, 1, 2)}});
  CHECK(count_op(after, OpCode::Dot) == 1);
  CHECK(count_op(after, OpCode::Tanh) == 1);
  CHECK(after[0]->inputs[0] == after[0]->inputs[1]);
}

TEST_CASE("merge joins equal constants but keeps different bits, dtypes, attrs and inputs apart") {
  auto x = T::vector("x");
  auto y = T::vector("y");
  auto two_a = constant(2.0, float64), two_b = constant(2.0, float64);
  auto sum_two = x * two_a + x * two_b;  // one product after merge
  const Graph merged = passes::merge(roots({sum_two}));
  CHECK(count_op(merged, OpCode::Mul) == 1);
  CHECK(count_op(merged, OpCode::Constant) == 1);

  // 0.0 and -0.0 are equal numbers with different bits: 1 / -0.0 is -inf.
  auto zeros = x * constant(0.0, float64) + x * constant(-0.0, float64);
  CHECK(count_op(passes::merge(roots({zeros})), OpCode::Mul) == 2);
  auto dtypes = x * constant(2.0, float64) + T::cast(T::cast(x, float32) * constant(2.0, float32), float64);
  CHECK(count_op(passes::merge(roots({dtypes})), OpCode::Constant) == 2);
  auto m = T::matrix("m");
  auto axes = T::sum(m, std::vector<int>{0}) + T::sum(m, std::vector<int>{1});
  CHECK(count_op(passes::merge(roots({axes})), OpCode::Sum) == 2);
  auto inputs = T::exp(x) + T::exp(y);  // x and y are different inputs
  CHECK(count_op(passes::merge(roots({inputs})), OpCode::Exp) == 2);
}

TEST_CASE("merge never joins two inputs with the same name") {
  auto x1 = T::vector("x");
  auto x2 = T::vector("x");
  const Graph after = passes::merge(roots({x1 + x2}));
  CHECK(after[0]->inputs[0] != after[0]->inputs[1]);
}

TEST_CASE("merge shares nodes across outputs and update values") {
  auto x = T::vector("x");
  const Graph after = passes::merge(roots({T::exp(x) * 2, T::exp(x) + 1}));
  CHECK(after[0]->inputs[0] == after[1]->inputs[0]);
}

// --- constant folding ------------------------------------------------------------------

TEST_CASE("constant folding computes subgraphs of constants") {
  auto x = T::vector("x");
  auto c = constant(Tensor({1.0, 2.0, 3.0}));
  auto y = x * T::exp(c + 1.0) + T::sum(c);
  const Graph after = rewrite_and_check(passes::fold_constants, {y}, {{x, uniform({3}, -1, 1)}});
  CHECK(count_op(after, OpCode::Exp) == 0);
  CHECK(count_op(after, OpCode::Sum) == 0);
  CHECK(count_nodes(after) == 5);  // x, exp(c + 1), mul, sum(c) (as a length-1 constant), add
}

TEST_CASE("constant folding keeps allocs, huge results and kernels that fail") {
  auto n = constant(3, int64);
  auto zeros = T::zeros_like(constant(Tensor({1.0, 2.0})));
  CHECK(count_op(passes::fold_constants(roots({zeros})), OpCode::Alloc) == 1);
  CHECK(count_op(passes::fold_constants(roots({T::arange(3000000)})), OpCode::Arange) == 1);
  CHECK(count_op(passes::fold_constants(roots({T::arange(n)})), OpCode::Arange) == 0);
  // 3 elements cannot be reshaped to 2: the error is left for the call to report.
  auto bad = T::reshape(constant(Tensor({1.0, 2.0, 3.0})), {constant(2, int64)});
  const Graph kept = passes::fold_constants(roots({bad}));
  CHECK(count_op(kept, OpCode::Reshape) == 1);
  CHECK_THROWS_AS(evaluate(kept, {}), ShapeError);
}

TEST_CASE("constant folding keeps the node's type for length-1 results") {
  auto c = constant(Tensor({5.0}));
  // shape(0) is not the constant 1, so the reshape's type says "not broadcastable".
  auto r = T::reshape(c, {c.shape(0)});
  CHECK(r.broadcastable() == std::vector<bool>{false});
  const Graph after = passes::fold_constants(roots({r}));
  REQUIRE(after[0]->op == OpCode::Constant);
  CHECK(after[0]->type == r.node()->type);
  CHECK(after[0]->value.to_vector<double>() == std::vector<double>{5.0});
}

TEST_CASE("a user of a folded dim keeps its type") {
  auto x = T::vector("x");
  auto one = constant(Tensor({7.0}));
  // The reshape's dim becomes the constant 1 after folding; its type must not change.
  auto r = T::reshape(x, {one.shape(0)});
  const Graph after = rewrite_and_check(passes::fold_constants, {r * 2}, {{x, uniform({1}, -1, 1)}});
  CHECK(after[0]->type == (r * 2).node()->type);
}

// --- the pipeline ------------------------------------------------------------------------

TEST_CASE("optimize runs no rewrite in reference mode, merge in fast_compile, all in fast_run and debug") {
  auto x = T::vector("x");
  auto y = T::exp(x) * 1.0 + T::exp(x);
  const compiler::Program program = program_of({x}, {y});

  CHECK(passes::optimize(program, with_mode(Mode::reference)).outputs == program.outputs);

  const Graph fast_compile = passes::optimize(program, with_mode(Mode::fast_compile)).outputs;
  CHECK(count_op(fast_compile, OpCode::Exp) == 1);
  CHECK(count_op(fast_compile, OpCode::Mul) == 1);

  for (Mode mode : {Mode::fast_run, Mode::debug}) {
    const Graph all = passes::optimize(program, with_mode(mode)).outputs;
    CHECK(count_op(all, OpCode::Exp) == 1);
    CHECK(count_op(all, OpCode::Mul) == 0);
    check_close(evaluate(program.outputs, {{x, uniform({4}, -1, 1)}}), evaluate(all, {{x, uniform({4}, -1, 1)}}),
                1e-15);
  }
}

TEST_CASE("excluded_passes switches passes off by name; unknown names are an error listing the passes") {
  auto x = T::vector("x");
  const compiler::Program program = program_of({x}, {T::exp(x) * 1.0 + T::exp(x)});
  const Graph without = passes::optimize(program, with_mode(Mode::fast_run, {"canonicalize"})).outputs;
  CHECK(count_op(without, OpCode::Mul) == 1);
  CHECK(count_op(without, OpCode::Exp) == 1);
  const Graph no_merge = passes::optimize(program, with_mode(Mode::fast_run, {"merge"})).outputs;
  CHECK(count_op(no_merge, OpCode::Exp) == 2);

  const std::string message = thrown_message<FunctionError>(
      [&] { passes::optimize(program, with_mode(Mode::fast_run, {"canonicalise"})); });
  CHECK(contains(message, "'canonicalise'"));
  CHECK(contains(message, "merge, constant_folding, canonicalize, stabilize, gemm"));
  // Checked in every mode, so a typo does not hide until the mode changes.
  CHECK_THROWS_AS(passes::optimize(program, with_mode(Mode::reference, {"nope"})), FunctionError);
}

TEST_CASE("pass_names lists each pass once, in pipeline order") {
  CHECK(passes::pass_names() ==
        std::vector<std::string>{"merge", "constant_folding", "canonicalize", "stabilize", "gemm"});
}

TEST_CASE("the dump_passes flag prints the graph after each pass that changed it") {
  auto x = T::vector("x");
  const compiler::Program program = program_of({x}, {T::exp(x) * 1.0});
  std::string text;
  {
    testing::ScopedConfig dumping("dump_passes=true");
    CerrCapture capture;
    passes::optimize(program, with_mode(Mode::fast_run));
    text = capture.text();
  }
  CHECK(contains(text, "before the passes"));
  CHECK(contains(text, "after pass 'canonicalize'"));
  CHECK(!contains(text, "after pass 'stabilize'"));  // nothing to stabilize
  CHECK(!contains(text, "after pass 'gemm'"));
  CHECK(contains(text, "exp"));

  CerrCapture quiet;
  passes::optimize(program, with_mode(Mode::fast_run));
  CHECK(quiet.text().empty());
}

TEST_CASE("functions compiled in fast_run give the reference results") {
  auto x = T::matrix("x");
  auto w = shared(uniform({4, 3}, -1, 1, 7), "w");
  auto y = T::log(T::softmax(T::dot(x, w) * 1.0));
  auto f_ref = function({x}, {y}, {.mode = Mode::reference});
  auto f_opt = function({x}, {y}, {.mode = Mode::fast_run});
  const Tensor value = uniform({5, 4}, -3, 3, 9);
  check_close(f_ref(value), f_opt(value), 1e-12);
}

TEST_CASE("a function over a graph 400 nodes deep compiles and gives the reference's result") {
  // The mean reads h's lengths through every node of the chain (issue 7: a
  // 64-layer MLP did not compile). Elementwise, so it stays one kernel.
  auto x = T::matrix("x");
  Variable h = x;
  for (int layer = 0; layer < 200; ++layer) h = h * 0.9 + 0.1;
  auto f_ref = function({x}, {T::mean(h)}, {.mode = Mode::reference});
  auto f_opt = function({x}, {T::mean(h)}, {.mode = Mode::fast_run});
  const Tensor value = uniform({6, 5}, -2, 2, 3);
  check_close(f_ref(value), f_opt(value), 1e-12);
}
