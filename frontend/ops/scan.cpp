// Scan (theano.scan): one node per output of a loop whose body is a graph of
// its own (compiler/ir/scan_body.hpp). The reference kernel runs each step
// with the reference evaluator; the compiled implementation optimizes and
// compiles the body once, into a Schedule, and runs that per step: no graph
// work inside the loop. Every output of one application is computed by one
// run (OpInfo::native_outputs); the gradient is frontend/ops/scan_grad.cpp.
#include "frontend/ops/op_support.hpp"
#include "frontend/ops/scan_loop.hpp"

#include "compiler/eval/reference_evaluator.hpp"
#include "compiler/exec/executor.hpp"
#include "compiler/pipeline.hpp"

#include <fmt/format.h>

namespace graphjit::ir {

std::vector<Variable> scan_grad(const Node& node, const std::vector<std::pair<int, Variable>>& output_grads);

namespace {

Type scan_type(const Node& node) {
  if (!node.attrs.scan || node.attrs.ints.size() != 1)
    type_error(node, "a scan node needs its body and its output index (build it with graphjit::scan)");
  const ScanBody& body = *node.attrs.scan;
  const auto j = static_cast<std::size_t>(node.attrs.ints[0]);
  if (j >= body.outputs.size()) type_error(node, fmt::format("output {} of a scan with {} outputs", j, body.outputs.size()));
  if (node.inputs.size() != body.first_non_sequence() + body.num_non_sequences)
    type_error(node, "the inputs do not match the scan's sequences, states and non-sequences");
  Type t = body.inner_outputs[j]->type;
  t.broadcastable.insert(t.broadcastable.begin(), body.outputs[j].last_only);
  return t;
}

std::vector<Tensor> reference_outputs(const Node& node, const std::vector<Tensor>& inputs, const std::vector<int>& wanted) {
  const ScanBody& body = *node.attrs.scan;
  return ops::run_scan(node, inputs, wanted, [&](const std::vector<Tensor>& inner, const std::vector<Tensor>&) {
    eval::Values values;
    for (std::size_t i = 0; i < inner.size(); ++i) values.emplace(body.inner_inputs[i].get(), inner[i]);
    return eval::evaluate(body.inner_outputs, values);
  });
}

Tensor scan_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return reference_outputs(node, inputs, {static_cast<int>(node.attrs.ints[0])}).front();
}

Shape scan_shape(const Node& node, const std::vector<Tensor>& inputs) { return scan_reference(node, inputs).shape(); }

// The body optimized and compiled, once per body (the first run), shared by
// every function whose graph holds it.
const compiler::Compiled& compiled_body(const ScanBody& body) {
  std::call_once(body.compiled_once, [&] {
    compiler::Program program;
    program.inputs = body.inner_inputs;
    program.outputs = body.inner_outputs;
    program.num_user_outputs = body.inner_outputs.size();
    auto compiled = std::make_shared<compiler::Compiled>(
        compiler::compile(std::move(program), {.mode = Mode::fast_run, .name = "scan_body"}));
    body.compiled = std::move(compiled);
  });
  return *static_cast<const compiler::Compiled*>(body.compiled.get());
}

std::vector<Tensor> scan_outputs(const Node& node, const std::vector<Tensor>& inputs, const std::vector<int>& wanted) {
  const compiler::Compiled& compiled = compiled_body(*node.attrs.scan);
  // An executor per run: its buffers are this run's, so functions sharing
  // the body may run at once.
  exec::ScheduleExecutor executor(compiled.schedule);
  return ops::run_scan(node, inputs, wanted, [&](const std::vector<Tensor>& inner, const std::vector<Tensor>& into) {
    return executor.run_into(inner, into);
  });
}

Tensor scan_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) {
  return scan_outputs(node, inputs, {static_cast<int>(node.attrs.ints[0])}).front();
}

}  // namespace

void register_scan_op() {
  define_op(OpCode::Scan, {scan_type, scan_shape, scan_reference, nullptr, NativeKernel(scan_native, true)});
  OpInfo& info = define_op(OpCode::Scan);
  info.native_outputs = scan_outputs;
  info.grad_outputs = scan_grad;
  info.prepare = [](const Node& node) { compiled_body(*node.attrs.scan); };
}

}  // namespace graphjit::ir
