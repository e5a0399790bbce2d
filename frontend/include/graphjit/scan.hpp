// theano.scan: loops in the graph. A step function builds the graph of one
// iteration; scan() turns it into Scan nodes that run it over sequences and
// recurrent states, compiled once and looped over without graph work per step.
//
//   auto r = graphjit::scan([&](const std::vector<Variable>& a) -> ScanStep { return {a[0] * A}; },
//                           {.outputs_info = {T::ones_like(A)}, .non_sequences = {A}, .n_steps = k});
//   Variable A_k = r.outputs[0][-1];
//
// The step function gets, in order: for each sequence, its value at each tap;
// for each output with an initial state, its earlier values at each tap; the
// non-sequences. It returns the step's outputs and, optionally, updates of
// shared variables (which the loop carries from step to step: pass
// ScanResult::updates to function()). Variables from outside the step that it
// uses (shared variables, inputs, expressions) become non-sequences; with
// `strict`, shared variables and inputs must be passed as non_sequences.
#pragma once

#include <graphjit/shared.hpp>
#include <graphjit/variable.hpp>

#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <utility>
#include <vector>

namespace graphjit {

// A sequence and the taps (offsets from the current step) the step reads.
struct ScanSequence {
  ScanSequence(Variable input) : input(std::move(input)) {}
  ScanSequence(Variable input, std::vector<int> taps) : input(std::move(input)), taps(std::move(taps)) {}
  Variable input;
  std::vector<int> taps{0};
};

// The initial state of an output fed back to the step at `taps` (negative
// offsets). With taps {-1} (the default) `initial` has the state's shape;
// otherwise its leading axis holds the first max(-taps) states, oldest first.
// An undefined initial: the output is not fed back (Theano's None).
struct ScanOutputInfo {
  ScanOutputInfo() = default;
  ScanOutputInfo(Variable initial) : initial(std::move(initial)) {}
  ScanOutputInfo(Variable initial, std::vector<int> taps) : initial(std::move(initial)), taps(std::move(taps)) {}
  Variable initial;
  std::vector<int> taps{-1};
};

using ScanUpdates = std::vector<std::pair<SharedVariable, Variable>>;

// What a step returns: its outputs (one per outputs_info entry) and updates.
struct ScanStep {
  ScanStep(Variable output) : outputs{std::move(output)} {}
  ScanStep(std::vector<Variable> outputs, ScanUpdates updates = {})
      : outputs(std::move(outputs)), updates(std::move(updates)) {}
  ScanStep(std::initializer_list<Variable> outputs) : outputs(outputs) {}
  ScanStep(ScanUpdates updates) : updates(std::move(updates)) {}
  std::vector<Variable> outputs;
  ScanUpdates updates;
};

struct ScanOptions {
  std::vector<ScanSequence> sequences{};
  std::vector<ScanOutputInfo> outputs_info{};  // empty: no output is fed back
  std::vector<Variable> non_sequences{};
  std::optional<Operand> n_steps{};  // default: as many steps as the sequences allow
  bool go_backwards = false;        // iterate over the sequences from the end
  int truncate_gradient = -1;       // BPTT through the last k steps only (-1: all)
  bool strict = false;
  std::string name{};
  // Theano's push-out: dot(x[t], W) of a sequence x and a non-sequence W is
  // computed for all steps at once before the loop (off: for tests).
  bool push_out = true;
};

struct ScanResult {
  std::vector<Variable> outputs;  // per step output: its values at every step, stacked on axis 0
  ScanUpdates updates;            // each updated shared variable's value after the last step
};

using ScanFunction = std::function<ScanStep(const std::vector<Variable>&)>;

ScanResult scan(const ScanFunction& fn, const ScanOptions& options,
                std::source_location where = std::source_location::current());

// theano.map, reduce, foldl, foldr on top of scan. reduce and the folds
// return each output's value after the last step.
ScanResult map(const ScanFunction& fn, const std::vector<ScanSequence>& sequences,
               const std::vector<Variable>& non_sequences = {}, bool go_backwards = false,
               std::source_location where = std::source_location::current());
ScanResult reduce(const ScanFunction& fn, const std::vector<ScanSequence>& sequences,
                  const std::vector<ScanOutputInfo>& outputs_info, const std::vector<Variable>& non_sequences = {},
                  bool go_backwards = false, std::source_location where = std::source_location::current());
ScanResult foldl(const ScanFunction& fn, const std::vector<ScanSequence>& sequences,
                 const std::vector<ScanOutputInfo>& outputs_info, const std::vector<Variable>& non_sequences = {},
                 std::source_location where = std::source_location::current());
ScanResult foldr(const ScanFunction& fn, const std::vector<ScanSequence>& sequences,
                 const std::vector<ScanOutputInfo>& outputs_info, const std::vector<Variable>& non_sequences = {},
                 std::source_location where = std::source_location::current());

}  // namespace graphjit
