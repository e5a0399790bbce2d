// Graph pictures: the DOT text of small known graphs, rendering it with
// Graphviz, and the HTML view in headless Chromium.
#include <doctest/doctest.h>

#include "compiler/view/dot.hpp"
#include "compiler/view/html_view.hpp"
#include "temp_dir.hpp"
#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>

namespace T = graphjit::tensor;
using namespace graphjit;
using graphjit::testing::contains;
using graphjit::testing::read_bytes;
using graphjit::testing::TempDir;
using graphjit::testing::thrown_message;

namespace {

bool have_program(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; returns its exit status and what it wrote (stdout and stderr).
std::pair<int, std::string> run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  REQUIRE(pipe);
  std::string out;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) out.append(buffer.data(), n);
  const int status = pclose(pipe.release());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A PNG's signature and its IHDR width and height.
struct PngSize {
  bool valid = false;
  std::uint32_t width = 0, height = 0;
};
PngSize png_size(const std::string& bytes) {
  PngSize size;
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || bytes.compare(12, 4, "IHDR") != 0) return size;
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  size.valid = true;
  size.width = be32(16);
  size.height = be32(20);
  return size;
}

}  // namespace

TEST_CASE("a small graph's DOT text") {
  const int line = __LINE__ + 1;
  auto x = T::matrix("x");
  auto b = shared(Tensor::zeros({2}, float64), "b");
  auto y = T::tanh(x + b).set_name("y");
  const std::string at = ", built at test_pictures.cpp:", where = std::to_string(line + 2);
  CHECK(printing::to_dot(y) ==
        "digraph \"y\" {\n"
        "  graph [label=\"y\", labelloc=t, fontname=\"Helvetica\"];\n"
        "  node [fontname=\"Helvetica\", fontsize=11];\n"
        "  edge [fontname=\"Helvetica\", fontsize=9];\n"
        "  n0 [label=\"x\", shape=ellipse, style=filled, fillcolor=\"#c6efce\", "
        "tooltip=\"input: TensorType(float64, matrix)" + at + std::to_string(line) + "\"];\n"
        "  n1 [label=\"b\", shape=cylinder, style=filled, fillcolor=\"#bdd7ee\", "
        "tooltip=\"shared: TensorType(float64, vector), shape (2,)" + at + std::to_string(line + 1) + "\"];\n"
        "  n2 [label=\"dimshuffle{x,0}\", shape=box, style=filled, fillcolor=\"#fff2cc\", "
        "tooltip=\"op dimshuffle{x,0}: TensorType(float64, (True, False))" + at + where + "\"];\n"
        "  n3 [label=\"add\", shape=box, style=filled, fillcolor=\"#fff2cc\", "
        "tooltip=\"op add: TensorType(float64, matrix)" + at + where + "\"];\n"
        "  n4 [label=\"y\\ntanh\", shape=box, style=filled, fillcolor=\"#fff2cc\", "
        "tooltip=\"op tanh: TensorType(float64, matrix)" + at + where + "\"];\n"
        "  out0 [label=\"output 0\", shape=house, style=filled, fillcolor=\"#d9d2e9\", "
        "tooltip=\"output: TensorType(float64, matrix)" + at + where + "\"];\n"
        "  n1 -> n2 [label=\"float64 (F)\"];\n"
        "  n0 -> n3 [label=\"0: float64 (F,F)\"];\n"
        "  n2 -> n3 [label=\"1: float64 (T,F)\"];\n"
        "  n3 -> n4 [label=\"float64 (F,F)\"];\n"
        "  n4 -> out0 [label=\"float64 (F,F)\"];\n"
        "}\n");
}

TEST_CASE("a function's DOT: constants, the update and the shared variable it writes, before and after") {
  auto x = T::vector("x");
  auto w = shared(Tensor::full({3}, 2.0, float64), "w");
  auto loss = T::sum(T::sqr(x * w) * 1.0).set_name("loss");
  auto f = function({x}, {loss}, {.updates = {{w, w - 0.5 * T::grad(loss, w)}}, .name = "step"});

  const std::string before = printing::to_dot(f, printing::Stage::before);
  const std::string after = printing::to_dot(f);
  CHECK(contains(before, "digraph \"function 'step' (before optimization)\""));
  CHECK(contains(after, "digraph \"function 'step' (after optimization)\""));
  CHECK(contains(before, "[label=\"{1}\", shape=box, style=\"filled,rounded\", fillcolor=\"#e7e6e6\""));
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count(after, "[label=\"{1}\"") < count(before, "[label=\"{1}\""));  // canonicalize removed "* 1.0"
  CHECK(contains(after, "[label=\"{0.5}\""));
  CHECK(contains(after, "[label=\"loss\\nsum\""));
  CHECK(contains(after, "upd0 [label=\"update of w\", shape=house, style=filled, fillcolor=\"#ffd966\""));
  CHECK(std::regex_search(after, std::regex(R"(upd0 -> n\d+ \[label="writes", style=dashed, constraint=false\];)")));
  CHECK(contains(after, "out0 [label=\"output 0\""));
}

TEST_CASE("groups are DOT clusters, and labels are escaped") {
  view::GraphView graph;
  graph.title = "say \"hi\"";
  graph.nodes.push_back({"n0", view::Kind::input, "a\\b", "input", "a\\b", "t", "", ""});
  graph.nodes.push_back({"n1", view::Kind::op, "exp", "exp", "", "t", "", ""});
  graph.edges.push_back({"n0", "n1", "float32 ()"});
  graph.groups.push_back({"k0", "fused kernel 0", {"n1"}});
  const std::string dot = view::to_dot(graph);
  CHECK(contains(dot, "digraph \"say \\\"hi\\\"\" {"));
  CHECK(contains(dot, "n0 [label=\"a\\\\b\""));
  CHECK(contains(dot, "  subgraph \"cluster_k0\" {\n    label=\"fused kernel 0\";\n    style=dashed;\n"
                      "    color=\"#7f7f7f\";\n    n1;\n  }\n"));
}

TEST_CASE("Graphviz renders the DOT as SVG and PNG") {
  if (!have_program("dot")) {
    MESSAGE("skipped: Graphviz's dot is not installed (scripts/setup.sh installs graphviz)");
    return;
  }
  auto x = T::matrix("x");
  auto W = shared(Tensor::zeros({4, 3}, float64), "W");
  auto p = T::nnet::softmax(T::dot(x, W)).set_name("probabilities");
  auto f = function({x}, {T::argmax(p, 1)}, {.updates = {{W, W * 0.5}}});
  TempDir dir;

  printing::pydotprint(f, dir.file("f.svg"));
  const std::string svg = read_bytes(dir.file("f.svg"));
  CHECK(contains(svg, "<svg"));
  CHECK(contains(svg, "</svg>"));
  for (const char* label : {">x<", ">W<", ">probabilities<", ">update of W<", ">output 0<"}) CHECK(contains(svg, label));

  printing::pydotprint(f, dir.file("f.png"), printing::Stage::before);
  const PngSize png = png_size(read_bytes(dir.file("f.png")));
  CHECK(png.valid);
  CHECK(png.width > 100);
  CHECK(png.height > 100);

  // The DOT file itself renders too.
  printing::pydotprint(p, dir.file("p.dot"));
  const auto [status, output] = run("dot -Tsvg -o " + dir.file("p.svg") + " " + dir.file("p.dot"));
  CHECK(status == 0);
  CHECK(contains(read_bytes(dir.file("p.svg")), ">probabilities<"));
}

TEST_CASE("pydotprint: an unknown extension is an error, and a failed render leaves the file as it was") {
  auto x = T::vector("x");
  TempDir dir;
  CHECK(contains(thrown_message<std::invalid_argument>([&] { printing::pydotprint(x, dir.file("x.jpeg")); }),
                 "use .dot, .svg, .png, .pdf or .html"));
  graphjit::testing::write_bytes(dir.file("old.svg"), "old");
  const char* path = std::getenv("PATH");
  const std::string saved = path ? path : "";
  setenv("PATH", dir.path().c_str(), 1);  // no dot on this PATH
  const std::string msg = thrown_message<std::runtime_error>([&] { printing::pydotprint(x, dir.file("old.svg")); });
  setenv("PATH", saved.c_str(), 1);
  CHECK(contains(msg, "apt-get install graphviz"));
  CHECK(read_bytes(dir.file("old.svg")) == "old");
  CHECK(dir.entry_count() == 1);
}

TEST_CASE("pydotprint: a dot that exits without reading its input is an error, not a SIGPIPE that kills the caller") {
  // More DOT text than a pipe holds (64 KiB), so the write meets the closed pipe.
  auto x = T::vector("x");
  auto y = x;
  for (int i = 0; i < 2000; ++i) y = y * 2.0 + 1.0;
  TempDir dir;
  const std::string fake_dot = dir.file("dot");
  graphjit::testing::write_bytes(fake_dot, "#!/bin/sh\nexit 3\n");
  std::filesystem::permissions(fake_dot, std::filesystem::perms::owner_all);
  const char* path = std::getenv("PATH");
  const std::string saved = path ? path : "";
  setenv("PATH", (dir.path().string() + ":" + saved).c_str(), 1);
  const std::string msg = thrown_message<std::runtime_error>([&] { printing::pydotprint(y, dir.file("y.svg")); });
  setenv("PATH", saved.c_str(), 1);
  CHECK(contains(msg, "exit status 3"));
  CHECK(!std::filesystem::exists(dir.file("y.svg")));
}

TEST_CASE("the JSON that drives the HTML view") {
  view::GraphView graph;
  graph.title = "t";
  graph.nodes.push_back({"n0", view::Kind::shared, "W", "shared", "W", "TensorType(float32, matrix)", "(2, 3)", "a.cpp:1"});
  graph.nodes.push_back({"upd0", view::Kind::update, "update of W", "update", "", "", "", ""});
  graph.edges.push_back({"upd0", "n0", "writes", true});
  graph.groups.push_back({"k0", "kernel \"0\"", {"n0"}});
  CHECK(view::to_json(graph) ==
        "{\"title\":\"t\",\n\"nodes\":[\n"
        "{\"id\":\"n0\",\"kind\":\"shared\",\"label\":\"W\",\"op\":\"shared\",\"name\":\"W\","
        "\"type\":\"TensorType(float32, matrix)\",\"shape\":\"(2, 3)\",\"where\":\"a.cpp:1\"},\n"
        "{\"id\":\"upd0\",\"kind\":\"update\",\"label\":\"update of W\",\"op\":\"update\",\"name\":\"\","
        "\"type\":\"\",\"shape\":\"\",\"where\":\"\"}],\n"
        "\"edges\":[\n{\"from\":\"upd0\",\"to\":\"n0\",\"label\":\"writes\",\"writes\":true}],\n"
        "\"groups\":[\n{\"id\":\"k0\",\"label\":\"kernel \\\"0\\\"\",\"members\":[\"n0\"]}]}");
}

TEST_CASE("the HTML view embeds the graph as JSON that no text can break out of") {
  auto x = T::vector("x</script>");
  const std::string html = printing::to_html(T::exp(x));
  CHECK(contains(html, "<script type=\"application/json\" id=\"graph-data\">"));
  CHECK(!contains(html, "x</script>"));
  CHECK(contains(html, "\"label\":\"x\\u003c/script\\u003e\""));
  CHECK(contains(html, "<title>exp."));  // the title is the unnamed output's label
  CHECK(contains(printing::to_html(T::exp(x).set_name("a<b")), "<title>a&lt;b</title>"));
  CHECK(!contains(html, "src=\"http"));
  CHECK(!contains(html, "href=\"http"));
}

namespace {

// Loads the page in headless Chromium: its DOM after the scripts ran, and the browser's log.
struct Loaded {
  std::string dom, log;
};
Loaded load_in_chromium(const std::string& file, const std::string& fragment) {
  const auto [status, out] = run("timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run "
                                 "--enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom 'file://" +
                                 file + fragment + "'");
  INFO("chromium output: " << out);
  REQUIRE(status == 0);
  const std::size_t html = out.find("<html");
  REQUIRE(html != std::string::npos);
  return {out.substr(html), out.substr(0, html)};
}

// Console errors and uncaught exceptions Chromium logged for the page.
bool page_errors(const std::string& log) {
  std::regex console(R"(CONSOLE[^\n]*|Uncaught[^\n]*)");
  return std::regex_search(log, console);
}

}  // namespace

TEST_CASE("the Chromium harness sees a page's console errors") {
  if (!have_program("chromium")) {
    MESSAGE("skipped: chromium is not installed (scripts/setup.sh installs it)");
    return;
  }
  TempDir dir;
  graphjit::testing::write_bytes(dir.file("bad.html"),
                                 "<!DOCTYPE html><html><body><script>undefined_function();</script></body></html>");
  CHECK(page_errors(load_in_chromium(dir.file("bad.html"), "").log));
}

TEST_CASE("the HTML view in headless Chromium: loads cleanly, shows the nodes, search finds one, screenshot") {
  if (!have_program("chromium")) {
    MESSAGE("skipped: chromium is not installed (scripts/setup.sh installs it)");
    return;
  }
  auto x = T::matrix("x");
  auto W = shared(Tensor::zeros({4, 3}, float64), "W");
  auto p = T::nnet::softmax(T::dot(x, W)).set_name("probabilities");
  auto f = function({x}, {T::argmax(p, 1)}, {.updates = {{W, W * 0.5}}, .name = "predict"});
  TempDir dir;
  printing::pydotprint(f, dir.file("f.html"));

  const Loaded page = load_in_chromium(dir.file("f.html"), "#search=probab");
  INFO("chromium log: " << page.log);
  CHECK(!page_errors(page.log));
  CHECK(contains(page.dom, "data-ready=\"true\""));
  for (const char* label : {">x<", ">W<", ">probabilities<", ">update of W<", ">output 0<", ">argmax{axis=1}<"})
    CHECK(contains(page.dom, label));
  // The status line of the search: softmax was expanded for fusion, the name kept.
  CHECK(contains(page.dom, "1 of 1: probabilities = true_div"));
  CHECK(std::regex_search(page.dom, std::regex(R"(class="node op match selected" data-id="n\d+")")));

  const Loaded missing = load_in_chromium(dir.file("f.html"), "#search=nothing-is-called-this");
  CHECK(contains(missing.dom, "no node matches"));

  const auto [status, out] = run("timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run "
                                 "--hide-scrollbars --window-size=1000,700 --virtual-time-budget=5000 --screenshot=" +
                                 dir.file("f.png") + " 'file://" + dir.file("f.html") + "'");
  INFO(out);
  CHECK(status == 0);
  const std::string bytes = read_bytes(dir.file("f.png"));
  const PngSize png = png_size(bytes);
  CHECK(png.valid);
  CHECK(png.width == 1000);
  CHECK(png.height == 700);
  CHECK(bytes.size() > 10000);  // a blank page compresses to a few kilobytes
}

TEST_CASE("a group starts collapsed in the HTML view and a search expands it") {
  if (!have_program("chromium")) {
    MESSAGE("skipped: chromium is not installed (scripts/setup.sh installs it)");
    return;
  }
  view::GraphView graph;
  graph.title = "kernels";
  graph.nodes.push_back({"n0", view::Kind::input, "x", "input", "x", "TensorType(float64, vector)", "", "a.cpp:1"});
  graph.nodes.push_back({"n1", view::Kind::op, "exp", "exp", "", "TensorType(float64, vector)", "", "a.cpp:2"});
  graph.nodes.push_back({"n2", view::Kind::op, "log1p", "log1p", "", "TensorType(float64, vector)", "", "a.cpp:3"});
  graph.nodes.push_back({"out0", view::Kind::output, "output 0", "output", "", "", "", ""});
  graph.edges = {{"n0", "n1", "float64 (F)"}, {"n1", "n2", "float64 (F)"}, {"n2", "out0", "float64 (F)"}};
  graph.groups.push_back({"k0", "fused kernel 0", {"n1", "n2"}});
  TempDir dir;
  graphjit::testing::write_bytes(dir.file("g.html"), view::to_html(graph));

  const Loaded closed = load_in_chromium(dir.file("g.html"), "");
  CHECK(!page_errors(closed.log));
  CHECK(contains(closed.dom, ">fused kernel 0<"));
  CHECK(contains(closed.dom, "click to expand"));
  CHECK(!contains(closed.dom, ">log1p<"));

  const Loaded opened = load_in_chromium(dir.file("g.html"), "#search=log1p");
  CHECK(!page_errors(opened.log));
  CHECK(contains(opened.dom, ">log1p<"));
  CHECK(contains(opened.dom, "fused kernel 0 (click to collapse)"));
}

// ---- The schedule (printing::Stage::schedule) ----------------------------------

TEST_CASE("a function's schedule as DOT: the fused kernel as a group, the gemm step, its in-place write") {
  const int line = __LINE__ + 1;
  auto x = T::matrix("x");
  auto w = shared(Tensor::zeros({2, 2}, float64), "w");
  auto y = (T::tanh(x) + 1).set_name("y");
  auto f = function({x}, {y}, {.updates = {{w, w + T::dot(y, x)}}, .name = "small"});
  // The same schedule as print_schedule's text (debugprint):
  //   0 kernel fused0(x): tanh.3 = tanh(x); y = add(tanh.3, constant) -> returned
  //   1 native gemm = gemm{alpha=1, beta=1}(y, x, w) [in place of w]
  const std::string expected = fmt::format(R"DOT(digraph "function 'small' (schedule)" {{
  graph [label="function 'small' (schedule)", labelloc=t, fontname="Helvetica"];
  node [fontname="Helvetica", fontsize=11];
  edge [fontname="Helvetica", fontsize=9];
  n0 [label="x", shape=ellipse, style=filled, fillcolor="#c6efce", tooltip="input: TensorType(float64, matrix), built at test_pictures.cpp:{0}"];
  n1 [label="tanh", shape=box, style=filled, fillcolor="#fff2cc", tooltip="op tanh: TensorType(float64, matrix), built at test_pictures.cpp:{2}, step 0"];
  n2 [label="{{1}}", shape=box, style="filled,rounded", fillcolor="#e7e6e6", fontsize=9, tooltip="constant: TensorType(float64, (True, True)), shape (1, 1), built at test_pictures.cpp:{2}"];
  n3 [label="y\nadd", shape=box, style=filled, fillcolor="#fff2cc", tooltip="op add: TensorType(float64, matrix), built at test_pictures.cpp:{2}, step 0, buffer its own (returned to the caller)"];
  n4 [label="w", shape=cylinder, style=filled, fillcolor="#bdd7ee", tooltip="shared: TensorType(float64, matrix), shape (2, 2), built at test_pictures.cpp:{1}"];
  n5 [label="gemm{{alpha=1, beta=1}}\nstep 1", shape=box, style=filled, fillcolor="#fff2cc", tooltip="op gemm{{alpha=1, beta=1}}: TensorType(float64, matrix), built at test_pictures.cpp:{3}, step 1, in_place_of w"];
  out0 [label="output 0", shape=house, style=filled, fillcolor="#d9d2e9", tooltip="output: TensorType(float64, matrix), built at test_pictures.cpp:{2}"];
  upd0 [label="update of w", shape=house, style=filled, fillcolor="#ffd966", tooltip="update: TensorType(float64, matrix), built at test_pictures.cpp:{3}, written in place"];
  subgraph "cluster_k0" {{
    label="step 0: fused kernel 'fused0'";
    style=dashed;
    color="#7f7f7f";
    n1;
    n3;
  }}
  n0 -> n1 [label="float64 (F,F)"];
  n1 -> n3 [label="0: float64 (F,F)"];
  n2 -> n3 [label="1: float64 (T,T)"];
  n3 -> n5 [label="0: float64 (F,F)"];
  n0 -> n5 [label="1: float64 (F,F)"];
  n4 -> n5 [label="2: float64 (F,F)"];
  n5 -> n4 [label="overwrites", style=dashed, constraint=false];
  n3 -> out0 [label="float64 (F,F)"];
  n5 -> upd0 [label="float64 (F,F)"];
  upd0 -> n4 [label="writes", style=dashed, constraint=false];
}}
)DOT",
                                           line, line + 1, line + 2, line + 3);
  CHECK(printing::to_dot(f, printing::Stage::schedule) == expected);
  auto reference = function({x}, {y}, {.mode = Mode::reference});
  CHECK(contains(thrown_message<std::invalid_argument>([&] { printing::to_dot(reference, printing::Stage::schedule); }),
                 "has no schedule"));
}

TEST_CASE("the schedule's HTML view in headless Chromium: kernels collapsed, profiled times in the data") {
  if (!have_program("chromium")) {
    MESSAGE("skipped: chromium is not installed (scripts/setup.sh installs it)");
    return;
  }
  auto x = T::matrix("x");
  auto w = shared(Tensor::zeros({3, 3}, float64), "w");
  auto y = (T::tanh(x) * 2 + 1).set_name("y");
  auto f = function({x}, {y}, {.updates = {{w, w + T::dot(y, x)}}, .name = "scheduled", .profile = true});
  f(Tensor::full({3, 3}, 0.5, float64));
  const std::string html = printing::to_html(f, printing::Stage::schedule);
  CHECK(contains(html, "\"time_ms\":"));
  CHECK(contains(html, "\"calls\":\"1\""));
  CHECK(contains(html, "\"in_place_of\":\"w\""));
  TempDir dir;
  printing::pydotprint(f, dir.file("s.html"), printing::Stage::schedule);
  const Loaded closed = load_in_chromium(dir.file("s.html"), "");
  INFO("chromium log: " << closed.log);
  CHECK(!page_errors(closed.log));
  CHECK(contains(closed.dom, "step 0: fused kernel 'fused0'"));
  CHECK(contains(closed.dom, "click to expand"));
  CHECK(contains(closed.dom, "step 1"));
  CHECK(contains(closed.dom, ">update of w<"));
  const Loaded opened = load_in_chromium(dir.file("s.html"), "#search=tanh");
  CHECK(!page_errors(opened.log));
  CHECK(contains(opened.dom, ">tanh<"));
}
