#include "compiler/codegen/kernel_emitter.hpp"

#include "compiler/codegen/elemwise_emitter.hpp"
#include "compiler/codegen/lane_transpose.hpp"
#include "compiler/codegen/llvm_dtype.hpp"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <functional>
#include <map>
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
    const char* names[] = {"pointers", "shape", "strides"};
    for (unsigned i = 0; i < 3; ++i) {
      function_->getArg(i)->setName(names[i]);
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
    for (int d = 0; d < L; ++d)
      extent_.push_back(b_.CreateLoad(b_.getInt64Ty(), b_.CreateConstGEP1_64(b_.getInt64Ty(), shape, d)));
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
      llvm::AllocaInst* buffer = nullptr;
      if (operand.role == Role::Input && !operand.stride_zero[L - 1]) {
        buffer = b_.CreateAlloca(memory_type(context_, operand.dtype, static_cast<unsigned>(plan_.vector_width)));
        buffer->setAlignment(llvm::Align(dtype_size(operand.dtype)));
      }
      repeat_buffer_.push_back(buffer);
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
    // Rows the row-lanes loop leaves (all, when it is not taken) run one by one.
    llvm::Value* first = d == plan_.loop_ndim - 2 && plan_.row_lanes_max_extent > 0 ? emit_row_lanes(pointers)
                                                                                     : b_.getInt64(0);
    emit_loop(first, extent_[d], 1, {}, [&](llvm::Value* i, const Values&) {
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

  // Whether operand k is an input read along the innermost dim, at run time
  // either with stride 1 or with stride 0 (see repeat_buffer_).
  bool reads_innermost(std::size_t k) const { return plan_.operands[k].role == Role::Input && moves_innermost(k); }

  // How one step of the innermost loop reaches memory.
  // Unit strides means 1, or for inputs 0 or 1.
  enum class Access {
    contiguous,  // unit strides, all lanes in range: plain vector loads and stores
    masked,      // unit strides, the last step of a row: lanes past the end masked off
    lanes,       // some other stride: gathers and scatters (lanes past the end masked off)
  };
  static constexpr Access accesses[] = {Access::contiguous, Access::masked, Access::lanes};

  // What every step of one row of the innermost loop shares.
  struct Row {
    Values pointers;     // per operand: the row's first element
    llvm::Value* n;      // the row's length
    unsigned width;      // lanes per step
    llvm::Value* unit_strides;  // every operand moves by 1 (inputs: or 0) per element
    Values repeated;     // per input read along the row: whether its stride is 0
    std::unordered_map<std::size_t, TypedValue> invariant;  // inputs broadcast along the row
    llvm::Value* lane_numbers;  // <0, 1, ..., width-1>
  };

  // One step of the row: lanes i .. i+width-1, of which those below n exist.
  struct Step {
    llvm::Value* i;
    llvm::Value* remaining;  // n - i
    llvm::Value* full;       // remaining >= width
  };

  // The innermost loop steps by vector_width lanes. Two forms:
  //  - the general loop: each step reaches memory by one of the three
  //    Accesses, all three feeding a single copy of the computation. It
  //    tests the strides and the repeat buffers on every step, and LLVM does
  //    not unswitch it: in x + b that is ~5 instructions per float64 element.
  //  - for a small computation (see max_versioned_body), two loops, each of a
  //    single Access and without branches: rows of unit strides run their
  //    full steps in plain vector loads and stores; their last, partial step
  //    and the rows of other strides then gather and scatter. That holds two
  //    copies of the computation, which LLVM must compile: worth it only
  //    where the computation is small, so that the per-step tests weigh most
  //    and the copy costs least.
  void emit_innermost(const Values& pointers) {
    const Row row = prepare_row(pointers);
    Values accumulators;
    for (std::size_t k = 0; k < plan_.operands.size(); ++k)
      if (reduces_innermost(k))
        accumulators.push_back(identity(plan_.operands[k].reduce, accumulator_dtype(plan_.operands[k]), row.width));
    if (computation_size(row) > max_versioned_body) {
      accumulators = emit_loop(b_.getInt64(0), row.n, row.width, accumulators,
                               [&](llvm::Value* i, const Values& carried) { return emit_general_step(row, i, carried); });
    } else {
      llvm::Value* full_steps = b_.CreateSub(row.n, b_.CreateURem(row.n, b_.getInt64(row.width)));
      llvm::Value* contiguous_end = b_.CreateSelect(row.unit_strides, full_steps, b_.getInt64(0), "contiguous_end");
      accumulators = emit_loop(b_.getInt64(0), contiguous_end, row.width, accumulators,
                               [&](llvm::Value* i, const Values& carried) {
                                 return emit_single_access_step(row, Step{i, nullptr, nullptr}, Access::contiguous,
                                                                carried);
                               });
      accumulators = emit_loop(contiguous_end, row.n, row.width, accumulators, [&](llvm::Value* i, const Values& carried) {
        return emit_single_access_step(row, Step{i, b_.CreateSub(row.n, i), nullptr}, Access::lanes, carried);
      });
    }
    store_row_reductions(row, accumulators);
  }

  // The largest computation, in IR instructions per step as emitted, that
  // gets the two loops of a single Access instead of the general loop. The
  // seed's, LeNet's and the RNN's kernels measure 0-7 (adds, products,
  // divisions, their sums) or 33-45 (anything with tanh, exp or log):
  // docs/architecture.md has the measurements.
  static constexpr std::size_t max_versioned_body = 16;

  // How many instructions one step's computation emits: it is emitted once
  // on placeholder inputs into blocks of its own, counted and erased.
  std::size_t computation_size(const Row& row) {
    llvm::BasicBlock* resume = b_.GetInsertBlock();
    const std::size_t blocks_before = function_->size();
    b_.SetInsertPoint(new_block("scratch"));
    std::unordered_map<std::size_t, TypedValue> inputs = row.invariant;
    for (std::size_t k = 0; k < plan_.operands.size(); ++k)
      if (reads_innermost(k)) {
        const DType dtype = plan_.operands[k].dtype;
        llvm::Value* placeholder = llvm::PoisonValue::get(register_type(context_, dtype, row.width));
        inputs[k] = {b_.CreateFreeze(placeholder), dtype};  // an instruction, which the builder cannot fold
      }
    const unsigned placeholders = function_->getInstructionCount();
    evaluate(row.width, inputs);
    const std::size_t size = function_->getInstructionCount() - placeholders;
    std::vector<llvm::BasicBlock*> scratch;
    for (auto it = std::next(function_->begin(), static_cast<std::ptrdiff_t>(blocks_before)); it != function_->end(); ++it)
      scratch.push_back(&*it);
    for (llvm::BasicBlock* block : scratch) block->dropAllReferences();
    for (llvm::BasicBlock* block : scratch) block->eraseFromParent();
    b_.SetInsertPoint(resume);
    return size;
  }

  // One step of the general loop: loads by the step's Access, the
  // computation, stores by the Access again.
  Values emit_general_step(const Row& row, llvm::Value* i, const Values& carried) {
    llvm::Value* remaining = b_.CreateSub(row.n, i);
    const Step step{i, remaining, b_.CreateICmpUGE(remaining, b_.getInt64(row.width))};
    std::unordered_map<std::size_t, TypedValue> inputs = row.invariant;
    for (const auto& [k, value] : emit_loads(row, step)) inputs[k] = value;
    const std::unordered_map<const ir::Node*, TypedValue> values = evaluate(row.width, inputs);
    llvm::Value* lanes_used = emit_stores(row, step, values);
    return accumulate_in_registers(row, values, lanes_used, carried);
  }

  // One step reaching memory by `access` alone, without branches: contiguous
  // (every lane in range) or lanes (gathers read all lanes; the lanes past
  // the end are masked off in stores and reductions).
  Values emit_single_access_step(const Row& row, const Step& step, Access access, const Values& carried) {
    std::unordered_map<std::size_t, TypedValue> inputs = row.invariant;
    for (const auto& [k, v] : load_access(row, step, access, nullptr)) inputs[k] = {v, plan_.operands[k].dtype};
    const std::unordered_map<const ir::Node*, TypedValue> values = evaluate(row.width, inputs);
    llvm::Value* mask = access == Access::contiguous
                            ? llvm::Constant::getAllOnesValue(llvm::FixedVectorType::get(b_.getInt1Ty(), row.width))
                            : in_range(row, step);
    store_access(row, step, access, values, mask);
    return accumulate_in_registers(row, values, mask, carried);
  }

  // Inputs broadcast along this dim are loop-invariant: load them once.
  // So are inputs that, although their type does not broadcast, come as a
  // stride-0 view (a row that is one element repeated): their vector loads
  // read that element from a buffer filled once per row instead of running
  // past it, and the other operands keep plain vector loads (instead of
  // every operand gathering).
  Row prepare_row(const Values& pointers) {
    const int d = plan_.loop_ndim - 1;
    Row row{pointers, extent_[d], static_cast<unsigned>(plan_.vector_width), b_.getTrue(),
            Values(plan_.operands.size(), nullptr), {}, nullptr};
    for (std::size_t k = 0; k < plan_.operands.size(); ++k) {
      const Operand& operand = plan_.operands[k];
      llvm::Value* stride = stride_elements_[k][d];
      if (reads_innermost(k)) {
        row.unit_strides = b_.CreateAnd(row.unit_strides, b_.CreateICmpULE(stride, b_.getInt64(1)));
        llvm::Value* first = load(b_, pointers[k], operand.dtype, 1);
        store(b_, b_.CreateVectorSplat(row.width, first), repeat_buffer_[k], operand.dtype);
        row.repeated[k] = b_.CreateICmpEQ(stride, b_.getInt64(0));
      } else if (moves_innermost(k)) {
        row.unit_strides = b_.CreateAnd(row.unit_strides, b_.CreateICmpEQ(stride, b_.getInt64(1)));
      } else if (operand.role == Role::Input) {
        row.invariant[k] = {b_.CreateVectorSplat(row.width, load(b_, pointers[k], operand.dtype, 1)), operand.dtype};
      }
    }
    std::vector<llvm::Constant*> lane_numbers;
    for (unsigned lane = 0; lane < row.width; ++lane) lane_numbers.push_back(b_.getInt64(lane));
    row.lane_numbers = llvm::ConstantVector::get(lane_numbers);
    return row;
  }

  // --- Addresses and accesses of one step (emitted in the blocks that use
  // them, so that contiguous steps do not pay for masks) ---------------------

  llvm::Value* lane_count(const Row& row, const Step& step) {
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, step.remaining, b_.getInt64(row.width));
  }

  llvm::Value* in_range(const Row& row, const Step& step) {
    return b_.CreateICmpULT(row.lane_numbers, b_.CreateVectorSplat(row.width, lane_count(row, step)));
  }

  llvm::Value* first_address(const Row& row, const Step& step, std::size_t k) {
    return offset(row.pointers[k], b_.CreateMul(step.i, b_.getInt64(dtype_size(plan_.operands[k].dtype))));
  }

  // Where an input with stride 0 or 1 reads: the repeat buffer if 0. The
  // choice is made on the row's base and bytes per element, which do not
  // change along the row: the address stays an induction variable, and the
  // selects leave the loop (a select of the address itself ran every step).
  llvm::Value* source_address(const Row& row, const Step& step, std::size_t k) {
    if (!row.repeated[k]) return first_address(row, step, k);
    llvm::Value* base = b_.CreateSelect(row.repeated[k], repeat_buffer_[k], row.pointers[k]);
    llvm::Value* bytes =
        b_.CreateSelect(row.repeated[k], b_.getInt64(0), b_.getInt64(dtype_size(plan_.operands[k].dtype)));
    return offset(base, b_.CreateMul(step.i, bytes));
  }

  // Lanes past the end repeat the last element, so that every address is valid.
  llvm::Value* lane_addresses(const Row& row, const Step& step, std::size_t k) {
    const unsigned width = row.width;
    llvm::Value* last = b_.CreateVectorSplat(width, b_.CreateSub(lane_count(row, step), b_.getInt64(1)));
    llvm::Value* index = b_.CreateAdd(b_.CreateVectorSplat(width, step.i),
                                      b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, row.lane_numbers, last));
    const int d = plan_.loop_ndim - 1;
    return offset(row.pointers[k], b_.CreateMul(index, b_.CreateVectorSplat(width, stride_bytes_[k][d])));
  }

  llvm::Value* load_step(const Row& row, const Step& step, Access access, std::size_t k, llvm::Value* mask) {
    const DType dtype = plan_.operands[k].dtype;
    switch (access) {
      case Access::contiguous: return load(b_, source_address(row, step, k), dtype, row.width);
      case Access::masked: return masked_load(b_, source_address(row, step, k), dtype, mask);
      case Access::lanes: return gather(b_, lane_addresses(row, step, k), dtype, mask);
    }
    throw std::logic_error("codegen: invalid access");
  }

  void store_step(const Row& row, const Step& step, Access access, std::size_t k, llvm::Value* v,
                  llvm::Value* mask) {
    const DType dtype = plan_.operands[k].dtype;
    switch (access) {
      case Access::contiguous: return store(b_, v, first_address(row, step, k), dtype);
      case Access::masked: return masked_store(b_, v, first_address(row, step, k), dtype, mask);
      case Access::lanes: return scatter(b_, v, lane_addresses(row, step, k), dtype, mask);
    }
  }

  // Loads every input read along the row, by the step's access; returns them
  // as phis in the block that computes. Gathers read all lanes: the addresses
  // past the end repeat the last element.
  std::unordered_map<std::size_t, TypedValue> emit_loads(const Row& row, const Step& step) {
    const std::vector<llvm::BasicBlock*> load_blocks = branch_on_access(row.unit_strides, step.full, "load");
    llvm::BasicBlock* compute = new_block("compute");
    std::unordered_map<std::size_t, llvm::PHINode*> loaded;
    for (Access access : accesses) {
      b_.SetInsertPoint(load_blocks[static_cast<std::size_t>(access)]);
      llvm::Value* mask = access == Access::masked ? in_range(row, step) : nullptr;
      const std::vector<std::pair<std::size_t, llvm::Value*>> values = load_access(row, step, access, mask);
      llvm::BasicBlock* from = b_.GetInsertBlock();
      b_.CreateBr(compute);
      b_.SetInsertPoint(compute);
      for (const auto& [k, v] : values) {
        if (!loaded.count(k)) loaded[k] = b_.CreatePHI(v->getType(), 3);
        loaded[k]->addIncoming(v, from);
      }
    }
    b_.SetInsertPoint(compute);
    std::unordered_map<std::size_t, TypedValue> inputs;
    for (const auto& [k, phi] : loaded) {
      inputs[k] = {phi, plan_.operands[k].dtype};
      name_value(phi, *plan_.operands[k].value);
    }
    return inputs;
  }

  // Every input read along the row, loaded by `access`.
  std::vector<std::pair<std::size_t, llvm::Value*>> load_access(const Row& row, const Step& step, Access access,
                                                                llvm::Value* mask) {
    std::vector<std::pair<std::size_t, llvm::Value*>> values;
    for (std::size_t k = 0; k < plan_.operands.size(); ++k)
      if (reads_innermost(k)) values.push_back({k, load_step(row, step, access, k, mask)});
    return values;
  }

  llvm::Value* result(const std::unordered_map<const ir::Node*, TypedValue>& values, std::size_t k) {
    return convert(b_, values.at(plan_.operands[k].value), plan_.operands[k].dtype).value;
  }

  // Stores, and reductions along outer dims (read, combine, write back).
  // Returns the mask of lanes the step used.
  llvm::Value* emit_stores(const Row& row, const Step& step, const std::unordered_map<const ir::Node*, TypedValue>& values) {
    const std::vector<llvm::BasicBlock*> store_blocks = branch_on_access(row.unit_strides, step.full, "store");
    llvm::BasicBlock* next = new_block("next");
    llvm::Type* mask_type = llvm::FixedVectorType::get(b_.getInt1Ty(), row.width);
    b_.SetInsertPoint(next);
    llvm::PHINode* lanes_used = b_.CreatePHI(mask_type, 3);
    for (Access access : accesses) {
      b_.SetInsertPoint(store_blocks[static_cast<std::size_t>(access)]);
      llvm::Value* mask =
          access == Access::contiguous ? llvm::Constant::getAllOnesValue(mask_type) : in_range(row, step);
      store_access(row, step, access, values, mask);
      lanes_used->addIncoming(mask, b_.GetInsertBlock());
      b_.CreateBr(next);
    }
    b_.SetInsertPoint(next);
    return lanes_used;
  }

  // Every output moving along the row stored by `access`, and every reduction
  // along an outer dim read, combined and written back.
  void store_access(const Row& row, const Step& step, Access access,
                    const std::unordered_map<const ir::Node*, TypedValue>& values, llvm::Value* mask) {
    for (std::size_t k = 0; k < plan_.operands.size(); ++k) {
      const Operand& operand = plan_.operands[k];
      if (operand.role == Role::Input || reduces_innermost(k)) continue;
      llvm::Value* v = result(values, k);
      if (operand.role == Role::Reduction)
        v = combine(operand.reduce, operand.dtype, load_step(row, step, access, k, mask), v);
      store_step(row, step, access, k, v, mask);
    }
  }

  // Reductions along the row, in registers: lanes past the end add the identity.
  Values accumulate_in_registers(const Row& row, const std::unordered_map<const ir::Node*, TypedValue>& values,
                                 llvm::Value* lanes_used, const Values& carried) {
    Values updated;
    for (std::size_t k = 0, a = 0; k < plan_.operands.size(); ++k)
      if (reduces_innermost(k)) {
        const Operand& operand = plan_.operands[k];
        const DType dtype = accumulator_dtype(operand);
        llvm::Value* v = convert(b_, result(values, k), operand.dtype, dtype);
        v = b_.CreateSelect(lanes_used, v, identity(operand.reduce, dtype, row.width));
        updated.push_back(combine(operand.reduce, dtype, carried[a++], v));
      }
    return updated;
  }

  // After the row: each register accumulator's lanes combined, into memory.
  void store_row_reductions(const Row& row, const Values& accumulators) {
    for (std::size_t k = 0, a = 0; k < plan_.operands.size(); ++k) {
      if (!reduces_innermost(k)) continue;
      const Operand& operand = plan_.operands[k];
      const DType dtype = accumulator_dtype(operand);
      llvm::Value* total = convert(b_, horizontal(operand.reduce, dtype, accumulators[a++]), dtype, operand.dtype);
      llvm::Value* old = load(b_, row.pointers[k], operand.dtype, 1);
      store(b_, combine(operand.reduce, operand.dtype, old, total), row.pointers[k], operand.dtype);
    }
  }

  // Branches from the current block to one new block per Access (indexed by
  // it): lanes unless the strides are unit, then contiguous when the step is full.
  std::vector<llvm::BasicBlock*> branch_on_access(llvm::Value* unit_strides, llvm::Value* full,
                                                  const std::string& what) {
    std::vector<llvm::BasicBlock*> blocks;
    for (const char* name : {"contiguous_", "masked_", "lanes_"}) blocks.push_back(new_block((name + what).c_str()));
    llvm::BasicBlock* unit = new_block(("unit_" + what).c_str());
    b_.CreateCondBr(unit_strides, unit, blocks[static_cast<std::size_t>(Access::lanes)]);
    b_.SetInsertPoint(unit);
    b_.CreateCondBr(full, blocks[static_cast<std::size_t>(Access::contiguous)],
                    blocks[static_cast<std::size_t>(Access::masked)]);
    return blocks;
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
      name_value(values[node.get()].value, *node);
    }
    return values;
  }

  // Values named after their nodes make IR dumps (GRAPHJIT_DUMP_IR) readable.
  static void name_value(llvm::Value* value, const ir::Node& node) {
    if (llvm::isa<llvm::Instruction>(value) && !value->hasName()) value->setName(node.label());
  }

  TypedValue compiled_in(const ir::Node& constant, unsigned width) {
    return {constant_of(context_, constant.value, width), constant.value.dtype()};
  }

  // --- Row lanes (kernel_plan.hpp): vector_width rows at a time -------------
  //
  // A block of rows runs its elements one step per column j, one lane per
  // row: its inputs are loaded a square of vector_width columns at a time and
  // transposed in registers into column buffers, the steps read and write
  // those, and the outputs are transposed back and stored whole. (A path
  // for other strides, each lane loading its own element, cost a third copy
  // of the computation and ~50% more compile time; those run per row.)

  // Runs the whole blocks of vector_width rows when takes_row_lanes holds
  // and every operand moving along the rows has stride 1 there; returns the
  // first row left for the per-row loop.
  llvm::Value* emit_row_lanes(const Values& pointers) {
    const int d = plan_.loop_ndim - 2;
    const std::uint64_t width = static_cast<std::uint64_t>(plan_.vector_width);
    llvm::Value* rows = extent_[d];
    llvm::Value* taken = b_.CreateAnd(b_.CreateICmpSLE(extent_[d + 1], b_.getInt64(plan_.row_lanes_max_extent)),
                                      b_.CreateICmpSGE(rows, b_.getInt64(static_cast<std::int64_t>(width))));
    taken = b_.CreateAnd(taken, unit_strides_along_rows());
    llvm::Value* whole = b_.CreateSub(rows, b_.CreateURem(rows, b_.getInt64(width)));
    llvm::Value* end = b_.CreateSelect(taken, whole, b_.getInt64(0), "row_lanes_end");
    emit_loop(b_.getInt64(0), end, width, {}, [&](llvm::Value* r, const Values&) {
      Values block = pointers;
      for (std::size_t k = 0; k < block.size(); ++k)
        if (stride_bytes_[k][d]) block[k] = offset(pointers[k], b_.CreateMul(r, stride_bytes_[k][d]));
      emit_row_block_by_columns(block);
      return Values{};
    });
    return end;
  }

  // Whether blocks can go by columns: rows of at least a vector, unit strides.
  llvm::Value* unit_strides_along_rows() {
    const int inner = plan_.loop_ndim - 1;
    llvm::Value* unit = b_.CreateICmpSGE(extent_[inner], b_.getInt64(plan_.vector_width));
    for (std::size_t k = 0; k < plan_.operands.size(); ++k)
      if (moves_innermost(k)) unit = b_.CreateAnd(unit, b_.CreateICmpEQ(stride_elements_[k][inner], b_.getInt64(1)));
    return unit;
  }

  // How the steps of a block reach the operands that move along the rows.
  struct RowAccess {
    std::function<llvm::Value*(std::size_t k, llvm::Value* j)> load;
    std::function<void(std::size_t k, llvm::Value* j, llvm::Value* v)> store;
  };

  // Operand k's element j (a null j: the row's per-row value) in each lane's
  // row: one pointer per lane, the same for all lanes when k does not move
  // across rows. Plain loads from them beat gathers (which this target runs
  // lane by lane, after taking the vector of addresses apart). Per-row
  // values are read and written so, once per block.
  Values row_lane_pointers(const Values& block, std::size_t k, llvm::Value* j) {
    const int d = plan_.loop_ndim - 2;
    llvm::Value* at = block[k];
    if (j && stride_bytes_[k][d + 1]) at = offset(at, b_.CreateMul(j, stride_bytes_[k][d + 1]));
    Values pointers(static_cast<std::size_t>(plan_.vector_width), at);
    if (stride_bytes_[k][d])
      for (std::size_t lane = 1; lane < pointers.size(); ++lane)
        pointers[lane] = offset(at, b_.CreateMul(b_.getInt64(lane), stride_bytes_[k][d]));
    return pointers;
  }

  llvm::Value* load_row_lanes(const Values& pointers, DType dtype) {
    const auto width = static_cast<unsigned>(pointers.size());
    if (pointers[0] == pointers[1]) return b_.CreateVectorSplat(width, load(b_, pointers[0], dtype, 1));
    llvm::Value* v = llvm::PoisonValue::get(register_type(context_, dtype, width));
    for (unsigned lane = 0; lane < width; ++lane) v = b_.CreateInsertElement(v, load(b_, pointers[lane], dtype, 1), lane);
    return v;
  }

  // Stores v, one lane per row, combined with the reduction's value there.
  void store_row_lanes(const Values& block, std::size_t k, llvm::Value* j, llvm::Value* v) {
    const Operand& operand = plan_.operands[k];
    const Values pointers = row_lane_pointers(block, k, j);
    v = combine(operand.reduce, operand.dtype, load_row_lanes(pointers, operand.dtype), v);
    for (std::size_t lane = 0; lane < pointers.size(); ++lane)
      store(b_, b_.CreateExtractElement(v, lane), pointers[lane], operand.dtype);
  }

  // One block of rows: per-row inputs loaded once, then the rows' elements
  // one lane per row, reductions along the rows accumulating in registers.
  void emit_row_block(const Values& block, const RowAccess& access) {
    const int inner = plan_.loop_ndim - 1;
    const unsigned width = static_cast<unsigned>(plan_.vector_width);
    std::unordered_map<std::size_t, TypedValue> per_row;
    Values accumulators;
    for (std::size_t k = 0; k < plan_.operands.size(); ++k) {
      const Operand& operand = plan_.operands[k];
      if (operand.role == Role::Input && operand.stride_zero[inner])
        per_row[k] = {load_row_lanes(row_lane_pointers(block, k, nullptr), operand.dtype), operand.dtype};
      if (reduces_innermost(k)) accumulators.push_back(identity(operand.reduce, accumulator_dtype(operand), width));
    }
    accumulators = emit_loop(b_.getInt64(0), extent_[inner], 1, accumulators, [&](llvm::Value* j, const Values& carried) {
      std::unordered_map<std::size_t, TypedValue> inputs = per_row;
      for (std::size_t k = 0; k < plan_.operands.size(); ++k)
        if (reads_innermost(k)) inputs[k] = {access.load(k, j), plan_.operands[k].dtype};
      const std::unordered_map<const ir::Node*, TypedValue> values = evaluate(width, inputs);
      Values updated;
      for (std::size_t k = 0, a = 0; k < plan_.operands.size(); ++k) {
        const Operand& operand = plan_.operands[k];
        if (operand.role == Role::Input) continue;
        if (!reduces_innermost(k)) {
          access.store(k, j, result(values, k));
          continue;
        }
        const DType dtype = accumulator_dtype(operand);
        llvm::Value* v = convert(b_, result(values, k), operand.dtype, dtype);
        updated.push_back(combine(operand.reduce, dtype, carried[a++], v));
      }
      return updated;
    });
    for (std::size_t k = 0, a = 0; k < plan_.operands.size(); ++k)
      if (reduces_innermost(k)) {
        const Operand& operand = plan_.operands[k];
        store_row_lanes(block, k, nullptr, convert(b_, accumulators[a++], accumulator_dtype(operand), operand.dtype));
      }
  }

  // The block's inputs transposed into column buffers, the steps on those,
  // the outputs transposed back.
  void emit_row_block_by_columns(const Values& block) {
    std::map<std::size_t, llvm::AllocaInst*> columns;  // ordered: the IR text is the kernel cache's key
    for (std::size_t k = 0; k < plan_.operands.size(); ++k)
      if (moves_innermost(k)) columns[k] = column_buffer(k);
    for (const auto& [k, buffer] : columns)
      if (plan_.operands[k].role == Role::Input) transpose_columns(block, k, buffer, /*into_buffer=*/true);
    emit_row_block(block, {[&](std::size_t k, llvm::Value* j) {
                             llvm::Type* type = columns.at(k)->getAllocatedType()->getArrayElementType();
                             return b_.CreateLoad(type, b_.CreateInBoundsGEP(type, columns.at(k), {j}));
                           },
                           [&](std::size_t k, llvm::Value* j, llvm::Value* v) {
                             llvm::Type* type = columns.at(k)->getAllocatedType()->getArrayElementType();
                             b_.CreateStore(v, b_.CreateInBoundsGEP(type, columns.at(k), {j}));
                           }});
    for (const auto& [k, buffer] : columns)
      if (plan_.operands[k].role == Role::Output) transpose_columns(block, k, buffer, /*into_buffer=*/false);
  }

  // row_lanes_max_extent column vectors of operand k, in the entry block.
  llvm::AllocaInst* column_buffer(std::size_t k) {
    llvm::AllocaInst*& buffer = column_buffer_[k];
    if (buffer) return buffer;
    llvm::IRBuilder<> entry(&function_->getEntryBlock(), function_->getEntryBlock().begin());
    llvm::Type* column = register_type(context_, plan_.operands[k].dtype, static_cast<unsigned>(plan_.vector_width));
    buffer = entry.CreateAlloca(llvm::ArrayType::get(column, static_cast<std::uint64_t>(plan_.row_lanes_max_extent)));
    return buffer;
  }

  // Between the block's rows of operand k and its column buffer, a square of
  // vector_width columns at a time. The last square ends at the row's end
  // (overlapping the one before), so no access reaches past a row: rows have
  // at least vector_width elements here, and columns loaded or stored twice
  // have the same values both times.
  void transpose_columns(const Values& block, std::size_t k, llvm::AllocaInst* buffer, bool into_buffer) {
    const int d = plan_.loop_ndim - 2;
    const unsigned width = static_cast<unsigned>(plan_.vector_width);
    const DType dtype = plan_.operands[k].dtype;
    llvm::Type* column = buffer->getAllocatedType()->getArrayElementType();
    llvm::Value* last_square = b_.CreateSub(extent_[d + 1], b_.getInt64(width));
    emit_loop(b_.getInt64(0), extent_[d + 1], width, {}, [&](llvm::Value* c, const Values&) {
      llvm::Value* first = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, c, last_square);
      Values rows(width), columns_here(width);
      for (unsigned r = 0; r < width; ++r) {
        llvm::Value* at = block[k];
        if (stride_bytes_[k][d]) at = offset(at, b_.CreateMul(b_.getInt64(r), stride_bytes_[k][d]));
        rows[r] = offset(at, b_.CreateMul(first, b_.getInt64(dtype_size(dtype))));
        columns_here[r] = b_.CreateInBoundsGEP(column, buffer, {b_.CreateAdd(first, b_.getInt64(r))});
      }
      Values loaded;
      for (unsigned r = 0; r < width; ++r)
        loaded.push_back(into_buffer ? load(b_, rows[r], dtype, width) : b_.CreateLoad(column, columns_here[r]));
      const Values transposed = transpose_lanes(b_, loaded);
      for (unsigned r = 0; r < width; ++r) {
        if (into_buffer) b_.CreateStore(transposed[r], columns_here[r]);
        else store(b_, transposed[r], rows[r], dtype);
      }
      return Values{};
    });
  }

  // --- Reductions ------------------------------------------------------------

  // Register accumulators of float32 sums and products are float64: a row
  // of a million float32 values then sums to the nearest float32.
  static DType accumulator_dtype(const Operand& operand) {
    const bool sum_or_product = operand.reduce == ReduceOp::Sum || operand.reduce == ReduceOp::Prod;
    return operand.dtype == DType::float32 && sum_or_product ? DType::float64 : operand.dtype;
  }

  llvm::Constant* identity(ReduceOp op, DType dtype, unsigned width) {
    llvm::Type* type = register_type(context_, dtype, width);
    const unsigned bits = type->getScalarSizeInBits();
    const bool is_signed = dtype != DType::uint8 && dtype != DType::bool_;
    switch (op) {
      case ReduceOp::Sum: return llvm::Constant::getNullValue(type);
      case ReduceOp::Prod:
        return type->isFPOrFPVectorTy() ? llvm::ConstantFP::get(type, 1.0) : llvm::ConstantInt::get(type, 1);
      case ReduceOp::Max:
        if (is_float(dtype)) return llvm::ConstantFP::getInfinity(type, /*Negative=*/true);
        return llvm::ConstantInt::get(
            type, is_signed ? llvm::APInt::getSignedMinValue(bits) : llvm::APInt::getMinValue(bits));
      case ReduceOp::Min:
        if (is_float(dtype)) return llvm::ConstantFP::getInfinity(type, /*Negative=*/false);
        return llvm::ConstantInt::get(
            type, is_signed ? llvm::APInt::getSignedMaxValue(bits) : llvm::APInt::getMaxValue(bits));
    }
    throw std::logic_error("codegen: invalid reduction");
  }

  // acc (op) v, lanewise; max and min propagate nan like numpy's.
  llvm::Value* combine(ReduceOp op, DType dtype, llvm::Value* acc, llvm::Value* v) {
    const bool floating = is_float(dtype), boolean = dtype == DType::bool_, is_unsigned = dtype == DType::uint8;
    switch (op) {
      case ReduceOp::Sum:
        return floating ? b_.CreateFAdd(acc, v) : boolean ? b_.CreateOr(acc, v) : b_.CreateAdd(acc, v);
      case ReduceOp::Prod:
        return floating ? b_.CreateFMul(acc, v) : boolean ? b_.CreateAnd(acc, v) : b_.CreateMul(acc, v);
      case ReduceOp::Max:
        if (floating)
          return b_.CreateSelect(b_.CreateFCmpUNO(v, v), v, b_.CreateSelect(b_.CreateFCmpOLT(acc, v), v, acc));
        return b_.CreateBinaryIntrinsic(boolean || is_unsigned ? llvm::Intrinsic::umax : llvm::Intrinsic::smax, acc, v);
      case ReduceOp::Min:
        if (floating)
          return b_.CreateSelect(b_.CreateFCmpUNO(v, v), v, b_.CreateSelect(b_.CreateFCmpOLT(v, acc), v, acc));
        return b_.CreateBinaryIntrinsic(boolean || is_unsigned ? llvm::Intrinsic::umin : llvm::Intrinsic::smin, acc, v);
    }
    throw std::logic_error("codegen: invalid reduction");
  }

  // Combines the lanes of a vector accumulator pairwise, halving it each step.
  llvm::Value* horizontal(ReduceOp op, DType dtype, llvm::Value* v) {
    for (unsigned n = lanes(v); n > 1; n /= 2) {
      std::vector<int> low, high;
      for (unsigned j = 0; j < n / 2; ++j) {
        low.push_back(static_cast<int>(j));
        high.push_back(static_cast<int>(j + n / 2));
      }
      v = combine(op, dtype, b_.CreateShuffleVector(v, low), b_.CreateShuffleVector(v, high));
    }
    return b_.CreateExtractElement(v, std::uint64_t{0});
  }

  const KernelPlan& plan_;
  llvm::Module& module_;
  llvm::LLVMContext& context_;
  llvm::IRBuilder<> b_;
  llvm::Function* function_ = nullptr;
  Values extent_;                        // per loop dim
  Values base_;                          // per operand
  std::vector<Values> stride_elements_;  // [operand][dim], null where stride_zero
  std::vector<Values> stride_bytes_;     // [operand][dim], null where stride_zero
  // Per input read along the innermost dim (else null): vector_width slots
  // that hold its row's first element when its stride there is 0.
  std::vector<llvm::AllocaInst*> repeat_buffer_;
  // Row lanes: per operand moving along the rows, its column buffer (made on first use).
  std::unordered_map<std::size_t, llvm::AllocaInst*> column_buffer_;
};

}  // namespace

llvm::Function* emit_kernel(const KernelPlan& plan, llvm::Module& module, const jit::HostTarget& host) {
  return KernelEmitter(plan, module, host).emit();
}

}  // namespace graphjit::codegen
