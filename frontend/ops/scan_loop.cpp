#include "frontend/ops/scan_loop.hpp"

#include "frontend/ops/op_support.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <limits>

namespace graphjit::ops {

namespace {

std::string scan_label(const ir::ScanBody& body) {
  return fmt::format("scan '{}' (built at {})", body.name, where_str(body.where));
}

// n_steps: the given count, or as many as every sequence allows.
std::int64_t count_steps(const ir::ScanBody& body, const std::vector<Tensor>& inputs) {
  std::int64_t n = inputs[0].item<std::int64_t>();
  std::int64_t available = std::numeric_limits<std::int64_t>::max();
  for (std::size_t s = 0; s < body.sequences.size(); ++s) {
    const auto& taps = body.sequences[s].taps;
    const Tensor& seq = inputs[1 + s];
    const std::int64_t span = taps.back() - taps.front();
    if (seq.ndim() == 0 || seq.shape(0) < span)
      throw ShapeError(fmt::format("{}: sequence {} has shape {}, too short for its taps [{}..{}]", scan_label(body), s,
                                   shape_str(seq.shape()), taps.front(), taps.back()));
    available = std::min(available, seq.shape(0) - span);
    if (n >= 0 && seq.shape(0) - span < n)
      throw ShapeError(fmt::format("{}: n_steps is {}, but sequence {} (shape {}, taps [{}..{}]) covers only {} steps",
                                   scan_label(body), n, s, shape_str(seq.shape()), taps.front(), taps.back(),
                                   seq.shape(0) - span));
  }
  if (n >= 0) return n;
  if (body.sequences.empty())
    throw ShapeError(fmt::format("{}: without sequences, n_steps must be given (and not negative)", scan_label(body)));
  return available;
}

Shape prepend(std::int64_t rows, const Shape& shape) {
  Shape s{rows};
  s.insert(s.end(), shape.begin(), shape.end());
  return s;
}

// One output's memory over the loop: its lags() initial rows, then a row per
// step (or, when last_only, a ring of max(lags, 1) rows).
struct History {
  Tensor rows;
  std::int64_t lags = 0;
  bool ring = false;
  std::int64_t reversed_from = -1;  // reversed_rows: n - 1 (position p goes to row n - 1 - p)
  Tensor row(std::int64_t position) const {  // position: lags + step
    if (reversed_from >= 0) return rows.select(0, reversed_from - position);
    return rows.select(0, ring ? position % rows.shape(0) : position);
  }
};

History start_history(const ir::ScanBody& body, std::size_t j, const std::vector<Tensor>& inputs, std::int64_t n) {
  const ir::ScanBody::Output& out = body.outputs[j];
  History h;
  h.lags = out.lags();
  h.ring = out.last_only;
  if (out.reversed_rows) h.reversed_from = n - 1;  // (an output without taps: lags == 0)
  const int k = body.initial_input(j);
  if (k < 0) return h;  // allocated once the first step tells its shape
  const Tensor& init = inputs[static_cast<std::size_t>(k)];
  Shape state = init.shape();
  if (!out.plain_initial) {
    if (init.ndim() == 0 || init.shape(0) < h.lags)
      throw ShapeError(fmt::format("{}: the initial state of output {} has shape {}; with taps down to {} it needs a "
                                   "leading axis of at least {} rows",
                                   scan_label(body), j, shape_str(init.shape()), -h.lags, h.lags));
    state.erase(state.begin());
  }
  // A ring has one row more than the taps reach back, so that the row a step
  // writes is never one it reads.
  const std::int64_t rows = h.ring ? h.lags + 1 : h.lags + n;
  // Every row is written (the initial ones here, one per step) before it is
  // read: no zero-fill.
  h.rows = Tensor::uninitialized(prepend(rows, state), body.inner_outputs[j]->type.dtype);
  if (out.plain_initial) h.rows.select(0, 0).assign(init);
  else h.rows.slice(0, 0, h.lags).assign(init.slice(0, 0, h.lags));
  return h;
}

Tensor finish(const History& h, std::int64_t n) {
  if (h.ring) return h.rows.select(0, (h.lags + n - 1) % h.rows.shape(0)).expand_dims(0);
  return h.rows.slice(0, h.lags, h.lags + n);
}

}  // namespace

std::vector<Tensor> run_scan(const ir::Node& node, const std::vector<Tensor>& inputs, const std::vector<int>& wanted,
                             const StepRunner& step) {
  const ir::ScanBody& body = *node.attrs.scan;
  const std::int64_t n = count_steps(body, inputs);
  std::vector<History> history;
  for (std::size_t j = 0; j < body.outputs.size(); ++j) history.push_back(start_history(body, j, inputs, n));

  std::vector<Tensor> inner, into;
  inner.reserve(body.inner_inputs.size());
  for (std::int64_t t = 0; t < n; ++t) {
    inner.clear();
    for (std::size_t s = 0; s < body.sequences.size(); ++s)
      for (int tap : body.sequences[s].taps) inner.push_back(inputs[1 + s].select(0, t + tap - body.sequences[s].taps.front()));
    for (std::size_t j = 0; j < body.outputs.size(); ++j)
      for (int tap : body.outputs[j].taps) inner.push_back(history[j].row(history[j].lags + t + tap));
    for (std::size_t p = 0; p < body.num_non_sequences; ++p) inner.push_back(inputs[body.first_non_sequence() + p]);

    into.clear();
    for (const History& h : history) into.push_back(h.rows.defined() ? h.row(h.lags + t) : Tensor());
    const std::vector<Tensor> values = step(inner, into);
    for (std::size_t j = 0; j < body.outputs.size(); ++j) {
      History& h = history[j];
      if (!h.rows.defined())
        h.rows = Tensor::uninitialized(prepend(h.ring ? 1 : n, values[j].shape()), body.inner_outputs[j]->type.dtype);
      Tensor row = h.row(h.lags + t);
      if (values[j].raw_data() == row.raw_data() && values[j].shape() == row.shape() &&
          values[j].strides() == row.strides() && values[j].dtype() == row.dtype())
        continue;  // computed in place
      if (row.shape() != values[j].shape())
        throw ShapeError(fmt::format("{}: at step {}, output {} ('{}') has shape {}, but {} has shape {}; a step "
                                     "must keep each output's shape",
                                     scan_label(body), t, j, body.inner_outputs[j]->label(),
                                     shape_str(values[j].shape()),
                                     body.outputs[j].taps.empty() ? "the output of step 0" : "its initial state",
                                     shape_str(row.shape())));
      row.assign(values[j]);
    }
  }
  std::vector<Tensor> result;
  for (int j : wanted) {
    const History& h = history[static_cast<std::size_t>(j)];
    if (!h.rows.defined()) {  // no step ran: an empty output of the right rank
      const ir::Type& type = body.inner_outputs[static_cast<std::size_t>(j)]->type;
      result.push_back(Tensor::empty(Shape(static_cast<std::size_t>(type.ndim() + 1), 0), type.dtype));
      continue;
    }
    result.push_back(finish(h, n));
  }
  return result;
}

}  // namespace graphjit::ops
