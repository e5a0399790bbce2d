// The one parser of graphjit's options: GRAPHJIT_FLAGS, set_flags() and the
// older GRAPHJIT_* variables all go through the flag table below.
#include <graphjit/runtime/config.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace graphjit {

namespace {

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Thrown by a flag's setter with only the reason; parse_flags adds the flag.
struct BadValue {
  std::string valid;  // what the flag accepts
};

bool parse_bool(std::string_view v) {
  if (v == "true" || v == "True" || v == "1") return true;
  if (v == "false" || v == "False" || v == "0") return false;
  throw BadValue{"true or false (also True/False, 1/0)"};
}

int parse_int(std::string_view v, std::initializer_list<int> allowed, const char* valid) {
  int value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty()) throw BadValue{valid};
  if (allowed.size() && std::find(allowed.begin(), allowed.end(), value) == allowed.end()) throw BadValue{valid};
  return value;
}

template <class E, std::size_t N>
E parse_choice(std::string_view v, const std::pair<const char*, E> (&choices)[N]) {
  std::vector<std::string> names;
  for (const auto& [name, value] : choices) {
    if (v == name) return value;
    names.emplace_back(name);
  }
  throw BadValue{"one of " + join(names, ", ")};
}

constexpr std::pair<const char*, Mode> kModes[] = {
    {"fast_run", Mode::fast_run}, {"fast_compile", Mode::fast_compile}, {"reference", Mode::reference}, {"debug", Mode::debug}};
constexpr std::pair<const char*, Optimizer> kOptimizers[] = {
    {"fast_run", Optimizer::fast_run}, {"fast_compile", Optimizer::fast_compile}, {"None", Optimizer::none}};
constexpr std::pair<const char*, DType> kFloatX[] = {{"float64", DType::float64}, {"float32", DType::float32}};

constexpr const char* kThreadsValid = "a positive integer, or 0 for every hardware thread";
constexpr const char* kCompileThreadsValid = "a positive integer, or 0 for the hardware threads, at most 8";
constexpr const char* kVectorBitsValid = "128, 256 or 512, or 0 for the widest the CPU has";
constexpr const char* kOptLevelValid = "0, 1, 2 or 3";

int parse_threads(std::string_view v, const char* valid = kThreadsValid) {
  const int n = parse_int(v, {}, valid);
  if (n < 0) throw BadValue{valid};
  return n;
}

std::vector<std::string> parse_names(std::string_view v) {
  std::vector<std::string> names;
  while (!v.empty()) {
    const std::size_t colon = v.find(':');
    const std::string_view name = trim(v.substr(0, colon));
    if (!name.empty()) names.emplace_back(name);
    if (colon == std::string_view::npos) break;
    v.remove_prefix(colon + 1);
  }
  return names;
}

const char* bool_str(bool b) { return b ? "true" : "false"; }

// One record per flag: the only place that knows a flag's name, values and field.
struct Flag {
  const char* name;
  const char* help;
  const char* values;  // for flags_help
  void (*set)(Config&, std::string_view);
  std::string (*get)(const Config&);
};

const Flag kFlags[] = {
    {"optimizer", "which rewrites may run", "fast_run, fast_compile, None",
     [](Config& c, std::string_view v) { c.optimizer = parse_choice(v, kOptimizers); },
     [](const Config& c) -> std::string { return optimizer_name(c.optimizer); }},
    {"optimizer_excluding", "rewrite passes to switch off, by name", "pass names separated by ':'",
     [](Config& c, std::string_view v) { c.optimizer_excluding = parse_names(v); },
     [](const Config& c) { return join(c.optimizer_excluding, ":"); }},
    {"mode", "how functions run unless FunctionOptions::mode says otherwise", "fast_run, fast_compile, reference, debug",
     [](Config& c, std::string_view v) { c.mode = parse_choice(v, kModes); },
     [](const Config& c) -> std::string { return mode_name(c.mode); }},
    {"profile", "time each step of compiled functions", "true, false",
     [](Config& c, std::string_view v) { c.profile = parse_bool(v); },
     [](const Config& c) -> std::string { return bool_str(c.profile); }},
    {"dump_dir", "directory that receives dumps (empty: stderr)", "a directory",
     [](Config& c, std::string_view v) { c.dump_dir = std::string(v); },
     [](const Config& c) { return c.dump_dir; }},
    {"floatX", "default dtype of T::scalar/vector/matrix/tensor3/tensor4 and to_one_hot", "float64, float32",
     [](Config& c, std::string_view v) { c.floatX = parse_choice(v, kFloatX); },
     [](const Config& c) -> std::string { return dtype_name(c.floatX); }},
    {"num_threads", "threads for BLAS calls and fused kernels", kThreadsValid,
     [](Config& c, std::string_view v) { c.num_threads = parse_threads(v); },
     [](const Config& c) { return std::to_string(c.num_threads); }},
    {"jit_cpu", "CPU to generate code for, e.g. haswell (empty: the host)", "an LLVM CPU name",
     [](Config& c, std::string_view v) { c.jit_cpu = std::string(v); },
     [](const Config& c) { return c.jit_cpu; }},
    {"vector_bits", "widest vectors the kernels may use", kVectorBitsValid,
     [](Config& c, std::string_view v) { c.vector_bits = parse_int(v, {0, 128, 256, 512}, kVectorBitsValid); },
     [](const Config& c) { return std::to_string(c.vector_bits); }},
    {"jit_opt_level", "LLVM optimization level of the generated kernels", kOptLevelValid,
     [](Config& c, std::string_view v) { c.jit_opt_level = parse_int(v, {0, 1, 2, 3}, kOptLevelValid); },
     [](const Config& c) { return std::to_string(c.jit_opt_level); }},
    {"compile_threads", "threads that compile one function's new kernels (1: all on the calling thread)",
     kCompileThreadsValid,
     [](Config& c, std::string_view v) { c.compile_threads = parse_threads(v, kCompileThreadsValid); },
     [](const Config& c) { return std::to_string(c.compile_threads); }},
    {"dump_passes", "print the graph to stderr after each rewrite that changed it", "true, false",
     [](Config& c, std::string_view v) { c.dump_passes = parse_bool(v); },
     [](const Config& c) -> std::string { return bool_str(c.dump_passes); }},
    {"dump_ir", "write each module's LLVM IR (into dump_dir with its assembly, else stderr)", "true, false",
     [](Config& c, std::string_view v) { c.dump_ir = parse_bool(v); },
     [](const Config& c) -> std::string { return bool_str(c.dump_ir); }},
    {"nan_guard", "check each step's outputs for nan and inf", "true, false",
     [](Config& c, std::string_view v) { c.nan_guard = parse_bool(v); },
     [](const Config& c) -> std::string { return bool_str(c.nan_guard); }},
};

std::vector<std::string> flag_names() {
  std::vector<std::string> names;
  for (const Flag& flag : kFlags) names.emplace_back(flag.name);
  return names;
}

void apply(Config& config, std::string_view name, std::string_view value) {
  for (const Flag& flag : kFlags) {
    if (name != flag.name) continue;
    try {
      flag.set(config, value);
    } catch (const BadValue& bad) {
      throw ConfigError("graphjit flag " + std::string(name) + "=" + std::string(value) + ": the value must be " +
                        bad.valid);
    }
    return;
  }
  throw ConfigError("graphjit flags: there is no flag named '" + std::string(name) +
                    "'; the flags are: " + join(flag_names(), ", "));
}

// The variables graphjit read before GRAPHJIT_FLAGS, still honoured (with
// their old spellings: anything but "0" turns a switch on); GRAPHJIT_FLAGS is
// applied after them and wins.
void apply_old_variables(Config& config) {
  struct Old {
    const char* variable;
    const char* flag;
    bool is_switch;
  };
  constexpr Old kOld[] = {
      {"GRAPHJIT_DUMP_PASSES", "dump_passes", true},      {"GRAPHJIT_JIT_CPU", "jit_cpu", false},
      {"GRAPHJIT_VECTOR_BITS", "vector_bits", false},     {"GRAPHJIT_JIT_OPT_LEVEL", "jit_opt_level", false},
      {"GRAPHJIT_NUM_THREADS", "num_threads", false},    {"GRAPHJIT_PROFILE", "profile", true},
  };
  for (const Old& old : kOld) {
    const char* value = std::getenv(old.variable);
    if (!value || !*value) continue;
    try {
      apply(config, old.flag, old.is_switch ? (std::string_view(value) == "0" ? "false" : "true") : value);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string(old.variable) + " (the old spelling of flag " + old.flag + "): " + e.what());
    }
  }
  // GRAPHJIT_DUMP_IR=1 printed to stderr; a directory received the files.
  if (const char* ir = std::getenv("GRAPHJIT_DUMP_IR"); ir && *ir && std::string_view(ir) != "0") {
    config.dump_ir = true;
    if (std::string_view(ir) != "1" && std::string_view(ir) != "stderr") config.dump_dir = ir;
  }
}

}  // namespace

const char* mode_name(Mode mode) {
  for (const auto& [name, value] : kModes)
    if (value == mode) return name;
  return "?";
}

const char* optimizer_name(Optimizer optimizer) {
  for (const auto& [name, value] : kOptimizers)
    if (value == optimizer) return name;
  return "?";
}

Config parse_flags(std::string_view flags, Config base) {
  while (!flags.empty()) {
    const std::size_t comma = flags.find(',');
    const std::string_view entry = trim(flags.substr(0, comma));
    if (!entry.empty()) {
      const std::size_t eq = entry.find('=');
      if (eq == std::string_view::npos)
        throw ConfigError("graphjit flags: '" + std::string(entry) +
                          "' is not name=value; the flags are: " + join(flag_names(), ", "));
      apply(base, trim(entry.substr(0, eq)), trim(entry.substr(eq + 1)));
    }
    if (comma == std::string_view::npos) break;
    flags.remove_prefix(comma + 1);
  }
  return base;
}

void check_config(const Config& config) {
  // Every field must read back as a value its flag accepts.
  Config copy = config;
  for (const Flag& flag : kFlags) apply(copy, flag.name, flag.get(config));
}

std::string flags_string(const Config& config) {
  std::string out;
  for (const Flag& flag : kFlags) out += std::string(out.empty() ? "" : ",") + flag.name + "=" + flag.get(config);
  return out;
}

std::string flags_help() {
  const Config defaults;
  std::string out;
  for (const Flag& flag : kFlags)
    out += std::string(flag.name) + ": " + flag.help + "; " + flag.values + " (default: " +
           (flag.get(defaults).empty() ? "empty" : flag.get(defaults)) + ")\n";
  return out;
}

Config& config() {
  static Config* current = [] {
    Config c;
    apply_old_variables(c);
    if (const char* flags = std::getenv("GRAPHJIT_FLAGS")) {
      try {
        c = parse_flags(flags, c);
      } catch (const ConfigError& e) {
        throw ConfigError(std::string("GRAPHJIT_FLAGS=\"") + flags + "\": " + e.what());
      }
    }
    return new Config(std::move(c));  // never destroyed: static destructors may still read it
  }();
  return *current;
}

void set_flags(std::string_view flags) { config() = parse_flags(flags, config()); }

}  // namespace graphjit
