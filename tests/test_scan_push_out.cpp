// What the push-out leaves in the loops (issue 13): once x_t W_xh is one GEMM
// before the loop, the loop no longer passes x's rows, the backward loop
// stores no per-step zeros for them, and a sequence gradient that covers
// every row is the backward loop's output itself (no concatenation copy).
#include <doctest/doctest.h>

#include "compiler/ir/graph.hpp"
#include "compiler/ir/scan_body.hpp"

#include <graphjit/graphjit.hpp>

#include <optional>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::ScanStep;
using graphjit::Tensor;
using graphjit::Variable;
using Args = std::vector<Variable>;
using graphjit::ir::OpCode;

namespace {

Tensor random(graphjit::Shape shape, std::uint64_t seed) {
  graphjit::RandomState rng(seed);
  return rng.uniform(-0.5, 0.5, shape, graphjit::float64);
}

// h_t = tanh(x_t Wx + h_{t-1} Wh), over all of X's rows or the first n_steps.
struct Rnn {
  Variable X = T::tensor3("X"), h0 = T::matrix("h0"), Wx = T::matrix("Wx"), Wh = T::matrix("Wh");
  Variable h;
  std::vector<Variable> grads;
  explicit Rnn(std::optional<int> n_steps = std::nullopt) {
    graphjit::ScanOptions options{.sequences = {X}, .outputs_info = {h0}};
    if (n_steps) options.n_steps = *n_steps;
    h = graphjit::scan([&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[0], Wx) + T::dot(a[1], Wh)); },
                       options)
            .outputs[0];
    grads = graphjit::grad(T::sum(T::sqr(h)), {X, Wx, Wh});
  }
  std::vector<graphjit::ir::NodeRef> nodes(OpCode op, const std::string& body = "") const {
    std::vector<graphjit::ir::NodeRef> roots{h.node()};
    for (const Variable& g : grads) roots.push_back(g.node());
    std::vector<graphjit::ir::NodeRef> found;
    for (const auto& n : graphjit::ir::toposort(roots))
      if (n->op == op && (body.empty() || n->attrs.scan->name == body)) found.push_back(n);
    return found;
  }
  // Concatenations of the backward loop's stacked output with zero rows.
  std::size_t gradient_concatenations() const {
    std::size_t count = 0;
    for (const auto& n : nodes(OpCode::Concatenate))
      for (const auto& in : n->inputs) count += in->op == OpCode::Scan && in->attrs.scan->name == "scan_grad";
    return count;
  }
};

}  // namespace

TEST_CASE("after the push-out the loop no longer takes x's rows, and the backward loop emits nothing for them") {
  Rnn rnn;
  const auto forward = rnn.nodes(OpCode::Scan, "scan");
  REQUIRE(!forward.empty());
  const graphjit::ir::ScanBody& f = *forward[0]->attrs.scan;
  REQUIRE(f.sequences.size() == 1);  // the product x_t Wx alone
  CHECK(f.inner_inputs[0]->name.find("[t]") != std::string::npos);
  const auto backward = rnn.nodes(OpCode::Scan, "scan_grad");
  REQUIRE(!backward.empty());
  int emitted = 0;  // stacked per-step outputs of the backward loop
  for (const auto& out : backward[0]->attrs.scan->outputs) emitted += out.reversed_rows ? 1 : 0;
  CHECK(emitted == 1);  // the product's gradient (dX and dWx come from it), no rows of zeros for x
}

TEST_CASE("a sequence gradient covering every row is the loop's output; with n_steps the rest is zeros") {
  CHECK(Rnn().gradient_concatenations() == 0);
  Rnn partial(4);  // 4 of X's 6 rows
  CHECK(partial.gradient_concatenations() == 1);
  const std::vector<Tensor> args{random({6, 3, 2}, 1), random({3, 4}, 2), random({2, 4}, 3), random({4, 4}, 4)};
  Rnn full;
  for (const Rnn* rnn : {&full, &partial}) {
    auto run = [&](graphjit::Mode mode) {
      return graphjit::function({rnn->X, rnn->h0, rnn->Wx, rnn->Wh}, rnn->grads, {.mode = mode})(args[0], args[1],
                                                                                                 args[2], args[3]);
    };
    const auto ref = run(graphjit::Mode::reference), jit = run(graphjit::Mode::fast_run);
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const auto r = ref[i].to_vector<double>(), j = jit[i].to_vector<double>();
      REQUIRE(r.size() == j.size());
      for (std::size_t k = 0; k < r.size(); ++k) CHECK(j[k] == doctest::Approx(r[k]).epsilon(1e-10));
    }
    const auto dx = jit[0].to_vector<double>();
    if (rnn == &partial)
      for (std::size_t k = 4 * 3 * 2; k < dx.size(); ++k) CHECK(dx[k] == 0.0);  // rows the loop never read
  }
  graphjit::verify_grad(
      [](const Args& in) {
        return graphjit::scan(
                   [&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[0], in[1]) + T::dot(a[1], in[2])); },
                   {.sequences = {in[0]}, .outputs_info = {T::zeros_like(in[0][0])}})
            .outputs[0];
      },
      {random({5, 2, 3}, 5), random({3, 3}, 6), random({3, 3}, 7)});
}
