// The lowering stages one by one (compiler/lower/lower.hpp), the schedule's
// text form, the op records' declarations they read, the process-wide kernel
// cache, and the run-time guarantees the schedule makes: returned values are
// the caller's, and a failing call changes no shared variable.
#include <doctest/doctest.h>

#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>

#include "compiler/exec/buffer_pool.hpp"
#include "compiler/exec/executor.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/lower/lower.hpp"
#include "frontend/function_impl.hpp"

#include <algorithm>
#include <cmath>
#include <regex>
#include <string>

namespace T = graphjit::tensor;
using namespace graphjit;
using compiler::lower::Schedule;
using compiler::lower::Step;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

compiler::Program program_of(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs) {
  compiler::Program p;
  for (const Variable& v : inputs) p.inputs.push_back(v.node());
  for (const Variable& v : outputs) p.outputs.push_back(v.node());
  p.num_user_outputs = outputs.size();
  return p;
}

Schedule lower_all(const compiler::Program& p, bool fuse = true, bool reuse = true) {
  Schedule s = compiler::lower::build_steps(p, compiler::lower::fuse(ir::toposort(p.outputs), p.outputs, fuse));
  compiler::lower::choose_inplace(s);
  compiler::lower::order_steps(s);
  compiler::lower::plan_memory(s, reuse);
  return s;
}

// Node ids depend on what the process built before: "tanh.812" -> "tanh.N".
std::string without_ids(const std::string& text) { return std::regex_replace(text, std::regex(R"(\.\d+)"), ".N"); }

const Schedule& schedule_of(const Function& f) { return *f.impl()->compiled.schedule; }

}  // namespace

TEST_CASE("every op that is not a leaf declares how it is compiled") {
  for (int op = 0; op <= static_cast<int>(ir::OpCode::AdvancedIncSubtensor); ++op) {
    const ir::OpInfo& info = ir::op_info(static_cast<ir::OpCode>(op));
    if (info.kind == ir::OpKind::Leaf) continue;
    CAPTURE(info.name);
    const bool fused = info.kind == ir::OpKind::Elemwise || info.fused_reduction.has_value();
    CHECK((fused || static_cast<bool>(info.native)));
    CHECK((info.reference != nullptr));
  }
  CHECK(ir::op_info(ir::OpCode::Gemm).destroys == 2);
  CHECK(ir::op_info(ir::OpCode::DimShuffle).view_of == 0);
  CHECK(ir::op_info(ir::OpCode::Dot).view_of == -1);
}

TEST_CASE("build_steps: one kernel per cluster, one native step per other op, leaves as slots") {
  Variable x = T::matrix("x"), W = T::matrix("W");
  Variable y = T::tanh(T::dot(x, W) * 2.0 + 1.0);
  Variable a = T::argmax(y, 1);
  const compiler::Program p = program_of({x, W}, {y, a});
  Schedule s = compiler::lower::build_steps(p, compiler::lower::fuse(ir::toposort(p.outputs), p.outputs));
  int kernels = 0;
  std::vector<std::string> natives;
  for (const Step& step : s.steps) {
    if (step.kind == Step::Kind::Kernel) ++kernels;
    else natives.push_back(ir::op_info(step.node->op).name);
  }
  CHECK(kernels == 1);
  CHECK(std::count(natives.begin(), natives.end(), "dot") == 1);
  CHECK(std::count(natives.begin(), natives.end(), "argmax") == 1);
  CHECK(s.input_slots.size() == 2);
  CHECK(s.output_slots.size() == 2);
  // Without fusion, every elementwise node is a kernel of its own.
  Schedule unfused = compiler::lower::build_steps(p, compiler::lower::fuse(ir::toposort(p.outputs), p.outputs, false));
  CHECK(unfused.clusters.size() == 3);  // mul, add, tanh
}

TEST_CASE("choose_inplace: an update written in place runs after every other step") {
  SharedVariable W = shared(Tensor::zeros({3, 3}, float64), "W");
  Variable x = T::matrix("x");
  Variable loss = T::sum(T::dot(x, W));
  Function f = function({x}, {loss}, {.updates = {{W, W + 1.0}}});
  const Schedule& s = schedule_of(f);
  const Step& last = s.steps.back();
  REQUIRE(last.inplace.size() == 1);
  CHECK(last.inplace[0] >= 0);
  CHECK(s.node(last.inplace[0]).shared == W.state());
  CHECK(s.output_inplace.back());

  // Switched off by name, nothing is written in place.
  Function g = function({x}, {loss}, {.updates = {{W, W + 1.0}}, .excluded_passes = {"inplace"}});
  for (const Step& step : schedule_of(g).steps)
    for (int t : step.inplace) CHECK(t == -1);
}

TEST_CASE("order_steps: a cycle of in-place choices is undone, not run wrong") {
  SharedVariable A = shared(Tensor::full({4}, 1.0, float64), "A");
  SharedVariable B = shared(Tensor::full({4}, 2.0, float64), "B");
  // A <- B + A and B <- A * B: each update reads the other's old value.
  Function f = function({}, {}, {.updates = {{A, B + A}, {B, A * B}}});
  f();
  CHECK(A.get_value().to_vector<double>() == std::vector<double>(4, 3.0));
  CHECK(B.get_value().to_vector<double>() == std::vector<double>(4, 2.0));
}

TEST_CASE("plan_memory: buffers are shared by values whose lifetimes do not overlap") {
  Variable x = T::vector("x");
  Variable chain = x;
  // Reductions between the steps keep each elementwise step a kernel of its own.
  for (int i = 0; i < 6; ++i) chain = T::exp(chain - T::max(chain, std::vector<int>{0}, true).dimshuffle({-1}));
  const compiler::Program p = program_of({x}, {T::sum(chain)});
  const Schedule reused = lower_all(p, true, true);
  const Schedule separate = lower_all(p, true, false);
  CHECK(reused.num_buffers < separate.num_buffers);
  // The returned value gets fresh memory, not a pooled buffer.
  const Step& last = reused.steps.back();
  CHECK(last.buffer.back() == compiler::lower::kFresh);
}

TEST_CASE("a returned value is the caller's: fresh memory, never reused by the next call") {
  Variable x = T::vector("x");
  Function f = function({x}, {2.0 * x + 1.0});
  Tensor a = f(Tensor{1.0, 2.0, 3.0})[0];
  Tensor b = f(Tensor{4.0, 5.0, 6.0})[0];
  CHECK_FALSE(a.shares_storage_with(b));
  CHECK(a.to_vector<double>() == std::vector<double>{3, 5, 7});
  CHECK(b.to_vector<double>() == std::vector<double>{9, 11, 13});
  CHECK_FALSE(schedule_of(f).output_copy[0]);
  // A value living in an argument's memory is copied.
  Function g = function({x}, {x});
  Tensor arg{1.0, 2.0};
  CHECK(schedule_of(g).output_copy[0]);
  CHECK_FALSE(g(arg)[0].shares_storage_with(arg));
}

TEST_CASE("fresh kernel outputs are not zero-filled, and the kernel writes every element of them") {
  // 2^22 float64 = 32 MiB: blocks this large are recycled (runtime/tensor.cpp),
  // so the call's output lands in memory full of nan left by `garbage`.
  const std::int64_t n = std::int64_t{1} << 22;
  Variable x = T::vector("x");
  Variable rows = T::matrix("rows");
  Function f = function({x}, {2.0 * x + 1.0});
  Function g = function({rows}, {T::sum(rows, std::vector<int>{1}), T::exp(rows)});  // a reduction, a stored value
  const Tensor ones = Tensor::full({n}, 1.0, float64);
  for (int round = 0; round < 2; ++round) {
    { Tensor garbage = Tensor::full({n}, std::nan(""), float64); }  // back to the recycled blocks
    const std::vector<double> out = f(ones)[0].to_vector<double>();
    CHECK(std::count(out.begin(), out.end(), 3.0) == n);
    { Tensor garbage = Tensor::full({n}, std::nan(""), float64); }
    const std::vector<Tensor> got = g(ones.reshape({n / 4, 4}));
    const std::vector<double> sums = got[0].to_vector<double>(), exps = got[1].to_vector<double>();
    CHECK(std::count(sums.begin(), sums.end(), 4.0) == n / 4);
    CHECK(std::count_if(exps.begin(), exps.end(), [](double v) { return std::abs(v - std::exp(1.0)) < 1e-14; }) == n);
  }
}

TEST_CASE("a failing call leaves every shared variable as it was, in-place writes included") {
  SharedVariable W = shared(Tensor::full({2, 2}, 1.0, float64), "W");
  SharedVariable v = shared(Tensor{1.0, 2.0, 3.0}, "v");
  Variable i = T::scalar("i", int64);
  Variable x = T::matrix("x");
  // W's update is a gemm written into W; v's update indexes with i.
  Variable W_new = W - 0.5 * T::dot(x.T(), x);
  Function f = function({x, i}, {}, {.updates = {{W, W_new}, {v, T::set_subtensor(v[i], constant(0.0, float64))}}});
  const Tensor W_before = W.get_value(), v_before = v.get_value();
  const Tensor ones = Tensor::full({2, 2}, 1.0, float64);
  CHECK_THROWS(f(ones, std::int64_t{7}));  // index 7 out of range for v
  CHECK(W.get_value().equal(W_before));
  CHECK(v.get_value().equal(v_before));
  // A shape error in the in-place step itself: x with 3 columns cannot update a 2x2 W.
  CHECK_THROWS(f(Tensor::full({2, 3}, 1.0, float64), std::int64_t{0}));
  CHECK(W.get_value().equal(W_before));
  CHECK(v.get_value().equal(v_before));
  f(ones, std::int64_t{1});
  CHECK(W.get_value().to_vector<double>() == std::vector<double>(4, 0.0));
  CHECK(v.get_value().to_vector<double>() == std::vector<double>{1, 0, 3});
}

TEST_CASE("an update is never written in place into memory whose elements overlap") {
  // A stride-0 value: every element is the same memory.
  Tensor one = Tensor::full({1}, 1.0, float64);
  Tensor overlapping = one.broadcast_to({4});
  SharedVariable s = shared(Tensor::zeros({4}, float64), "s");
  s.set_value(overlapping, /*borrow=*/true);
  Function f = function({}, {}, {.updates = {{s, s + T::arange(4).astype(float64)}}});
  f();
  CHECK(s.get_value().to_vector<double>() == std::vector<double>{1, 2, 3, 4});
  CHECK(one.to_vector<double>() == std::vector<double>{1});
}

TEST_CASE("two functions of one graph share step buffers between calls (the seed's valid and test)") {
  using graphjit::exec::BufferPool;
  SharedVariable W = shared(Tensor::full({4, 3}, 0.25, float64), "W");
  auto model = [&](const Variable& x) {
    const Variable h = T::tanh(T::dot(x, W));
    return T::sum(T::exp(h - T::max(h, std::vector<int>{1}, true)));  // pooled buffers between the steps
  };
  Variable x = T::matrix("x"), y = T::matrix("y");
  Function valid = function({x}, {model(x)});
  Function test = function({y}, {model(y)});
  REQUIRE(schedule_of(valid).num_buffers > 0);
  Tensor rows = Tensor::full({1000, 4}, 0.5, float64);
  const double expected = valid(rows)[0].item<double>();
  const BufferPool::Stats after_valid = BufferPool::process().stats();
  CHECK(after_valid.idle_buffers >= schedule_of(valid).num_buffers);
  CHECK(test(rows)[0].item<double>() == expected);
  const BufferPool::Stats after_test = BufferPool::process().stats();
  CHECK(after_test.created == after_valid.created);  // test's call took valid's buffers
  CHECK(after_test.idle_bytes == after_valid.idle_bytes);
  // A larger call takes larger buffers; values stay right whichever function ran last.
  Tensor more = Tensor::full({3000, 4}, 0.5, float64);
  CHECK(test(more)[0].item<double>() == doctest::Approx(3 * expected).epsilon(1e-12));
  CHECK(valid(rows)[0].item<double>() == expected);
}

TEST_CASE("identical kernels are compiled once per process") {
  Variable x = T::matrix("x"), y = T::matrix("y");
  Function f = function({x, y}, {T::tanh(x * y + 1.0)});
  Variable a = T::matrix("a"), b = T::matrix("b");
  Function g = function({a, b}, {T::tanh(a * b + 1.0)});
  const Schedule& sf = schedule_of(f);
  const Schedule& sg = schedule_of(g);
  REQUIRE(sf.kernels.size() == 1);
  REQUIRE(sg.kernels.size() == 1);
  CHECK((sf.kernels[0].entry() == sg.kernels[0].entry()));
  // A different constant is a different kernel.
  Function h = function({a, b}, {T::tanh(a * b + 2.0)});
  CHECK((schedule_of(h).kernels[0].entry() != sf.kernels[0].entry()));
  Tensor ones = Tensor::full({2, 2}, 1.0, float64);
  for (double v : g(ones, ones)[0].to_vector<double>()) CHECK(v == doctest::Approx(std::tanh(2.0)).epsilon(1e-14));
}

TEST_CASE("debugprint of a function shows the schedule") {
  SharedVariable W = shared(Tensor::zeros({3, 2}, float64), "W");
  SharedVariable b = shared(Tensor::zeros({2}, float64), "b");
  Variable x = T::matrix("x");
  Variable h = T::tanh(T::dot(x, W) + b);
  Variable cost = T::sum(h * h);
  Function f = function({x}, {cost}, {.updates = {{W, W - 0.1 * T::grad(cost, W)}}});
  const std::string text = without_ids(debugprint(f));
  MESSAGE(text);
  CHECK(contains(text, "schedule: "));
  CHECK(contains(text, "native gemm.N = gemm{trans_a, alpha=-0.N, beta=1}(x, mul.N, W)"));
  CHECK(contains(text, "native dot.N = dot(x, W)"));
  CHECK(contains(text, "add.N = add(dot.N, dimshuffle.N)"));  // the bias, in the kernel with tanh
  CHECK(contains(text, "[in place of W]"));
  CHECK(contains(text, "update of W = gemm.N (written in place)"));
  CHECK(contains(text, "[view of b]"));
  CHECK(contains(text, "output 0 = sum.N (returned as computed)"));
}

TEST_CASE("the schedule of a small function, as text") {
  SharedVariable s = shared(Tensor::zeros({3}, float64), "s");
  Variable x = T::vector("x");
  Variable m = T::matrix("m");
  Variable y = T::exp(x) * 2.0;
  Function f = function({x, m}, {T::sum(y), m.T(), T::argmax(m, 1)}, {.updates = {{s, s + x}}});
  CHECK(without_ids(compiler::lower::print_schedule(schedule_of(f))) ==
        "schedule: 4 steps, 0 pooled buffers\n"
        "  0 kernel fused0(x)\n"
        "      exp.N = exp(x) <TensorType(float64, vector)>\n"
        "      mul.N = mul(exp.N, constant.N) <TensorType(float64, vector)>\n"
        "      sum.N = sum(mul.N) <TensorType(float64, scalar)> -> returned\n"
        "  1 native dimshuffle.N = dimshuffle{1,0}(m) <TensorType(float64, matrix)> [view of m]\n"
        "  2 native argmax.N = argmax{axis=1}(m) <TensorType(int64, vector)> -> returned\n"
        "  3 kernel fused1(s, x)\n"
        "      add.N = add(s, x) <TensorType(float64, vector)> [in place of s]\n"
        "output 0 = sum.N (returned as computed)\n"
        "output 1 = dimshuffle.N (copied)\n"
        "output 2 = argmax.N (returned as computed)\n"
        "update of s = add.N (written in place)\n");
}

TEST_CASE("nodes written out by lowering keep the user's source line") {
  Variable x = T::matrix("x");
  const int line = __LINE__ + 1;
  Variable p = T::nnet::softmax(x);
  Function f = function({x}, {p});
  const Schedule& s = schedule_of(f);
  int expanded = 0;
  for (const Step& step : s.steps)
    if (step.kind == Step::Kind::Kernel)
      for (const ir::NodeRef& n : s.clusters[step.cluster].nodes) {
        CHECK(std::string(n->where.file_name()).ends_with("test_schedule.cpp"));
        CHECK(n->where.line() == static_cast<unsigned>(line));
        ++expanded;
      }
  CHECK(expanded >= 3);  // exp, sub, true_div
}
