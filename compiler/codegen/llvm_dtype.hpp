// How graphjit dtypes live in LLVM registers and memory, and conversions
// between them. Every function works on scalars (width 1) and on vectors of
// `width` lanes alike, which is what lets one emitter produce both a kernel's
// vector loop and its scalar loop.
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <llvm/IR/IRBuilder.h>

#include <cstdint>

namespace graphjit::codegen {

// A value in a register and the graphjit dtype it holds (LLVM's integer types
// do not say whether they are signed, and i8 is int8, uint8 or a stored bool).
struct TypedValue {
  llvm::Value* value = nullptr;
  DType dtype = DType::float64;
};

// In registers bool is i1; in memory it is one byte holding 0 or 1.
llvm::Type* register_type(llvm::LLVMContext& context, DType dtype, unsigned width);
llvm::Type* memory_type(llvm::LLVMContext& context, DType dtype, unsigned width);

// The number of lanes of `value` (1 for a scalar).
unsigned lanes(const llvm::Value* value);

// C++'s static_cast between the dtypes, except that float to integer saturates
// (and maps nan to 0) instead of being undefined out of range; to bool is `!= 0`.
llvm::Value* convert(llvm::IRBuilder<>& b, llvm::Value* value, DType from, DType to);
inline TypedValue convert(llvm::IRBuilder<>& b, TypedValue v, DType to) {
  return {convert(b, v.value, v.dtype, to), to};
}

// The value of a one-element tensor, splatted to `width` lanes, exactly
// (int64 values do not pass through double).
llvm::Constant* constant_of(llvm::LLVMContext& context, const Tensor& one_element, unsigned width);
// `value` in the type of `like` (float or integer lanes).
llvm::Constant* constant_like(llvm::Value* like, double value);

// Memory to register and back (bool: byte != 0, and zero-extension to a byte).
// `width` consecutive elements at `pointer`.
llvm::Value* load(llvm::IRBuilder<>& b, llvm::Value* pointer, DType dtype, unsigned width);
void store(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* pointer, DType dtype);
// `width` consecutive elements at `pointer`, only the lanes on in `mask`
// (lanes off load as zero, and are not stored).
llvm::Value* masked_load(llvm::IRBuilder<>& b, llvm::Value* pointer, DType dtype, llvm::Value* mask);
void masked_store(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* pointer, DType dtype, llvm::Value* mask);
// One element per lane from a vector of pointers; lanes off in `mask` are not
// touched (loaded lanes are then undefined). A null mask means all lanes.
llvm::Value* gather(llvm::IRBuilder<>& b, llvm::Value* pointers, DType dtype, llvm::Value* mask);
void scatter(llvm::IRBuilder<>& b, llvm::Value* value, llvm::Value* pointers, DType dtype, llvm::Value* mask);

}  // namespace graphjit::codegen
