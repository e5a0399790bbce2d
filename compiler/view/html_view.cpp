#include "compiler/view/html_view.hpp"

#include "compiler/view/json.hpp"

#include <fmt/format.h>

namespace graphjit::view {

namespace {

#include "compiler/view/html_view_page.inc"  // kPageHead, kPageTail: the page around the JSON

std::string html_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

}  // namespace

std::string to_json(const GraphView& view) {
  std::string out = "{\"title\":" + json_string(view.title) + ",\n\"nodes\":[";
  for (std::size_t i = 0; i < view.nodes.size(); ++i) {
    const Node& n = view.nodes[i];
    std::string details;
    for (const auto& [key, value] : n.details) details += fmt::format(",{}:{}", json_string(key), json_string(value));
    out += fmt::format("{}\n{{\"id\":{},\"kind\":{},\"label\":{},\"op\":{},\"name\":{},\"type\":{},\"shape\":{},\"where\":{}{}}}",
                       i ? "," : "", json_string(n.id), json_string(kind_name(n.kind)), json_string(n.label),
                       json_string(n.op), json_string(n.name), json_string(n.type), json_string(n.shape),
                       json_string(n.where), details);
  }
  out += "],\n\"edges\":[";
  for (std::size_t i = 0; i < view.edges.size(); ++i) {
    const Edge& e = view.edges[i];
    out += fmt::format("{}\n{{\"from\":{},\"to\":{},\"label\":{},\"writes\":{}}}", i ? "," : "", json_string(e.from),
                       json_string(e.to), json_string(e.label), e.writes ? "true" : "false");
  }
  out += "],\n\"groups\":[";
  for (std::size_t i = 0; i < view.groups.size(); ++i) {
    const Group& g = view.groups[i];
    std::string members;
    for (std::size_t m = 0; m < g.members.size(); ++m) members += (m ? "," : "") + json_string(g.members[m]);
    out += fmt::format("{}\n{{\"id\":{},\"label\":{},\"members\":[{}]}}", i ? "," : "", json_string(g.id),
                       json_string(g.label), members);
  }
  return out + "]}";
}

std::string to_html(const GraphView& view) {
  return std::string(kPageHead) + html_text(view.title) + kPageMiddle + to_json(view) + kPageTail;
}

}  // namespace graphjit::view
