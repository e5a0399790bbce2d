// The training loss of examples/rnn_mnist's first N SGD steps (epoch 1, file
// order, batch 100, lr 0.05) from the parameters in an .npz, one line per
// step, for comparing float32 and float64 numerics with a peer's
// (benchmarks/peers/rnn_loss_trace.py does the same in PyTorch):
//
//   rnn_loss_trace INIT.npz float32|float64 [STEPS] [DATA]
//
// The data are Fashion-MNIST as the example loads them (default directory
// /usr/share/datasets/fashion-mnist).
#include "examples/rnn_model.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/datasets.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: rnn_loss_trace INIT.npz float32|float64 [STEPS] [DATA]\n");
    return 2;
  }
  const graphjit::DType dtype = graphjit::dtype_from_name(argv[2]);
  const int steps = argc > 3 ? std::atoi(argv[3]) : 50;
  graphjit::Dataset data = graphjit::load_dataset(argc > 4 ? argv[4] : "/usr/share/datasets/fashion-mnist", dtype,
                                                  seed::kClasses);
  const seed::SharedSplit train{graphjit::shared(data.train.x, "train_x", true),
                                graphjit::shared(data.train.y, "train_y", true)};
  const seed::SharedSplit valid{graphjit::shared(data.valid.x, "valid_x", true),
                                graphjit::shared(data.valid.y, "valid_y", true)};
  seed::Init init{"glorot", graphjit::RandomState(1234), dtype};
  seed::Program p = rnn::build_rnn(128, 0.05, 0, dtype, init, train, valid, valid);
  seed::load_params(argv[1], *p.model);
  for (int s = 0; s < steps; ++s) std::printf("%d %.17g\n", s, p.train(s, 100)[0].item<double>());
}
