#include "compiler/codegen/elemwise_emitter.hpp"

#include "compiler/codegen/kernel_plan.hpp"
#include "compiler/codegen/runtime_helpers.hpp"
#include "compiler/codegen/vector_math.hpp"
#include "compiler/ir/op_info.hpp"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include <stdexcept>
#include <string>

namespace graphjit::codegen {

namespace {

using ir::OpCode;

// The op's operands converted to its compute dtype, and the building blocks
// the cases below share.
class OpEmitter {
 public:
  OpEmitter(llvm::IRBuilder<>& b, llvm::Module& module, const ir::Node& node, const std::vector<TypedValue>& args)
      : b(b), dtype(compute_dtype(node)), floating(is_float(dtype)), module_(module), node_(node), args_(args) {}

  llvm::IRBuilder<>& b;
  const DType dtype;    // what the op computes in
  const bool floating;  // whether that is a float type

  llvm::Value* arg(std::size_t i) { return arg(i, dtype); }
  llvm::Value* arg(std::size_t i, DType as) { return convert(b, args_.at(i).value, args_.at(i).dtype, as); }
  llvm::Value* zero(llvm::Value* like) { return constant_like(like, 0.0); }
  llvm::Value* one(llvm::Value* like) { return constant_like(like, 1.0); }
  TypedValue result(llvm::Value* v) const { return {v, dtype}; }
  TypedValue boolean(llvm::Value* v) const { return {v, DType::bool_}; }

  // numpy.maximum/minimum: nan if either is nan, else the larger/smaller (ties keep a).
  llvm::Value* nan_max(llvm::Value* x, llvm::Value* y) {
    if (!floating) return b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, x, y);
    return b.CreateSelect(b.CreateFCmpUNO(y, y), y, b.CreateSelect(b.CreateFCmpOLT(x, y), y, x));
  }
  llvm::Value* nan_min(llvm::Value* x, llvm::Value* y) {
    if (!floating) return b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, x, y);
    return b.CreateSelect(b.CreateFCmpUNO(y, y), y, b.CreateSelect(b.CreateFCmpOLT(y, x), y, x));
  }

  llvm::Value* compare(llvm::CmpInst::Predicate float_predicate, llvm::CmpInst::Predicate int_predicate) {
    llvm::Value* x = arg(0);
    llvm::Value* y = arg(1);
    return floating ? b.CreateFCmp(float_predicate, x, y) : b.CreateICmp(int_predicate, x, y);
  }

  // Python's floor division and modulo on int64; division by zero gives 0 (numpy).
  // The divisor is made safe first: x86 traps on x/0 and on INT64_MIN/-1.
  struct IntDivision {
    llvm::Value *quotient, *remainder;
  };
  IntDivision floor_divide(llvm::Value* x, llvm::Value* y) {
    llvm::Value* by_zero = b.CreateICmpEQ(y, zero(y));
    llvm::Value* by_minus_one = b.CreateICmpEQ(y, constant_like(y, -1.0));
    llvm::Value* divisor = b.CreateSelect(b.CreateOr(by_zero, by_minus_one), one(y), y);
    llvm::Value* q = b.CreateSDiv(x, divisor);
    llvm::Value* r = b.CreateSRem(x, divisor);
    // Truncation rounded towards zero; floor differs when the signs differ.
    llvm::Value* adjust = b.CreateAnd(b.CreateICmpNE(r, zero(r)), b.CreateICmpSLT(b.CreateXor(r, divisor), zero(r)));
    q = b.CreateSub(q, b.CreateZExt(adjust, q->getType()));
    r = b.CreateSelect(adjust, b.CreateAdd(r, divisor), r);
    q = b.CreateSelect(by_minus_one, b.CreateNeg(x), q);  // wraps for INT64_MIN, like numpy
    return {b.CreateSelect(by_zero, zero(q), q), b.CreateSelect(by_zero, zero(r), r)};
  }

  llvm::Value* float_mod(llvm::Value* x, llvm::Value* y) {
    llvm::Value* r = b.CreateFRem(x, y);  // C's fmod
    llvm::Value* signs_differ = b.CreateICmpNE(b.CreateFCmpOLT(r, zero(r)), b.CreateFCmpOLT(y, zero(y)));
    return b.CreateSelect(b.CreateAnd(b.CreateFCmpUNE(r, zero(r)), signs_differ), b.CreateFAdd(r, y), r);
  }

  // A scalar helper function applied lane by lane.
  llvm::Value* call_per_lane(const char* symbol, llvm::Value* x, llvm::Value* y) {
    llvm::Type* scalar = x->getType()->getScalarType();
    llvm::FunctionCallee helper =
        module_.getOrInsertFunction(symbol, llvm::FunctionType::get(scalar, {scalar, scalar}, false));
    const unsigned n = lanes(x);
    if (n == 1) return b.CreateCall(helper, {x, y});
    llvm::Value* out = llvm::PoisonValue::get(x->getType());
    for (unsigned lane = 0; lane < n; ++lane) {
      llvm::Value* r = b.CreateCall(helper, {b.CreateExtractElement(x, lane), b.CreateExtractElement(y, lane)});
      out = b.CreateInsertElement(out, r, lane);
    }
    return out;
  }

  // The op's scalar function for the compute dtype (op_info: scalar_f64,
  // scalar_f32 or scalar_i64, which take a pointer to the arguments), called
  // by address once per lane.
  llvm::Value* call_table_scalar() {
    std::vector<llvm::Value*> args;
    for (std::size_t i = 0; i < args_.size(); ++i) args.push_back(arg(i));
    const unsigned n = lanes(args[0]);
    if (n == 1) return call_table_scalar_once(args);
    llvm::Value* out = llvm::PoisonValue::get(args[0]->getType());
    for (unsigned lane = 0; lane < n; ++lane) {
      std::vector<llvm::Value*> lane_args;
      for (llvm::Value* a : args) lane_args.push_back(b.CreateExtractElement(a, lane));
      out = b.CreateInsertElement(out, call_table_scalar_once(lane_args), lane);
    }
    return out;
  }

  // The table's scalar function of a unary op, for the lanes vector code
  // hands back (math::LaneFallback).
  math::LaneFallback table_scalar_per_lane() {
    return [this](llvm::Value* lane) { return call_table_scalar_once({lane}); };
  }

  // One call of the table's scalar function on scalar arguments.
  llvm::Value* call_table_scalar_once(const std::vector<llvm::Value*>& args) {
    const ir::OpInfo& info = ir::op_info(node_.op);
    const void* function = dtype == DType::float64   ? reinterpret_cast<const void*>(info.scalar_f64)
                           : dtype == DType::float32 ? reinterpret_cast<const void*>(info.scalar_f32)
                                                     : reinterpret_cast<const void*>(info.scalar_i64);
    if (info.kind != ir::OpKind::Elemwise || function == nullptr) not_elementwise();
    llvm::Type* scalar = args.at(0)->getType();
    llvm::Function* kernel = b.GetInsertBlock()->getParent();
    llvm::IRBuilder<> entry(&kernel->getEntryBlock(), kernel->getEntryBlock().begin());
    llvm::Value* buffer = entry.CreateAlloca(scalar, b.getInt32(static_cast<unsigned>(args.size())));
    for (std::size_t k = 0; k < args.size(); ++k)
      b.CreateStore(args[k], b.CreateConstGEP1_32(scalar, buffer, static_cast<unsigned>(k)));
    llvm::FunctionType* type = llvm::FunctionType::get(scalar, {b.getPtrTy()}, false);
    llvm::Value* callee = b.CreateIntToPtr(b.getInt64(reinterpret_cast<std::uintptr_t>(function)), b.getPtrTy());
    return b.CreateCall(type, callee, {buffer});
  }

  [[noreturn]] void not_elementwise() const {
    throw std::logic_error("codegen: " + node_.label() + " (" + ir::op_info(node_.op).name +
                           ") is not an elementwise op and cannot be emitted in a fused kernel");
  }

 private:
  llvm::Module& module_;
  const ir::Node& node_;
  const std::vector<TypedValue>& args_;
};

// The elementary functions with IR-emitted vector code (vector_math.hpp and
// the vector_*.cpp files beside it), or nullptr for any other op.
llvm::Value* emit_vector_math(OpEmitter& e, OpCode op) {
  llvm::IRBuilder<>& b = e.b;
  switch (op) {
    case OpCode::Exp: return math::exp(b, e.arg(0));
    case OpCode::Log: return math::log(b, e.arg(0));
    case OpCode::Log1p: return math::log1p(b, e.arg(0));
    case OpCode::Expm1: return math::expm1(b, e.arg(0));
    case OpCode::Tanh: return math::tanh(b, e.arg(0));
    case OpCode::Sigmoid: return math::sigmoid(b, e.arg(0));
    case OpCode::Softplus: return math::softplus(b, e.arg(0));
    case OpCode::Sin: return math::sin(b, e.arg(0), e.table_scalar_per_lane());
    case OpCode::Cos: return math::cos(b, e.arg(0), e.table_scalar_per_lane());
    case OpCode::Tan: return math::tan(b, e.arg(0), e.table_scalar_per_lane());
    case OpCode::Erf: return math::erf(b, e.arg(0));
    case OpCode::Erfc: return math::erfc(b, e.arg(0));
    case OpCode::Sinh: return math::sinh(b, e.arg(0));
    case OpCode::Cosh: return math::cosh(b, e.arg(0));
    case OpCode::Exp2: return math::exp2(b, e.arg(0));
    case OpCode::Arctan: return math::arctan(b, e.arg(0));
    case OpCode::Log2: return math::log2(b, e.arg(0));
    case OpCode::Log10: return math::log10(b, e.arg(0));
    case OpCode::Arcsinh: return math::arcsinh(b, e.arg(0));
    case OpCode::Arccosh: return math::arccosh(b, e.arg(0));
    case OpCode::Arctanh: return math::arctanh(b, e.arg(0));
    case OpCode::Arcsin: return math::arcsin(b, e.arg(0));
    case OpCode::Arccos: return math::arccos(b, e.arg(0));
    case OpCode::Arctan2: return math::arctan2(b, e.arg(0), e.arg(1));
    case OpCode::Erfinv: return math::erfinv(b, e.arg(0));
    case OpCode::Gammaln: return math::gammaln(b, e.arg(0));
    case OpCode::Psi: return math::psi(b, e.arg(0));
    case OpCode::TriGamma: return math::tri_gamma(b, e.arg(0));
    case OpCode::Reciprocal: return b.CreateFDiv(llvm::ConstantFP::get(e.arg(0)->getType(), 1.0), e.arg(0));
    default: return nullptr;
  }
}

TypedValue emit_op(OpEmitter& e, const ir::Node& node) {
  if (llvm::Value* value = emit_vector_math(e, node.op)) return e.result(value);
  llvm::IRBuilder<>& b = e.b;
  using P = llvm::CmpInst::Predicate;
  switch (node.op) {
    case OpCode::Add: return e.result(e.floating ? b.CreateFAdd(e.arg(0), e.arg(1)) : b.CreateAdd(e.arg(0), e.arg(1)));
    case OpCode::Sub: return e.result(e.floating ? b.CreateFSub(e.arg(0), e.arg(1)) : b.CreateSub(e.arg(0), e.arg(1)));
    case OpCode::Mul: return e.result(e.floating ? b.CreateFMul(e.arg(0), e.arg(1)) : b.CreateMul(e.arg(0), e.arg(1)));
    case OpCode::TrueDiv: return e.result(b.CreateFDiv(e.arg(0), e.arg(1)));
    case OpCode::IntDiv:
      if (e.floating) return e.result(b.CreateUnaryIntrinsic(llvm::Intrinsic::floor, b.CreateFDiv(e.arg(0), e.arg(1))));
      return e.result(e.floor_divide(e.arg(0), e.arg(1)).quotient);
    case OpCode::Mod:
      if (e.floating) return e.result(e.float_mod(e.arg(0), e.arg(1)));
      return e.result(e.floor_divide(e.arg(0), e.arg(1)).remainder);
    case OpCode::Pow:
      if (e.floating) return e.result(b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, e.arg(0), e.arg(1)));
      return e.result(e.call_per_lane(int_pow_symbol, e.arg(0), e.arg(1)));
    case OpCode::Maximum: return e.result(e.nan_max(e.arg(0), e.arg(1)));
    case OpCode::Minimum: return e.result(e.nan_min(e.arg(0), e.arg(1)));
    case OpCode::Neg: return e.result(e.floating ? b.CreateFNeg(e.arg(0)) : b.CreateNeg(e.arg(0)));
    case OpCode::Abs:
      if (e.floating) return e.result(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, e.arg(0)));
      return e.result(b.CreateBinaryIntrinsic(llvm::Intrinsic::abs, e.arg(0), b.getFalse()));
    case OpCode::Sgn: {
      llvm::Value* x = e.arg(0);
      if (!e.floating)
        return e.result(b.CreateSub(b.CreateZExt(b.CreateICmpSGT(x, e.zero(x)), x->getType()),
                                    b.CreateZExt(b.CreateICmpSLT(x, e.zero(x)), x->getType())));
      llvm::Value* sign = b.CreateFSub(b.CreateUIToFP(b.CreateFCmpOGT(x, e.zero(x)), x->getType()),
                                       b.CreateUIToFP(b.CreateFCmpOLT(x, e.zero(x)), x->getType()));
      return e.result(b.CreateSelect(b.CreateFCmpUNO(x, x), x, sign));
    }
    case OpCode::Sqr: {
      llvm::Value* x = e.arg(0);
      return e.result(e.floating ? b.CreateFMul(x, x) : b.CreateMul(x, x));
    }
    case OpCode::Sqrt: return e.result(b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, e.arg(0)));
    case OpCode::Relu: {
      llvm::Value* x = e.arg(0);
      llvm::Value* positive = e.floating ? b.CreateFCmpOGT(x, e.zero(x)) : b.CreateICmpSGT(x, e.zero(x));
      return e.result(b.CreateSelect(positive, x, e.zero(x)));
    }
    case OpCode::Clip: return e.result(e.nan_min(e.nan_max(e.arg(0), e.arg(1)), e.arg(2)));
    case OpCode::Cast: return e.result(e.arg(0));
    case OpCode::Eq: return e.boolean(e.compare(P::FCMP_OEQ, P::ICMP_EQ));
    case OpCode::Neq: return e.boolean(e.compare(P::FCMP_UNE, P::ICMP_NE));
    case OpCode::Lt: return e.boolean(e.compare(P::FCMP_OLT, P::ICMP_SLT));
    case OpCode::Le: return e.boolean(e.compare(P::FCMP_OLE, P::ICMP_SLE));
    case OpCode::Gt: return e.boolean(e.compare(P::FCMP_OGT, P::ICMP_SGT));
    case OpCode::Ge: return e.boolean(e.compare(P::FCMP_OGE, P::ICMP_SGE));
    case OpCode::And: return e.boolean(b.CreateAnd(e.arg(0), e.arg(1)));
    case OpCode::Or: return e.boolean(b.CreateOr(e.arg(0), e.arg(1)));
    case OpCode::Xor: return e.boolean(b.CreateXor(e.arg(0), e.arg(1)));
    case OpCode::Not: return e.boolean(b.CreateNot(e.arg(0)));
    case OpCode::Switch: return e.result(b.CreateSelect(e.arg(0, DType::bool_), e.arg(1), e.arg(2)));

    // Every other elementwise op runs the scalar function its table record
    // defines, lane by lane: a new op compiles without a case here, and gets
    // one when it deserves vector code.
    default: return e.result(e.call_table_scalar());
  }
  e.not_elementwise();
}

}  // namespace

TypedValue emit_elemwise(llvm::IRBuilder<>& b, llvm::Module& module, const ir::Node& node,
                         const std::vector<TypedValue>& args) {
  OpEmitter emitter(b, module, node, args);
  return convert(b, emit_op(emitter, node), node.type.dtype);
}

}  // namespace graphjit::codegen
