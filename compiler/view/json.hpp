// JSON string literals, for the HTML view's data and the profile's JSON.
#pragma once

#include <string>

namespace graphjit::view {

// A JSON string; '<', '>' and '&' as escapes too, so no text can close the
// <script> element the HTML view puts its JSON in.
std::string json_string(const std::string& text);

}  // namespace graphjit::view
