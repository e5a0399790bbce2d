// LeNet on Fashion-MNIST (or MNIST): the deeplearning.net tutorial's
// convolutional_mlp.py (lenet_model.hpp) trained with plain SGD, lr 0.1,
// batch 500, with mnist_mlp's data split, flags and --json fields
// (example_driver.hpp). --hidden is the fully connected layer's width (500).
// --save writes conv1_W (20,1,5,5), conv1_b, conv2_W (50,20,5,5), conv2_b,
// fc_W (800,500), fc_b, out_W (500,10), out_b.
#include "example_driver.hpp"
#include "lenet_model.hpp"

int main(int argc, char** argv) {
  using namespace seed;
  const ExampleSpec spec{
      .program = "lenet", .models = {"lenet"}, .hidden = 500, .lr = 0.1, .evaluate_in_batches = true,
      .make_model = [](const Options& o, Init& init, const Variable& x, const Variable& y) -> std::unique_ptr<Model> {
        return std::make_unique<LeNet>(x, y, init, o.hidden);
      }};
  return example_main(argc, argv, spec);
}
