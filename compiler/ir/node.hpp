// The symbolic graph: typed nodes in Theano's model.
//
// Every graphjit op has exactly one output, so Theano's Variable and the Apply
// node that produced it are one object here: a Node is the result of applying
// `op` (with parameters `attrs`) to `inputs`. Nodes are immutable once built
// and shared by reference, so subgraphs are shared freely; rewrites build new
// nodes instead of editing old ones.
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <cstdint>
#include <memory>
#include <source_location>
#include <string>
#include <vector>

namespace graphjit {
struct SharedState;  // runtime/include/graphjit/runtime/shared_state.hpp
}

namespace graphjit::ir {

enum class OpCode : std::uint16_t {
#define GRAPHJIT_OP(Name, printed, kind, arity) Name,
#include "compiler/ir/ops.def"
#undef GRAPHJIT_OP
};

enum class OpKind : std::uint8_t { Leaf, Elemwise, Reduce, Other };

// A symbolic type: dtype, rank, and which dims are statically known to have
// length 1 and so broadcast (Theano's broadcastable pattern).
struct Type {
  DType dtype = DType::float64;
  std::vector<bool> broadcastable;

  int ndim() const { return static_cast<int>(broadcastable.size()); }
  bool operator==(const Type&) const = default;
  std::string str() const;  // "TensorType(float64, matrix)", "(float64, (True, False))"
};

// How one dimension is indexed by Subtensor-family ops.
struct IndexEntry {
  enum Kind : std::uint8_t { Scalar, Range, Array } kind = Range;
  // For Range: whether start/stop/step are given; given ones are node inputs, in order.
  bool has_start = false, has_stop = false, has_step = false;
  bool operator==(const IndexEntry&) const = default;
};

// Op parameters. One plain struct for all ops keeps nodes uniform and hashable;
// each op documents which fields it reads (ops.def).
struct Attrs {
  std::vector<int> axes;         // reductions: axes to reduce, empty = all
  bool keepdims = false;
  std::vector<std::int64_t> ints;  // dimshuffle pattern, one_hot classes, concat axis, ...
  DType dtype = DType::float64;  // cast / one_hot target dtype
  std::vector<IndexEntry> index;  // subtensor family
  bool set_instead_of_inc = false;
  bool trans_a = false, trans_b = false;  // gemm
  double alpha = 1.0, beta = 0.0;         // gemm
  std::string text;                       // print: the message
  bool operator==(const Attrs&) const = default;
};

struct Node;
using NodeRef = std::shared_ptr<const Node>;

struct Node {
  OpCode op;
  std::vector<NodeRef> inputs;
  Attrs attrs;
  Type type;
  std::string name;                    // the user's name, if any
  std::source_location where;          // where the user's code built it
  Tensor value;                        // Constant only
  std::shared_ptr<SharedState> shared;  // Shared only
  std::uint64_t id = 0;                // unique, in creation order

  // "name" if named, else "op.id"; what error messages and dumps call the node.
  std::string label() const;
  // The op with its parameters, as dumps print it: "sum{axis=1}",
  // "dimshuffle{x,0}", "cast{float32}"; a leaf's label, a scalar constant's value.
  std::string head() const;

  Node() = default;
  Node(const Node&) = default;
  Node& operator=(const Node&) = default;
  // Releases the inputs without recursing: destroying the end of a chain of a
  // million nodes would otherwise nest a million destructor calls.
  ~Node();
};

// "file.cpp:42": where the user's code built a node.
std::string where_str(const std::source_location& where);

// Builds a node: checks arity and types (throws graphjit::TypeError naming
// the inputs and their types) and infers the output type.
NodeRef make(OpCode op, std::vector<NodeRef> inputs, Attrs attrs = {},
             std::source_location where = std::source_location::current());
NodeRef make_input(Type type, std::string name, std::source_location where);
NodeRef make_constant(Tensor value, std::source_location where);
NodeRef make_shared(std::shared_ptr<SharedState> state, Type type, std::string name, std::source_location where);
// The same op and attrs on new inputs (types re-inferred); name and location are kept.
NodeRef rebuild(const Node& node, std::vector<NodeRef> inputs);

}  // namespace graphjit::ir
