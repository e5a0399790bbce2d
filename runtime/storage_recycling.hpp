// The cache of large freed blocks (tensor.cpp: blocks of 32 MiB and up are
// kept for reuse once their last tensor is gone), seen from inside the runtime.
#pragma once

namespace graphjit {

// Unmaps every block the cache holds. For code that knows the blocks it just
// freed will not be asked for again (load_dataset's raw bytes): kept, they
// would stay in the resident set for the rest of the process.
void release_recycled_storage();

}  // namespace graphjit
