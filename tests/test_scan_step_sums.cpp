// BPTT's sums over steps after the loop (frontend/ops/scan_step_sums.hpp):
// dW_hh = sum_t h_{t-1}^T dpre_t is one GEMM over the stacked histories and
// db_h = sum over steps and rows of dpre, instead of accumulator states that
// pay a GEMM per step. Checked on the backward loop's structure and against
// finite differences and the reference, truncated or not.
#include <doctest/doctest.h>

#include "uniform_tensor.hpp"

#include "compiler/ir/graph.hpp"
#include "compiler/ir/scan_body.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <string>

namespace T = graphjit::tensor;
using graphjit::ScanStep;
using graphjit::Tensor;
using graphjit::Variable;
using Args = std::vector<Variable>;
using graphjit::testing::uniform_tensor;

namespace {

struct Rnn {
  Variable X = T::tensor3("X"), h0 = T::matrix("h0"), Wx = T::matrix("Wx"), Wh = T::matrix("Wh"), b = T::vector("b");
  std::vector<Variable> grads;
  explicit Rnn(int truncate = -1) {
    auto r = graphjit::scan(
        [&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[0], Wx) + T::dot(a[1], Wh) + b); },
        {.sequences = {X}, .outputs_info = {h0}, .truncate_gradient = truncate});
    grads = graphjit::grad(T::sum(T::sqr(r.outputs[0])), {Wx, Wh, b, h0, X});
  }
};

// The inner inputs' names of the backward loop in `grads`.
std::vector<std::string> backward_inputs(const std::vector<Variable>& grads) {
  std::vector<graphjit::ir::NodeRef> roots;
  for (const Variable& g : grads) roots.push_back(g.node());
  for (const auto& n : graphjit::ir::toposort(roots))
    if (n->op == graphjit::ir::OpCode::Scan && n->attrs.scan->name == "scan_grad") {
      std::vector<std::string> names;
      for (const auto& in : n->attrs.scan->inner_inputs) names.push_back(in->name);
      return names;
    }
  return {};
}

}  // namespace

TEST_CASE("an RNN's backward loop keeps no accumulator for W_hh and b_h: their sums come after the loop") {
  Rnn rnn;
  const auto names = backward_inputs(rnn.grads);
  REQUIRE(!names.empty());
  for (const std::string& name : names) CHECK(name.find("_grad_sum") == std::string::npos);
}

TEST_CASE("the sums after the loop agree with the reference and finite differences, truncated or not") {
  for (int truncate : {-1, 3}) {
    CAPTURE(truncate);
    Rnn rnn(truncate);
    const std::vector<Tensor> args{uniform_tensor({6, 4, 3}, 1, 1), uniform_tensor({4, 5}, 2), uniform_tensor({3, 5}, 3), uniform_tensor({5, 5}, 4),
                                   uniform_tensor({5}, 5)};
    auto run = [&](graphjit::Mode mode) {
      return graphjit::function({rnn.X, rnn.h0, rnn.Wx, rnn.Wh, rnn.b}, rnn.grads, {.mode = mode})(
          args[0], args[1], args[2], args[3], args[4]);
    };
    const auto ref = run(graphjit::Mode::reference), jit = run(graphjit::Mode::fast_run);
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const auto r = ref[i].to_vector<double>(), j = jit[i].to_vector<double>();
      REQUIRE(r.size() == j.size());
      for (std::size_t k = 0; k < r.size(); ++k) CHECK(j[k] == doctest::Approx(r[k]).epsilon(1e-10));
    }
  }
  graphjit::verify_grad(
      [](const Args& in) {
        auto r = graphjit::scan(
            [&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[0], in[2]) + T::dot(a[1], in[3]) + in[4]); },
            {.sequences = {in[0]}, .outputs_info = {in[1]}});
        return r.outputs[0];
      },
      {uniform_tensor({6, 2, 3}, 11), uniform_tensor({2, 4}, 12), uniform_tensor({3, 4}, 13), uniform_tensor({4, 4}, 14), uniform_tensor({4}, 15)});
}

TEST_CASE("a vector state (no batch) keeps its accumulator: an outer product per step is not deferred") {
  auto x = T::matrix("x");
  auto h0 = T::vector("h0");
  auto W = T::matrix("W");
  auto r = graphjit::scan([&](const Args& a) -> ScanStep { return T::tanh(a[0] + T::dot(a[1], W)); },
                          {.sequences = {x}, .outputs_info = {h0}});
  const std::vector<Variable> g{graphjit::grad(T::sum(r.outputs[0]), W)};
  bool accumulates = false;
  for (const std::string& name : backward_inputs(g)) accumulates = accumulates || name.find("_grad_sum") != std::string::npos;
  CHECK(accumulates);
  graphjit::verify_grad(
      [](const Args& in) {
        return graphjit::scan([&](const Args& a) -> ScanStep { return T::tanh(a[0] + T::dot(a[1], in[2])); },
                              {.sequences = {in[0]}, .outputs_info = {in[1]}})
            .outputs[0];
      },
      {uniform_tensor({5, 3}, 21), uniform_tensor({3}, 22), uniform_tensor({3, 3}, 23)});
}

TEST_CASE("truncated to k steps, the sums after the loop equal the gradient of the last k steps from a constant state") {
  // Truncated BPTT over the last k of n steps is the full gradient of the
  // loss over those k steps run from h_{n-k-1} held constant.
  const int n = 6, k = 3;
  Rnn truncated(k);
  auto r = graphjit::scan(
      [&](const Args& a) -> ScanStep {
        return T::tanh(T::dot(a[0], truncated.Wx) + T::dot(a[1], truncated.Wh) + truncated.b);
      },
      {.sequences = {truncated.X}, .outputs_info = {truncated.h0}});
  auto tail = graphjit::scan(
      [&](const Args& a) -> ScanStep {
        return T::tanh(T::dot(a[0], truncated.Wx) + T::dot(a[1], truncated.Wh) + truncated.b);
      },
      {.sequences = {T::subtensor(truncated.X, {T::slice(n - k, n)})},
       .outputs_info = {graphjit::disconnected_grad(r.outputs[0][n - k - 1])}});
  const auto want = graphjit::grad(T::sum(T::sqr(tail.outputs[0])), {truncated.Wx, truncated.Wh, truncated.b});
  const std::vector<Variable> ins{truncated.X, truncated.h0, truncated.Wx, truncated.Wh, truncated.b};
  const std::vector<Tensor> args{uniform_tensor({n, 4, 3}, 1, 1), uniform_tensor({4, 5}, 2), uniform_tensor({3, 5}, 3), uniform_tensor({5, 5}, 4),
                                 uniform_tensor({5}, 5)};
  const auto got = graphjit::function(ins, {truncated.grads[0], truncated.grads[1], truncated.grads[2]})(
      args[0], args[1], args[2], args[3], args[4]);
  const auto expected = graphjit::function(ins, want, {.on_unused_input = graphjit::OnUnusedInput::ignore})(
      args[0], args[1], args[2], args[3], args[4]);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto g = got[i].to_vector<double>(), e = expected[i].to_vector<double>();
    REQUIRE(g.size() == e.size());
    for (std::size_t j = 0; j < g.size(); ++j) CHECK(g[j] == doctest::Approx(e[j]).epsilon(1e-10));
  }
}

TEST_CASE("a loss on h[-1] only: the gradient enters as the first pending sum, not as a sequence of zeros") {
  auto X = T::tensor3("X");
  auto h0 = T::matrix("h0");
  auto W = T::matrix("W");
  auto r = graphjit::scan([&](const Args& a) -> ScanStep { return T::tanh(a[0] + T::dot(a[1], W)); },
                          {.sequences = {X}, .outputs_info = {h0}});
  const std::vector<Variable> g = graphjit::grad(T::sum(T::sqr(r.outputs[0][-1])), {W, h0, X});
  const auto names = backward_inputs(g);
  REQUIRE(!names.empty());
  for (const std::string& name : names) CHECK(!(name.size() > 5 && name.compare(name.size() - 5, 5, "_grad") == 0));
  graphjit::verify_grad(
      [](const Args& in) {
        auto h = graphjit::scan([&](const Args& a) -> ScanStep { return T::tanh(a[0] + T::dot(a[1], in[2])); },
                                {.sequences = {in[0]}, .outputs_info = {in[1]}})
                     .outputs[0];
        return h[-1] * h[-1];
      },
      {uniform_tensor({5, 2, 3}, 31, 1), uniform_tensor({2, 3}, 32), uniform_tensor({3, 3}, 33)});
}

TEST_CASE("a gradient of a gradient through scan is refused with a clear error, not computed wrong") {
  auto x = T::vector("x");
  auto a = T::scalar("a");
  auto h = graphjit::scan([&](const Args& s) -> ScanStep { return T::tanh(s[0] + s[1] * a); },
                          {.sequences = {x}, .outputs_info = {T::zeros_like(a)}})
               .outputs[0];
  const Variable g = graphjit::grad(T::sum(T::sqr(h)), a);
  try {
    graphjit::grad(g, a);
    FAIL("no error");
  } catch (const graphjit::GradError& e) {
    CHECK(std::string(e.what()).find("gradient of a gradient through scan") != std::string::npos);
  }
}
