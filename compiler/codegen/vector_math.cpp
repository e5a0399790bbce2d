#include "compiler/codegen/vector_math.hpp"

#include "compiler/codegen/vector_math_emitter.hpp"

#include "compiler/codegen/llvm_dtype.hpp"

#include <llvm/IR/MDBuilder.h>

namespace graphjit::codegen::math {

using detail::Emitter;

llvm::Value* exp(llvm::IRBuilder<>& b, llvm::Value* x) { return Emitter(b, x).exp(x); }
llvm::Value* log(llvm::IRBuilder<>& b, llvm::Value* x) { return Emitter(b, x).log(x); }
llvm::Value* log1p(llvm::IRBuilder<>& b, llvm::Value* x) { return Emitter(b, x).log1p(x); }
llvm::Value* expm1(llvm::IRBuilder<>& b, llvm::Value* x) { return Emitter(b, x).expm1(x); }
llvm::Value* tanh(llvm::IRBuilder<>& b, llvm::Value* x) { return Emitter(b, x).tanh(x); }
llvm::Value* sigmoid(llvm::IRBuilder<>& b, llvm::Value* x) { return Emitter(b, x).sigmoid(x); }
llvm::Value* softplus(llvm::IRBuilder<>& b, llvm::Value* x) { return Emitter(b, x).softplus(x); }


llvm::Value* in_double(llvm::IRBuilder<>& b, llvm::Value* x,
                       const std::function<llvm::Value*(llvm::IRBuilder<>&, llvm::Value*)>& compute) {
  if (x->getType()->getScalarType()->isDoubleTy()) return compute(b, x);
  llvm::Type* wide = b.getDoubleTy();
  if (auto* vector = llvm::dyn_cast<llvm::FixedVectorType>(x->getType()))
    wide = llvm::FixedVectorType::get(wide, vector->getNumElements());
  return b.CreateFPTrunc(compute(b, b.CreateFPExt(x, wide)), x->getType());
}

llvm::Value* per_lane_where(llvm::IRBuilder<>& b, llvm::Value* mask, llvm::Value* x, llvm::Value* vector_result,
                            const LaneFallback& fallback) {
  const unsigned n = lanes(x);
  llvm::Value* any = n == 1 ? mask : b.CreateOrReduce(mask);
  llvm::LLVMContext& context = b.getContext();
  llvm::Function* function = b.GetInsertBlock()->getParent();
  llvm::BasicBlock* from = b.GetInsertBlock();
  llvm::BasicBlock* slow = llvm::BasicBlock::Create(context, "beyond_vector_range", function);
  llvm::BasicBlock* done = llvm::BasicBlock::Create(context, "vector_range_done", function);
  b.CreateCondBr(any, slow, done, llvm::MDBuilder(context).createBranchWeights(1, 1 << 20));

  b.SetInsertPoint(slow);
  llvm::Value* patched = n == 1 ? fallback(x) : vector_result;
  for (unsigned lane = 0; n > 1 && lane < n; ++lane) {
    llvm::Value* scalar = fallback(b.CreateExtractElement(x, lane));
    llvm::Value* kept = b.CreateExtractElement(vector_result, lane);
    patched = b.CreateInsertElement(patched, b.CreateSelect(b.CreateExtractElement(mask, lane), scalar, kept), lane);
  }
  llvm::BasicBlock* slow_end = b.GetInsertBlock();
  b.CreateBr(done);

  b.SetInsertPoint(done);
  llvm::PHINode* result = b.CreatePHI(vector_result->getType(), 2);
  result->addIncoming(vector_result, from);
  result->addIncoming(patched, slow_end);
  return result;
}

}  // namespace graphjit::codegen::math
