#include "compiler/codegen/llvm_dtype.hpp"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/Intrinsics.h>

#include <stdexcept>

namespace graphjit::codegen {

namespace {

llvm::Type* scalar_type(llvm::LLVMContext& context, DType dtype, bool in_memory) {
  switch (dtype) {
    case DType::bool_: return in_memory ? llvm::Type::getInt8Ty(context) : llvm::Type::getInt1Ty(context);
    case DType::int8:
    case DType::uint8: return llvm::Type::getInt8Ty(context);
    case DType::int16: return llvm::Type::getInt16Ty(context);
    case DType::int32: return llvm::Type::getInt32Ty(context);
    case DType::int64: return llvm::Type::getInt64Ty(context);
    case DType::float32: return llvm::Type::getFloatTy(context);
    case DType::float64: return llvm::Type::getDoubleTy(context);
  }
  throw std::logic_error("codegen: invalid dtype");
}

llvm::Type* with_width(llvm::Type* scalar, unsigned width) {
  return width == 1 ? scalar : llvm::FixedVectorType::get(scalar, width);
}

bool is_signed_int(DType t) { return t != DType::bool_ && t != DType::uint8 && !is_float(t); }

}  // namespace

llvm::Type* register_type(llvm::LLVMContext& context, DType dtype, unsigned width) {
  return with_width(scalar_type(context, dtype, false), width);
}

llvm::Type* memory_type(llvm::LLVMContext& context, DType dtype, unsigned width) {
  return with_width(scalar_type(context, dtype, true), width);
}

unsigned lanes(const llvm::Value* value) {
  if (auto* vector = llvm::dyn_cast<llvm::FixedVectorType>(value->getType())) return vector->getNumElements();
  return 1;
}

llvm::Value* convert(llvm::IRBuilder<>& b, llvm::Value* value, DType from, DType to) {
  if (from == to) return value;
  llvm::Type* target = register_type(b.getContext(), to, lanes(value));
  if (to == DType::bool_) {
    if (is_float(from)) return b.CreateFCmpUNE(value, constant_like(value, 0.0));  // nan is true, as in C++
    return b.CreateICmpNE(value, constant_like(value, 0.0));
  }
  if (is_float(from) && is_float(to)) return b.CreateFPCast(value, target);
  if (is_float(from)) {
    // Saturating: C++ leaves out-of-range conversions undefined, we never return garbage.
    auto id = to == DType::uint8 ? llvm::Intrinsic::fptoui_sat : llvm::Intrinsic::fptosi_sat;
    return b.CreateIntrinsic(id, {target, value->getType()}, {value});
  }
  if (is_float(to)) return is_signed_int(from) ? b.CreateSIToFP(value, target) : b.CreateUIToFP(value, target);
  return b.CreateIntCast(value, target, is_signed_int(from));
}

llvm::Constant* constant_of(llvm::LLVMContext& context, const Tensor& one_element, unsigned width) {
  const DType dtype = one_element.dtype();
  llvm::Type* type = register_type(context, dtype, width);
  if (is_float(dtype)) return llvm::ConstantFP::get(type, one_element.item<double>());
  const auto bits = static_cast<std::uint64_t>(one_element.item<std::int64_t>());
  if (dtype == DType::bool_) return llvm::ConstantInt::get(type, bits != 0 ? 1 : 0);
  return llvm::ConstantInt::get(type, bits, /*IsSigned=*/true);
}

llvm::Constant* constant_like(llvm::Value* like, double value) {
  llvm::Type* type = like->getType();
  if (type->isFPOrFPVectorTy()) return llvm::ConstantFP::get(type, value);
  return llvm::ConstantInt::get(type, static_cast<std::uint64_t>(static_cast<std::int64_t>(value)), true);
}

llvm::Value* load(llvm::IRBuilder<>& b, llvm::Value* pointer, DType dtype, unsigned width) {
  llvm::LLVMContext& context = b.getContext();
  llvm::Type* type = memory_type(context, dtype, width);
  const auto alignment = llvm::Align(dtype_size(dtype));
  llvm::Value* loaded = b.CreateAlignedLoad(type, pointer, alignment);
  if (dtype == DType::bool_) return b.CreateICmpNE(loaded, llvm::Constant::getNullValue(type));
  return loaded;
}

llvm::Value* masked_load(llvm::IRBuilder<>& b, llvm::Value* pointer, DType dtype, llvm::Value* mask) {
  llvm::Type* type = memory_type(b.getContext(), dtype, lanes(mask));
  llvm::Value* loaded =
      b.CreateMaskedLoad(type, pointer, llvm::Align(dtype_size(dtype)), mask, llvm::Constant::getNullValue(type));
  if (dtype == DType::bool_) return b.CreateICmpNE(loaded, llvm::Constant::getNullValue(type));
  return loaded;
}

void masked_store(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* pointer, DType dtype, llvm::Value* mask) {
  if (dtype == DType::bool_) value = b.CreateZExt(value, memory_type(b.getContext(), dtype, lanes(value)));
  b.CreateMaskedStore(value, pointer, llvm::Align(dtype_size(dtype)), mask);
}

llvm::Value* gather(llvm::IRBuilder<>& b, llvm::Value* pointers, DType dtype, llvm::Value* mask) {
  llvm::Type* type = memory_type(b.getContext(), dtype, lanes(pointers));
  llvm::Value* loaded = b.CreateMaskedGather(type, pointers, llvm::Align(dtype_size(dtype)), mask);
  if (dtype == DType::bool_) return b.CreateICmpNE(loaded, llvm::Constant::getNullValue(type));
  return loaded;
}

void scatter(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* pointers, DType dtype, llvm::Value* mask) {
  if (dtype == DType::bool_) value = b.CreateZExt(value, memory_type(b.getContext(), dtype, lanes(value)));
  b.CreateMaskedScatter(value, pointers, llvm::Align(dtype_size(dtype)), mask);
}

void store(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* pointer, DType dtype) {
  if (dtype == DType::bool_) value = b.CreateZExt(value, memory_type(b.getContext(), dtype, lanes(value)));
  b.CreateAlignedStore(value, pointer, llvm::Align(dtype_size(dtype)));
}

}  // namespace graphjit::codegen
