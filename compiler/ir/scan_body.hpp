// The loop a Scan node runs (Theano's scan): the inner graph of one step and
// how the outer inputs and outputs map onto it.
//
// A scan application is one Scan node per output (every graphjit node has one
// output), all with the same inputs and the same body; attrs.ints[0] is the
// output's index. The outer inputs are, in order:
//   n_steps (int64 scalar; negative: as many as the sequences allow),
//   the sequences, the initial states of the recurrent outputs, the non-sequences.
// The body's inner inputs (Input nodes private to the body) are, in order:
//   one per (sequence, tap), one per (recurrent output, tap), one per non-sequence.
// Loop-invariant values never appear in the body: scan() makes them non-sequences.
#pragma once

#include "compiler/ir/node.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace graphjit::ir {

struct ScanBody {
  struct Sequence {
    std::vector<int> taps;  // ascending; step t reads rows t + tap - taps.front()
  };
  struct Output {
    std::vector<int> taps{};  // ascending, negative; empty: not fed back (outputs_info none)
    // The initial state has the state's own shape (taps == {-1}) rather than
    // a leading axis of at least lags() rows.
    bool plain_initial = false;
    // Nothing reads more than the last lags() states: the loop keeps a ring of
    // them instead of the whole history, and the output holds the last one only.
    bool last_only = false;
    // Step t writes row n-1-t (an output not fed back): the backward loop of
    // a gradient stores its per-step values in forward order, so nothing
    // after it reverses them.
    bool reversed_rows = false;
    int lags() const { return taps.empty() ? 0 : -taps.front(); }
  };

  std::vector<Sequence> sequences;
  std::vector<Output> outputs;
  std::size_t num_non_sequences = 0;
  std::vector<NodeRef> inner_inputs;   // Input nodes, in the order above
  std::vector<NodeRef> inner_outputs;  // per output: its value at one step
  int truncate_gradient = -1;          // BPTT through the last k steps only (-1: all)
  std::string name;                    // "scan" or the user's name, for messages
  std::source_location where;          // the user's scan() call

  std::size_t num_recurrent() const;
  // Positions of the outer inputs.
  std::size_t first_initial() const { return 1 + sequences.size(); }
  std::size_t first_non_sequence() const { return first_initial() + num_recurrent(); }
  // Which initial-state input output j reads (-1: none).
  int initial_input(std::size_t j) const;

  // The compiled body (compiler-private, made on first use): opaque here so
  // that the IR does not depend on the lowering.
  mutable std::once_flag compiled_once;
  mutable std::shared_ptr<const void> compiled;
};

// The type of one row of `t` (axis 0 removed): a sequence's value at a step.
inline Type row_type(const Type& t) {
  Type row = t;
  row.broadcastable.erase(row.broadcastable.begin());
  return row;
}

}  // namespace graphjit::ir
