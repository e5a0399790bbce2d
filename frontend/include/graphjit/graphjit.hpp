// The whole public API.
#pragma once

#include <graphjit/errors.hpp>
#include <graphjit/function.hpp>
#include <graphjit/grad.hpp>
#include <graphjit/printing.hpp>
#include <graphjit/profile.hpp>
#include <graphjit/runtime/config.hpp>
#include <graphjit/runtime/dtype.hpp>
#include <graphjit/runtime/tensor.hpp>
#include <graphjit/shared.hpp>
#include <graphjit/tensor.hpp>
#include <graphjit/threads.hpp>
#include <graphjit/variable.hpp>
