// Tests that need something a machine may lack: a data set, a tool. Where
// scripts/setup.sh installs it (scripts/test.sh sets GRAPHJIT_REQUIRE_ALL=1,
// and so does CI), a missing one fails the test; anywhere else the test is
// skipped with a warning doctest counts and prints, never silently.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace graphjit::testing {

// True if `available`; otherwise fails (GRAPHJIT_REQUIRE_ALL=1) or warns, naming `what` and how to get it.
inline bool require(bool available, const std::string& what) {
  if (available) return true;
  const char* strict = std::getenv("GRAPHJIT_REQUIRE_ALL");
  if (strict && std::string(strict) == "1") FAIL_CHECK("required but missing: " << what);
  else WARN_MESSAGE(false, "skipped: " << what << " (GRAPHJIT_REQUIRE_ALL=1 makes this a failure)");
  return false;
}

}  // namespace graphjit::testing
