// The message of the exception a callable throws, so tests can check that an
// error names the file, the shape or the fix (doctest 2.4.9 matches only whole messages).
#pragma once

#include <exception>
#include <string>

namespace graphjit::testing {

// Returns "<no exception>" when f returns normally, so a CHECK on the message fails visibly.
template <class Exception = std::exception, class F> std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const Exception& e) {
    return e.what();
  }
  return "<no exception>";
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace graphjit::testing
