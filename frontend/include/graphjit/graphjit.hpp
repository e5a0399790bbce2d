// The whole public API.
#pragma once

#include <graphjit/errors.hpp>
#include <graphjit/clone.hpp>
#include <graphjit/function.hpp>
#include <graphjit/batch_norm.hpp>
#include <graphjit/conv.hpp>
#include <graphjit/custom_op.hpp>
#include <graphjit/grad.hpp>
#include <graphjit/grad_control.hpp>
#include <graphjit/ifelse.hpp>
#include <graphjit/printing.hpp>
#include <graphjit/profile.hpp>
#include <graphjit/random_streams.hpp>
#include <graphjit/rop.hpp>
#include <graphjit/runtime/config.hpp>
#include <graphjit/runtime/dtype.hpp>
#include <graphjit/runtime/random.hpp>
#include <graphjit/runtime/tensor.hpp>
#include <graphjit/runtime/tensor_print.hpp>
#include <graphjit/scan.hpp>
#include <graphjit/shared.hpp>
#include <graphjit/tensor.hpp>
#include <graphjit/threads.hpp>
#include <graphjit/variable.hpp>
