// verify_grad: symbolic gradients against central finite differences.
#include <graphjit/errors.hpp>
#include <graphjit/function.hpp>
#include <graphjit/grad.hpp>
#include <graphjit/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <string>

namespace graphjit {

namespace {

Tensor random_like(const Shape& shape, DType dtype, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Tensor t = Tensor::empty(shape, dtype);
  for_each_index(shape, [&](const std::vector<std::int64_t>& i) { t.set(i, u(rng)); });
  return t;
}

std::vector<Argument> as_arguments(const std::vector<Tensor>& ts) { return {ts.begin(), ts.end()}; }

}  // namespace

void verify_grad(const std::function<Variable(const std::vector<Variable>&)>& f, const std::vector<Tensor>& point,
                 VerifyGradOptions options) {
  std::vector<Variable> inputs;
  bool single_precision = false;
  for (std::size_t i = 0; i < point.size(); ++i) {
    if (!is_float(point[i].dtype()))
      throw GradError(fmt::format("verify_grad: point {} has dtype {}; only float inputs can be checked", i,
                                  dtype_name(point[i].dtype())));
    single_precision = single_precision || point[i].dtype() == float32;
    inputs.push_back(tensor::tensor(point[i].dtype(), std::vector<bool>(static_cast<std::size_t>(point[i].ndim()), false),
                                    fmt::format("input{}", i)));
  }
  const Variable out = f(inputs);
  if (!is_float(out.dtype())) throw GradError("verify_grad: f must return a float expression, got " + out.type_str());
  single_precision = single_precision || out.dtype() == float32;
  // Finite differences in float32 cannot resolve a 1e-6 step: widen step and tolerances.
  if (single_precision) {
    options.eps = std::max(options.eps, 1e-3);
    options.rel_tol = std::max(options.rel_tol, 1e-2);
    options.abs_tol = std::max(options.abs_tol, 1e-3);
  }
  // No default updates: every evaluation must see the same random draws (a
  // dropout mask fixed by the stream's seed), or the differences are noise.
  const FunctionOptions quiet{.on_unused_input = OnUnusedInput::ignore, .no_default_updates = true};
  const Tensor out_value = function(inputs, {out}, quiet).call(as_arguments(point))[0];

  // A random projection makes the cost a scalar that involves every output element.
  std::mt19937_64 rng(options.seed);
  const Variable projection = constant(random_like(out_value.shape(), out.dtype(), rng), "projection");
  const Variable cost = tensor::sum(out * projection);
  const std::vector<Variable> grads = grad(cost, inputs, /*allow_disconnected=*/true);
  const Function cost_fn = function(inputs, {cost}, quiet);
  const std::vector<Tensor> analytic = function(inputs, grads, quiet).call(as_arguments(point));

  // The largest out-of-tolerance difference over all inputs and elements.
  struct Mismatch {
    double difference = -1;  // |numeric - symbolic|, NaN counted as infinite; < 0: none yet
    std::string where;
  } worst;
  std::vector<Tensor> probe;
  for (const Tensor& p : point) probe.push_back(p.copy());
  for (std::size_t i = 0; i < point.size(); ++i) {
    if (analytic[i].shape() != point[i].shape())
      throw GradError(fmt::format("verify_grad: the gradient of input {} has shape {}, the input has shape {}", i,
                                  shape_str(analytic[i].shape()), shape_str(point[i].shape())));
    for_each_index(point[i].shape(), [&](const std::vector<std::int64_t>& k) {
      const double x = point[i].get(k);
      // The steps actually taken: x +- eps rounds to the input's precision (float32).
      probe[i].set(k, x + options.eps);
      const double up = probe[i].get(k);
      const double plus = cost_fn.call(as_arguments(probe))[0].item<double>();
      probe[i].set(k, x - options.eps);
      const double down = probe[i].get(k);
      const double minus = cost_fn.call(as_arguments(probe))[0].item<double>();
      probe[i].set(k, x);
      const double numeric = (plus - minus) / (up - down);
      const double symbolic = analytic[i].get(k);
      const double tol = options.abs_tol + options.rel_tol * std::max(std::abs(numeric), std::abs(symbolic));
      double difference = std::abs(numeric - symbolic);
      if (std::isnan(difference)) difference = std::numeric_limits<double>::infinity();
      if (difference > tol && difference > worst.difference)
        worst = {difference, fmt::format("input {} (shape {}) at index {}: symbolic gradient {} but finite "
                                         "differences give {} (tolerance {})",
                                         i, shape_str(point[i].shape()), shape_str(k), symbolic, numeric, tol)};
    });
  }
  if (worst.difference >= 0) throw GradError("verify_grad: the largest mismatch is " + worst.where);
}

}  // namespace graphjit
