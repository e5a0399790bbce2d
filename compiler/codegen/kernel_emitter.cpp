#include "compiler/codegen/kernel_emitter.hpp"

#include "compiler/codegen/elemwise_emitter.hpp"
#include "compiler/codegen/llvm_dtype.hpp"

#include <llvm/ADT/APFloat.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <limits>
#include <unordered_map>

namespace graphjit::codegen {

namespace {

using Role = Operand::Role;

class KernelEmitter {
 public:
  KernelEmitter(const KernelPlan& plan, llvm::Module& module, const jit::HostTarget& host)
      : plan_(plan), module_(module), context_(module.getContext()), b_(context_) {
    create_function(host);
  }

  llvm::Function* emit() {
    b_.SetInsertPoint(llvm::BasicBlock::Create(context_, "entry", function_));
    load_arguments();
    emit_dim(0, base_);
    b_.CreateRetVoid();
    return function_;
  }

 private:
  using Values = std::vector<llvm::Value*>;

  void create_function(const jit::HostTarget& host) {
    llvm::Type* ptr = b_.getPtrTy();
    auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr, ptr}, false);
    function_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, plan_.symbol, module_);
    function_->addFnAttr(llvm::Attribute::NoUnwind);
    function_->addFnAttr("target-cpu", host.cpu);
    function_->addFnAttr("target-features", host.features);
    // The kernels choose their vector width themselves; tell the backend to keep it.
    function_->addFnAttr("prefer-vector-width", std::to_string(host.vector_bits));
    function_->addFnAttr("min-legal-vector-width", std::to_string(host.vector_bits));
    for (unsigned i = 0; i < 3; ++i) {
      function_->addParamAttr(i, llvm::Attribute::NoCapture);
      function_->addParamAttr(i, llvm::Attribute::ReadOnly);
      function_->addParamAttr(i, llvm::Attribute::NoAlias);
    }
  }

  void load_arguments() {
    llvm::Argument* pointers = function_->getArg(0);
    llvm::Argument* shape = function_->getArg(1);
    llvm::Argument* strides = function_->getArg(2);
    const int L = plan_.loop_ndim;
    for (int d = 0; d < L; ++d) extent_.push_back(b_.CreateLoad(b_.getInt64Ty(), b_.CreateConstGEP1_64(b_.getInt64Ty(), shape, d)));
    for (std::size_t k = 0; k < plan_.operands.size(); ++k) {
      const Operand& operand = plan_.operands[k];
      base_.push_back(b_.CreateLoad(b_.getPtrTy(), b_.CreateConstGEP1_64(b_.getPtrTy(), pointers, k)));
      Values elements(static_cast<std::size_t>(L), nullptr), bytes(static_cast<std::size_t>(L), nullptr);
      for (int d = 0; d < L; ++d) {
        if (operand.stride_zero[d]) continue;
        elements[d] = b_.CreateLoad(b_.getInt64Ty(), b_.CreateConstGEP1_64(b_.getInt64Ty(), strides, k * L + d));
        bytes[d] = b_.CreateMul(elements[d], b_.getInt64(dtype_size(operand.dtype)));
      }
      stride_elements_.push_back(std::move(elements));
      stride_bytes_.push_back(std::move(bytes));
    }
  }

  // for (i = begin; i < end; i += step), threading `carried` values through
  // the iterations; returns their values after the loop.
  Values emit_loop(llvm::Value* begin, llvm::Value* end, std::uint64_t step, const Values& carried,
                   const std::function<Values(llvm::Value* i, const Values& carried)>& body) {
    llvm::BasicBlock* before = b_.GetInsertBlock();
    llvm::BasicBlock* loop = llvm::BasicBlock::Create(context_, "loop", function_);
    llvm::BasicBlock* after = llvm::BasicBlock::Create(context_, "after", function_);
    b_.CreateCondBr(b_.CreateICmpSLT(begin, end), loop, after);

    b_.SetInsertPoint(loop);
    llvm::PHINode* i = b_.CreatePHI(b_.getInt64Ty(), 2, "i");
    i->addIncoming(begin, before);
    Values current;
    for (llvm::Value* c : carried) {
      llvm::PHINode* phi = b_.CreatePHI(c->getType(), 2);
      phi->addIncoming(c, before);
      current.push_back(phi);
    }
    const Values next = body(i, current);
    llvm::Value* i_next = b_.CreateAdd(i, b_.getInt64(step), "", /*HasNUW=*/true, /*HasNSW=*/true);
    llvm::BasicBlock* latch = b_.GetInsertBlock();
    i->addIncoming(i_next, latch);
    for (std::size_t k = 0; k < next.size(); ++k) llvm::cast<llvm::PHINode>(current[k])->addIncoming(next[k], latch);
    b_.CreateCondBr(b_.CreateICmpSLT(i_next, end), loop, after);

    b_.SetInsertPoint(after);
    Values out;
    for (std::size_t k = 0; k < carried.size(); ++k) {
      llvm::PHINode* phi = b_.CreatePHI(carried[k]->getType(), 2);
      phi->addIncoming(carried[k], before);
      phi->addIncoming(next[k], latch);
      out.push_back(phi);
    }
    return out;
  }

  llvm::Value* offset(llvm::Value* pointer, llvm::Value* bytes) {
    return b_.CreateInBoundsGEP(b_.getInt8Ty(), pointer, bytes);
  }

  void emit_dim(int d, const Values& pointers) {
    if (d == plan_.loop_ndim - 1) return emit_innermost(pointers);
    emit_loop(b_.getInt64(0), extent_[d], 1, {}, [&](llvm::Value* i, const Values&) {
      Values moved = pointers;
      for (std::size_t k = 0; k < moved.size(); ++k)
        if (stride_bytes_[k][d]) moved[k] = offset(pointers[k], b_.CreateMul(i, stride_bytes_[k][d]));
      emit_dim(d + 1, moved);
      return Values{};
    });
  }

  // --- The innermost dim -----------------------------------------------------

  // Whether operand k's reduction accumulates in registers along the innermost dim.
  bool reduces_innermost(std::size_t k) const {
    const Operand& operand = plan_.operands[k];
    return operand.role == Role::Reduction && operand.stride_zero[plan_.loop_ndim - 1];
  }

  // Whether operand k moves along the innermost dim (loaded or stored per lane).
  bool moves_innermost(std::size_t k) const { return !plan_.operands[k].stride_zero[plan_.loop_ndim - 1]; }

  // The innermost loop steps by vector_width lanes. A step whose lanes are
  // all in range and whose operands all have unit stride uses plain vector
  // loads and stores; any other step (the remainder, or strided operands)
  // gathers and scatters, with lanes past the end masked off. Both feed one
  // copy of the computation, which keeps the code LLVM must compile small.
  void emit_innermost(const Values& pointers) {
    const int d = plan_.loop_ndim - 1;
    const unsigned width = static_cast<unsigned>(plan_.vector_width);
    llvm::Value* n = extent_[d];

    // Inputs broadcast along this dim are loop-invariant: load them once.
    std::unordered_map<std::size_t, TypedValue> invariant;
    llvm::Value* unit_strides = b_.getTrue();
    for (std::size_t k = 0; k < plan_.operands.size(); ++k) {
      const Operand& operand = plan_.operands[k];
      if (moves_innermost(k))
        unit_strides = b_.CreateAnd(unit_strides, b_.CreateICmpEQ(stride_elements_[k][d], b_.getInt64(1)));
      else if (operand.role == Role::Input)
        invariant[k] = {b_.CreateVectorSplat(width, load(b_, pointers[k], operand.dtype, 1)), operand.dtype};
    }
    std::vector<llvm::Constant*> lane_numbers;
    for (unsigned lane = 0; lane < width; ++lane) lane_numbers.push_back(b_.getInt64(lane));
    llvm::Value* lanes_vector = llvm::ConstantVector::get(lane_numbers);

    Values accumulators;
    for (std::size_t k = 0; k < plan_.operands.size(); ++k)
      if (reduces_innermost(k)) accumulators.push_back(identity(plan_.operands[k], width));

    accumulators = emit_loop(b_.getInt64(0), n, width, accumulators, [&](llvm::Value* i, const Values& carried) {
      llvm::Value* remaining = b_.CreateSub(n, i);
      llvm::Value* full = b_.CreateAnd(unit_strides, b_.CreateICmpUGE(remaining, b_.getInt64(width)));
      // For the other steps, emitted where they are used so that full steps do not pay for them:
      auto count = [&] { return b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, remaining, b_.getInt64(width)); };
      auto in_range = [&] { return b_.CreateICmpULT(lanes_vector, b_.CreateVectorSplat(width, count())); };
      auto contiguous_address = [&](std::size_t k) {
        return offset(pointers[k], b_.CreateMul(i, b_.getInt64(dtype_size(plan_.operands[k].dtype))));
      };
      auto lane_addresses = [&](std::size_t k) {
        // Lanes past the end repeat the last element, so that every address is valid.
        llvm::Value* last = b_.CreateVectorSplat(width, b_.CreateSub(count(), b_.getInt64(1)));
        llvm::Value* index = b_.CreateAdd(b_.CreateVectorSplat(width, i),
                                          b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, lanes_vector, last));
        return offset(pointers[k], b_.CreateMul(index, b_.CreateVectorSplat(width, stride_bytes_[k][d])));
      };

      llvm::BasicBlock* contiguous_loads = new_block("contiguous_loads");
      llvm::BasicBlock* gathers = new_block("gathers");
      llvm::BasicBlock* compute = new_block("compute");
      b_.CreateCondBr(full, contiguous_loads, gathers);
      std::vector<std::pair<std::size_t, Values>> loaded;  // per moving input: {contiguous, gathered}
      b_.SetInsertPoint(contiguous_loads);
      for (std::size_t k = 0; k < plan_.operands.size(); ++k)
        if (plan_.operands[k].role == Role::Input && moves_innermost(k))
          loaded.push_back({k, {load(b_, contiguous_address(k), plan_.operands[k].dtype, width)}});
      b_.CreateBr(compute);
      b_.SetInsertPoint(gathers);
      for (auto& [k, values] : loaded) values.push_back(gather(b_, lane_addresses(k), plan_.operands[k].dtype, nullptr));
      b_.CreateBr(compute);

      b_.SetInsertPoint(compute);
      std::unordered_map<std::size_t, TypedValue> inputs = invariant;
      for (const auto& [k, values] : loaded) {
        llvm::PHINode* phi = b_.CreatePHI(values[0]->getType(), 2);
        phi->addIncoming(values[0], contiguous_loads);
        phi->addIncoming(values[1], gathers);
        inputs[k] = {phi, plan_.operands[k].dtype};
      }
      const std::unordered_map<const ir::Node*, TypedValue> values = evaluate(width, inputs);
      auto result = [&](std::size_t k) { return convert(b_, values.at(plan_.operands[k].value), plan_.operands[k].dtype).value; };

      llvm::BasicBlock* contiguous_stores = new_block("contiguous_stores");
      llvm::BasicBlock* scatters = new_block("scatters");
      llvm::BasicBlock* next = new_block("next");
      b_.CreateCondBr(full, contiguous_stores, scatters);
      b_.SetInsertPoint(contiguous_stores);
      for (std::size_t k = 0; k < plan_.operands.size(); ++k) {
        const Operand& operand = plan_.operands[k];
        if (operand.role == Role::Input || reduces_innermost(k)) continue;
        llvm::Value* v = result(k);
        if (operand.role == Role::Reduction) v = combine(operand, load(b_, contiguous_address(k), operand.dtype, width), v);
        store(b_, v, contiguous_address(k), operand.dtype);
      }
      b_.CreateBr(next);
      b_.SetInsertPoint(scatters);
      llvm::Value* partial_lanes = in_range();
      for (std::size_t k = 0; k < plan_.operands.size(); ++k) {
        const Operand& operand = plan_.operands[k];
        if (operand.role == Role::Input || reduces_innermost(k)) continue;
        llvm::Value* v = result(k);
        llvm::Value* where = lane_addresses(k);
        if (operand.role == Role::Reduction) v = combine(operand, gather(b_, where, operand.dtype, partial_lanes), v);
        scatter(b_, v, where, operand.dtype, partial_lanes);
      }
      b_.CreateBr(next);

      b_.SetInsertPoint(next);
      llvm::PHINode* lanes_used = b_.CreatePHI(partial_lanes->getType(), 2);
      lanes_used->addIncoming(llvm::Constant::getAllOnesValue(partial_lanes->getType()), contiguous_stores);
      lanes_used->addIncoming(partial_lanes, scatters);
      Values updated;
      for (std::size_t k = 0, a = 0; k < plan_.operands.size(); ++k)
        if (reduces_innermost(k)) {
          const Operand& operand = plan_.operands[k];
          llvm::Value* v = b_.CreateSelect(lanes_used, result(k), identity(operand, width));
          updated.push_back(combine(operand, carried[a++], v));
        }
      return updated;
    });

    for (std::size_t k = 0, a = 0; k < plan_.operands.size(); ++k) {
      if (!reduces_innermost(k)) continue;
      const Operand& operand = plan_.operands[k];
      llvm::Value* total = horizontal(operand, accumulators[a++]);
      store(b_, combine(operand, load(b_, pointers[k], operand.dtype, 1), total), pointers[k], operand.dtype);
    }
  }

  llvm::BasicBlock* new_block(const char* name) { return llvm::BasicBlock::Create(context_, name, function_); }

  // The cluster's values for one step of `width` lanes, given its loaded inputs.
  std::unordered_map<const ir::Node*, TypedValue> evaluate(unsigned width,
                                                           const std::unordered_map<std::size_t, TypedValue>& inputs) {
    std::unordered_map<const ir::Node*, TypedValue> values;
    for (const ir::Node* constant : plan_.constants) values[constant] = compiled_in(*constant, width);
    for (const auto& [k, value] : inputs) values[plan_.operands[k].value] = value;
    for (const auto& node : plan_.nodes) {
      std::vector<TypedValue> args;
      for (const auto& in : node->inputs) args.push_back(values.at(in.get()));
      values[node.get()] = emit_elemwise(b_, module_, *node, args);
    }
    return values;
  }

  TypedValue compiled_in(const ir::Node& constant, unsigned width) {
    return {constant_of(context_, constant.value, width), constant.value.dtype()};
  }

  // --- Reductions ------------------------------------------------------------

  llvm::Constant* identity(const Operand& operand, unsigned width) {
    const DType dtype = operand.dtype;
    llvm::Type* type = register_type(context_, dtype, width);
    const bool is_signed = dtype != DType::uint8 && dtype != DType::bool_;
    switch (operand.reduce) {
      case ReduceOp::Sum: return constant_like_type(type, 0.0);
      case ReduceOp::Prod: return constant_like_type(type, 1.0);
      case ReduceOp::Max:
        if (is_float(dtype)) return llvm::ConstantFP::getInfinity(type, /*Negative=*/true);
        return llvm::ConstantInt::get(type, is_signed ? llvm::APInt::getSignedMinValue(type->getScalarSizeInBits())
                                                      : llvm::APInt::getMinValue(type->getScalarSizeInBits()));
      case ReduceOp::Min:
        if (is_float(dtype)) return llvm::ConstantFP::getInfinity(type, /*Negative=*/false);
        return llvm::ConstantInt::get(type, is_signed ? llvm::APInt::getSignedMaxValue(type->getScalarSizeInBits())
                                                      : llvm::APInt::getMaxValue(type->getScalarSizeInBits()));
    }
    throw std::logic_error("codegen: invalid reduction");
  }

  static llvm::Constant* constant_like_type(llvm::Type* type, double value) {
    if (type->isFPOrFPVectorTy()) return llvm::ConstantFP::get(type, value);
    return llvm::ConstantInt::get(type, static_cast<std::uint64_t>(value));
  }

  // acc (op) v, lanewise; max and min propagate nan like numpy's.
  llvm::Value* combine(const Operand& operand, llvm::Value* acc, llvm::Value* v) {
    const DType dtype = operand.dtype;
    const bool floating = is_float(dtype), boolean = dtype == DType::bool_, is_unsigned = dtype == DType::uint8;
    switch (operand.reduce) {
      case ReduceOp::Sum:
        return floating ? b_.CreateFAdd(acc, v) : boolean ? b_.CreateOr(acc, v) : b_.CreateAdd(acc, v);
      case ReduceOp::Prod:
        return floating ? b_.CreateFMul(acc, v) : boolean ? b_.CreateAnd(acc, v) : b_.CreateMul(acc, v);
      case ReduceOp::Max:
        if (floating) return b_.CreateSelect(b_.CreateFCmpUNO(v, v), v, b_.CreateSelect(b_.CreateFCmpOLT(acc, v), v, acc));
        return b_.CreateBinaryIntrinsic(boolean || is_unsigned ? llvm::Intrinsic::umax : llvm::Intrinsic::smax, acc, v);
      case ReduceOp::Min:
        if (floating) return b_.CreateSelect(b_.CreateFCmpUNO(v, v), v, b_.CreateSelect(b_.CreateFCmpOLT(v, acc), v, acc));
        return b_.CreateBinaryIntrinsic(boolean || is_unsigned ? llvm::Intrinsic::umin : llvm::Intrinsic::smin, acc, v);
    }
    throw std::logic_error("codegen: invalid reduction");
  }

  // Combines the lanes of a vector accumulator pairwise, halving it each step.
  llvm::Value* horizontal(const Operand& operand, llvm::Value* v) {
    for (unsigned n = lanes(v); n > 1; n /= 2) {
      std::vector<int> low, high;
      for (unsigned j = 0; j < n / 2; ++j) {
        low.push_back(static_cast<int>(j));
        high.push_back(static_cast<int>(j + n / 2));
      }
      v = combine(operand, b_.CreateShuffleVector(v, low), b_.CreateShuffleVector(v, high));
    }
    return b_.CreateExtractElement(v, std::uint64_t{0});
  }

  const KernelPlan& plan_;
  llvm::Module& module_;
  llvm::LLVMContext& context_;
  llvm::IRBuilder<> b_;
  llvm::Function* function_ = nullptr;
  Values extent_;                              // per loop dim
  Values base_;                                // per operand
  std::vector<Values> stride_elements_;        // [operand][dim], null where stride_zero
  std::vector<Values> stride_bytes_;           // [operand][dim], null where stride_zero
};

}  // namespace

llvm::Function* emit_kernel(const KernelPlan& plan, llvm::Module& module, const jit::HostTarget& host) {
  return KernelEmitter(plan, module, host).emit();
}

}  // namespace graphjit::codegen
