// What the MNIST examples share around their models: the command line, the
// data in shared variables, the epoch loop (epoch 1 in file order, then a
// shuffle per epoch), the report (text or --json lines), --save, --dump and
// --profile. mnist_mlp (the seed's MLP) and rnn_mnist (an RNN over rows) give
// it a model: train/valid/test functions over (batch index, batch size) and
// the named parameters that --save and --load use.
#pragma once

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/datasets.hpp>
#include <graphjit/runtime/npz.hpp>
#include <graphjit/runtime/random.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace mnist_driver {

using graphjit::SharedVariable;
using graphjit::Tensor;

struct Options {
  std::string data = "fashion", model = "mlp", init = "glorot", dtype, save, load, dump;  // dtype: floatX by default
  int epochs = 10, batch = 500, hidden = 128, threads = 2;
  double lr = 0.3;
  double clip = 0;  // rnn_mnist: clip each gradient element to [-clip, clip] (0: no clipping)
  std::uint64_t seed = 1234;
  bool json = false, profile = false;
};

// What a program describes of itself for --help and the flag checks.
struct Usage {
  std::string program;               // "mnist_mlp"
  std::vector<std::string> models;   // allowed --model values
  std::string extra_flags;           // e.g. "[--clip C]"
};

inline Options parse(int argc, char** argv, Options o, const Usage& usage) {
  std::map<std::string, std::function<void(const std::string&)>> flags = {
      {"--data", [&](auto v) { o.data = v; }},      {"--model", [&](auto v) { o.model = v; }},
      {"--init", [&](auto v) { o.init = v; }},      {"--dtype", [&](auto v) { o.dtype = v; }},
      {"--save", [&](auto v) { o.save = v; }},      {"--load", [&](auto v) { o.load = v; }},
      {"--dump", [&](auto v) { o.dump = v; }},
      {"--epochs", [&](auto v) { o.epochs = std::stoi(v); }},
      {"--batch", [&](auto v) { o.batch = std::stoi(v); }},
      {"--hidden", [&](auto v) { o.hidden = std::stoi(v); }},
      {"--threads", [&](auto v) { o.threads = std::stoi(v); }},
      {"--lr", [&](auto v) { o.lr = std::stod(v); }},
      {"--seed", [&](auto v) { o.seed = std::stoull(v); }},
  };
  if (!usage.extra_flags.empty()) flags["--clip"] = [&](auto v) { o.clip = std::stod(v); };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json") {
      o.json = true;
    } else if (arg == "--profile") {
      o.profile = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << fmt::format("usage: {} [--data fashion|mnist|DIR] [--model {}] "
                               "[--init glorot|uniform01|uniform11] [--epochs N] [--batch N] [--lr X] [--hidden N] "
                               "[--dtype float64|float32] [--seed N] [--threads N] [--save FILE.npz] [--load FILE.npz] "
                               "[--json] [--dump DIR] [--profile]{}\n\nGRAPHJIT_FLAGS (comma-separated name=value) sets "
                               "these options:\n",
                               usage.program, fmt::join(usage.models, "|"),
                               usage.extra_flags.empty() ? "" : " " + usage.extra_flags)
                << graphjit::flags_help();
      std::exit(0);
    } else if (flags.count(arg) && i + 1 < argc) {
      flags[arg](argv[++i]);
    } else {
      throw std::invalid_argument("unknown or incomplete flag '" + arg + "' (see --help)");
    }
  }
  auto one_of = [](const std::string& flag, const std::string& v, std::vector<std::string> allowed) {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
      throw std::invalid_argument(fmt::format("{} must be one of {}, got '{}'", flag, fmt::join(allowed, "|"), v));
  };
  one_of("--model", o.model, usage.models);
  one_of("--init", o.init, {"glorot", "uniform01", "uniform11"});
  if (o.dtype.empty()) o.dtype = graphjit::dtype_name(graphjit::config().floatX);  // Theano's floatX, as in the seed
  one_of("--dtype", o.dtype, {"float64", "float32"});
  if (o.epochs < 1 || o.batch < 1 || o.hidden < 1 || o.threads < 1)
    throw std::invalid_argument("--epochs, --batch, --hidden and --threads must be at least 1");
  if (!(o.clip >= 0)) throw std::invalid_argument("--clip must be a positive number (or 0: no clipping)");
  return o;
}

inline void progress(int epoch, int batch, int batches, double loss) {
  const int width = 30, done = width * (batch + 1) / batches;
  std::printf("\repoch %2d [%s%s] %d/%d loss %.4f", epoch, std::string(done, '#').c_str(),
              std::string(width - done, '.').c_str(), batch + 1, batches, loss);
  std::fflush(stdout);
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// --dump DIR: the train function's graphs in every form graphjit prints.
inline void dump_graphs(const graphjit::Function& train, const std::string& dir, const std::string& program) {
  namespace printing = graphjit::printing;
  for (auto [stage, name] : {std::pair{printing::Stage::before, "before"}, std::pair{printing::Stage::after, "after"},
                             std::pair{printing::Stage::schedule, "schedule"}}) {
    const std::string stem = fmt::format("{}/train.{}", dir, name);
    std::ofstream(stem + ".txt") << graphjit::debugprint(train, stage);
    printing::pydotprint(train, stem + ".dot", stage);
    printing::pydotprint(train, stem + ".html", stage);
    try {
      printing::pydotprint(train, stem + ".svg", stage);
    } catch (const std::runtime_error& e) {
      std::cerr << program << ": no SVG: " << e.what() << "\n";
    }
  }
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The data, as the Theano tutorial keeps it: each split in shared variables.
struct SharedData {
  struct Split {
    SharedVariable x, y;
  };
  Split train, valid, test;
  Tensor train_x, train_y;  // the training set's own tensors, shuffled in place between epochs
  std::string description;
};

inline SharedData load_shared_data(const Options& o, graphjit::DType floatX, int classes) {
  using graphjit::shared;
  graphjit::Dataset datasets = graphjit::load_dataset(o.data, floatX, classes);
  SharedData d;
  d.description = datasets.description;
  d.train_x = std::move(datasets.train.x);
  d.train_y = std::move(datasets.train.y);
  d.train = {shared(d.train_x, "train_x", true), shared(d.train_y, "train_y", true)};
  d.valid = {shared(datasets.valid.x, "valid_x", true), shared(datasets.valid.y, "valid_y", true)};
  d.test = {shared(datasets.test.x, "test_x", true), shared(datasets.test.y, "test_y", true)};
  return d;
}

// A model ready to train: train(index, size) returns the batch's loss first,
// valid(index, size) the loss and the accuracy, test(index, size) the accuracy.
struct Trainable {
  graphjit::Function train, valid, test;
  std::vector<std::pair<std::string, SharedVariable>> params;  // --save / --load keys
  double compile_seconds = 0;  // from the first symbolic variable to a compiled train function
};

// Sets up threads, --profile and --dump before the model is built.
inline void prepare(const Options& o) {
  graphjit::set_num_threads(o.threads);
  if (o.profile) graphjit::config().profile = true;  // each function's table prints to stderr at the end
  if (!o.dump.empty()) {  // LLVM IR and assembly of every module compiled from here on
    std::filesystem::create_directories(o.dump);
    graphjit::config().dump_ir = true;
    graphjit::config().dump_dir = o.dump;
  }
}

// The epoch loop and the report, the same for every model.
inline int train_and_report(const Options& o, SharedData& data, Trainable& m, const std::string& program) {
  using clock = std::chrono::steady_clock;
  if (!o.dump.empty()) {
    graphjit::config().dump_ir = false;
    dump_graphs(m.train, o.dump, program);
    if (!o.json) std::cout << "graphs and LLVM IR written to " << o.dump << "/\n";
  }
  const int batches_in_epoch = static_cast<int>(data.train_x.shape(0)) / o.batch;
  if (batches_in_epoch == 0)
    throw std::invalid_argument(fmt::format("--batch {} is larger than the training set ({} images)", o.batch,
                                            data.train_x.shape(0)));
  const bool tty = !o.json && isatty(fileno(stdout));
  graphjit::RandomState shuffler(o.seed + 1);
  std::vector<double> epoch_seconds;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    double epoch_loss = 0;
    const auto epoch_start = clock::now();
    for (int batch_n = 0; batch_n < batches_in_epoch; ++batch_n) {
      const double l = m.train(batch_n, o.batch)[0].item<double>();
      epoch_loss += l;
      if (tty) progress(epoch, batch_n, batches_in_epoch, l);
    }
    epoch_seconds.push_back(seconds_since(epoch_start));
    // shuffle train set every epoch
    auto shuffle = shuffler.permutation(data.train_x.shape(0));
    graphjit::permute_rows(data.train_x, shuffle);
    graphjit::permute_rows(data.train_y, shuffle);
    data.train.x.set_value(data.train_x, true);
    data.train.y.set_value(data.train_y, true);

    auto v = m.valid(0, static_cast<int>(data.valid.x.get_value(true).shape(0)));
    const double valid_l = v[0].item<double>(), valid_e = v[1].item<double>();
    const double train_l = epoch_loss / batches_in_epoch;
    if (o.json) {
      std::cout << fmt::format(R"({{"epoch": {}, "train_loss": {:.17g}, "valid_loss": {:.17g}, "valid_accuracy": {:.17g}, "seconds": {:.6f}}})",
                               epoch, train_l, valid_l, valid_e, epoch_seconds.back())
                << std::endl;
    } else {
      if (tty) std::cout << "\r\033[K";
      std::cout << fmt::format("epoch {:2d}  train loss {:.4f}  validation loss {:.4f}  validation accuracy {:.4f}  {:.2f} s",
                               epoch, train_l, valid_l, valid_e, epoch_seconds.back())
                << std::endl;
    }
  }

  const double acc = m.test(0, static_cast<int>(data.test.x.get_value(true).shape(0)))[0].item<double>();
  // With --profile, the schedule's page again, now with each step's time in its tooltips.
  if (!o.dump.empty() && o.profile)
    graphjit::printing::pydotprint(m.train, o.dump + "/train.schedule.html", graphjit::printing::Stage::schedule);
  if (!o.save.empty()) {
    graphjit::NamedArrays arrays;
    for (auto& [key, param] : m.params) arrays.emplace_back(key, param.get_value());
    graphjit::save_npz(o.save, arrays);
  }
  if (o.json) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::cout << fmt::format(R"({{"test_accuracy": {:.17g}, "compile_seconds": {:.6f}, "median_epoch_seconds": {:.6f}, "peak_rss_mb": {:.1f}}})",
                             acc, m.compile_seconds, median(epoch_seconds), usage.ru_maxrss / 1024.0)
              << std::endl;
  } else {
    std::cout << fmt::format("\nFinal accuracy: {:.4f}\n(train function compiled in {:.3f} s, median epoch {:.3f} s)\n",
                             acc, m.compile_seconds, median(epoch_seconds));
  }
  return 0;
}

}  // namespace mnist_driver
