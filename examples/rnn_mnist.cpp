// Sequential MNIST by rows: a recurrent network reads each 28x28 image as 28
// steps of 28 pixels and classifies it from its last hidden state.
//
//   h_0 = 0,  h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),  p = softmax(h_28 W_hy + b_y)
//
// built with one graphjit::scan (the loop is in the graph, compiled once;
// x_t W_xh for all t is one GEMM before the loop), trained with plain SGD on
// the mean negative log-likelihood. Data, split, flags, --json fields and the
// epoch loop are mnist_mlp's (example_driver.hpp), with these defaults:
// --batch 100, --lr 0.05, --hidden 128; --clip C clips every gradient element
// to [-C, C] (no clipping unless given). --save writes W_xh (28,128), W_hh
// (128,128), b_h, W_hy (128,10) and b_y.
#include "example_driver.hpp"
#include "rnn_model.hpp"

int main(int argc, char** argv) {
  using namespace seed;
  const ExampleSpec spec{
      .program = "rnn_mnist", .models = {"rnn"}, .hidden = 128, .lr = 0.05, .batch = 100, .takes_clip = true,
      .make_model = [](const Options& o, Init& init, const Variable& x, const Variable& y) -> std::unique_ptr<Model> {
        return std::make_unique<rnn::Rnn>(x, y, o.hidden, init, o.clip);
      }};
  return example_main(argc, argv, spec);
}
