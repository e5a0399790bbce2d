// printing::to_dot, to_html and pydotprint: the user's graphs and functions
// turned into compiler/view's GraphView, drawn by its DOT and HTML writers.
#include <graphjit/errors.hpp>
#include <graphjit/printing.hpp>
#include <graphjit/profile.hpp>

#include "compiler/view/dot.hpp"
#include "compiler/view/html_view.hpp"
#include "compiler/view/schedule_view.hpp"
#include "frontend/function_impl.hpp"
#include "runtime/atomic_file.hpp"

#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <pthread.h>
#include <sys/wait.h>
#include <stdexcept>

namespace graphjit::printing {

namespace {

view::GraphView view_of(const std::vector<Variable>& vs) {
  std::vector<view::Root> roots;
  std::string names;
  for (std::size_t i = 0; i < vs.size(); ++i) {
    if (!vs[i].defined()) throw std::invalid_argument(fmt::format("printing: variable {} is undefined", i));
    roots.push_back({vs[i].node(), fmt::format("output {}", i), nullptr});
    names += (names.empty() ? "" : ", ") + vs[i].label();
  }
  return view::view_of(roots, names);
}

// The schedule, with the profile's step times when there is one.
view::GraphView schedule_view_of(const Function& f, const std::vector<std::string>& labels) {
  const Function::Impl& impl = *f.impl();
  if (!impl.compiled.schedule)
    throw std::invalid_argument("printing: " + impl.name + " has no schedule: Mode::reference runs the graph node by "
                                "node; draw Stage::after instead");
  std::vector<view::StepTime> times;
  try {
    for (const StepProfile& step : profile(f).steps) times.push_back({step.calls, step.seconds, step.share});
  } catch (const FunctionError&) {
    // Not profiled: the picture has no times.
  }
  return view::view_of_schedule(*impl.compiled.schedule, labels, times, impl.name + " (schedule)");
}

view::GraphView view_of(const Function& f, Stage stage) {
  const Function::Impl& impl = *f.impl();
  const compiler::Program& program = stage == Stage::before ? impl.original : impl.compiled.optimized;
  std::vector<view::Root> roots;
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < program.outputs.size(); ++i) {
    if (i < program.num_user_outputs) {
      roots.push_back({program.outputs[i], fmt::format("output {}", i), nullptr});
    } else {
      const auto& target = program.update_targets[i - program.num_user_outputs];
      roots.push_back({program.outputs[i], "update of " + target->name, target});
    }
    labels.push_back(roots.back().label);
  }
  if (stage == Stage::schedule) return schedule_view_of(f, labels);
  return view::view_of(roots, fmt::format("{} ({})", impl.name,
                                          stage == Stage::before ? "before optimization" : "after optimization"));
}

// Writes `text` to a child's stdin. A child that exits without reading it all
// (a `dot` that fails at once, or none on PATH) would raise SIGPIPE, whose
// default action kills the user's whole process; this thread blocks it for
// the write, and any SIGPIPE it raised is taken back before unblocking, so
// the failure reaches the caller as the child's exit status. Returns whether
// everything was written.
bool write_to_child(FILE* pipe, const std::string& text) {
  sigset_t pipe_signal, previous;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  const bool written = std::fwrite(text.data(), 1, text.size(), pipe) == text.size() && std::fflush(pipe) == 0;
  const timespec no_wait{0, 0};
  while (sigtimedwait(&pipe_signal, nullptr, &no_wait) == SIGPIPE) {
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return written;
}

// Renders DOT text with Graphviz's dot into `path` (in `format`).
void render(const std::string& dot, const std::string& format, const std::string& path) {
  write_file_atomically(path, [&](const std::string& temp) {
    std::string quoted_path = "'";
    for (char c : temp) quoted_path += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted_path += "'";
    const std::string command = fmt::format("dot -T{} -o {} 2>&1", format, quoted_path);
    FILE* pipe = popen(command.c_str(), "w");
    if (!pipe) throw std::runtime_error("pydotprint: cannot start Graphviz's dot");
    const bool written = write_to_child(pipe, dot);
    const int status = pclose(pipe);
    if (status != 0 || !written)
      throw std::runtime_error(fmt::format(
          "pydotprint: `dot -T{}` failed for '{}' (exit status {}); install Graphviz (apt-get install graphviz) or "
          "write a .dot file instead",
          format, path, WIFEXITED(status) ? WEXITSTATUS(status) : status));
  });
}

void save(const view::GraphView& graph, const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  auto write_text = [&](const std::string& text) {
    write_file_atomically(path, [&](const std::string& temp) {
      std::ofstream out(temp, std::ios::binary);
      out << text;
      if (!out.flush()) throw std::runtime_error("pydotprint: cannot write '" + path + "'");
    });
  };
  if (ext == ".dot" || ext == ".gv") write_text(view::to_dot(graph));
  else if (ext == ".html") write_text(view::to_html(graph));
  else if (ext == ".svg" || ext == ".png" || ext == ".pdf") render(view::to_dot(graph), ext.substr(1), path);
  else
    throw std::invalid_argument("pydotprint: cannot tell the format of '" + path +
                                "' from its extension; use .dot, .svg, .png, .pdf or .html");
}

}  // namespace

std::string to_dot(const Variable& v) { return to_dot(std::vector<Variable>{v}); }
std::string to_dot(const std::vector<Variable>& vs) { return view::to_dot(view_of(vs)); }
std::string to_dot(const Function& f, Stage stage) { return view::to_dot(view_of(f, stage)); }

std::string to_html(const Variable& v) { return to_html(std::vector<Variable>{v}); }
std::string to_html(const std::vector<Variable>& vs) { return view::to_html(view_of(vs)); }
std::string to_html(const Function& f, Stage stage) { return view::to_html(view_of(f, stage)); }

void pydotprint(const Variable& v, const std::string& path) { save(view_of({v}), path); }
void pydotprint(const std::vector<Variable>& vs, const std::string& path) { save(view_of(vs), path); }
void pydotprint(const Function& f, const std::string& path, Stage stage) { save(view_of(f, stage), path); }

}  // namespace graphjit::printing
