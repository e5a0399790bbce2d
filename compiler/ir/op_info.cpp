#include "compiler/ir/op_info.hpp"

#include "compiler/ir/diagnostics.hpp"

#include <array>
#include <atomic>
#include <stdexcept>
#include <mutex>

namespace graphjit::ir {

namespace {

constexpr std::size_t kNumOps = 0
#define GRAPHJIT_OP(Name, printed, kind, arity) +1
#include "compiler/ir/ops.def"
#undef GRAPHJIT_OP
    ;

std::array<OpInfo, kNumOps>& table() {
  static std::array<OpInfo, kNumOps> ops = [] {
    std::array<OpInfo, kNumOps> t{};
    std::size_t i = 0;
#define GRAPHJIT_OP(Name, printed, kind_, arity_) \
  t[i].name = printed;                            \
  t[i].kind = OpKind::kind_;                      \
  t[i].arity = arity_;                            \
  ++i;
#include "compiler/ir/ops.def"
#undef GRAPHJIT_OP
    return t;
  }();
  return ops;
}

using Kernel = Tensor (*)(const Node&, const std::vector<Tensor>&);

// The kernels as registered; the table holds the wrappers below instead.
std::array<Kernel, kNumOps>& registered_kernels() {
  static std::array<Kernel, kNumOps> kernels{};
  return kernels;
}
std::array<NativeKernel::Function, kNumOps>& registered_natives() {
  static std::array<NativeKernel::Function, kNumOps> natives{};
  return natives;
}

Tensor reference_naming_node(const Node& node, const std::vector<Tensor>& inputs) {
  try {
    return registered_kernels()[static_cast<std::size_t>(node.op)](node, inputs);
  } catch (...) {
    rethrow_naming_node(node, inputs);
  }
}

Tensor native_naming_node(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& out) {
  try {
    return registered_natives()[static_cast<std::size_t>(node.op)](node, inputs, out);
  } catch (...) {
    rethrow_naming_node(node, inputs);
  }
}

}  // namespace

bool same_application(const Node& a, const Node& b) {
  if (a.op != b.op || a.inputs != b.inputs || !op_info(a.op).native_outputs) return false;
  Attrs other = b.attrs;
  if (!other.ints.empty() && !a.attrs.ints.empty()) other.ints[0] = a.attrs.ints[0];
  return other == a.attrs;
}

OpInfo& define_op(OpCode op) { return table()[static_cast<std::size_t>(op)]; }

void define_op(OpCode op, const OpRules& rules) {
  OpInfo& info = define_op(op);
  info.infer_type = rules.infer_type;
  info.infer_shape = rules.infer_shape;
  info.reference = rules.reference;
  info.grad = rules.grad;
  info.native = rules.native;
  info.view_of = rules.view_of;
  info.destroys = rules.destroys;
}

namespace {
std::atomic<void (*)()> op_library{nullptr};
}  // namespace

void set_op_library(void (*install)()) { op_library = install; }

const OpInfo& op_info(OpCode op) {
  // The installer must only call define_op(): calling op_info() from it
  // would wait on this once_flag forever.
  static std::once_flag registered;
  std::call_once(registered, [] {
    void (*install)() = op_library.load();
    if (install == nullptr)
      throw std::logic_error("graphjit internal error: no op library is linked (frontend/ops/op_library.cpp)");
    install();
    // Every caller (reference evaluator, constant folding, the executor's
    // native steps) gets runtime errors that name the node.
    for (std::size_t i = 0; i < kNumOps; ++i) {
      OpInfo& info = table()[i];
      if (info.reference) {
        registered_kernels()[i] = info.reference;
        info.reference = reference_naming_node;
      }
      if (info.native) {
        registered_natives()[i] = info.native.run;
        info.native.run = native_naming_node;
      }
    }
  });
  return table()[static_cast<std::size_t>(op)];
}

}  // namespace graphjit::ir
