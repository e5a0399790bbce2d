"""Fashion-MNIST as the seed program splits it: 50,000 train, 10,000 valid, 10,000 test.

Shared by the Python peers so every system trains on byte-identical data.
The idx files are the ones Debian's dataset package installs; pixels are
scaled to [0, 1] exactly as the Theano tutorial scales MNIST.
"""
import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
TRAIN_ROWS = 50_000  # the first 50,000 rows of the train file; the last 10,000 are validation
IMAGE_PIXELS = 784
CLASSES = 10


def _read_idx(path, expected_magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path}: idx magic {magic:#x}, expected {expected_magic:#x}; "
                         "is this a Fashion-MNIST idx file?")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape} but holds {data.size} bytes")
    return data.reshape(shape)


def _images(path):
    pixels = _read_idx(path, 0x803)
    return pixels.reshape(pixels.shape[0], IMAGE_PIXELS)


def _labels(path):
    return _read_idx(path, 0x801).astype(np.int64)


def load(dtype=np.float64, directory=DEFAULT_DIR):
    """Return {"train"|"valid"|"test": (x, y)} with x (rows, 784) of dtype in [0, 1], y int64."""
    def path(name):
        return os.path.join(directory, name)

    if not os.path.exists(path("train-images-idx3-ubyte.gz")):
        raise FileNotFoundError(f"Fashion-MNIST not found in {directory}: install Debian's "
                                "fashion-mnist dataset package or pass the directory that holds "
                                "{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz")
    train_x = _images(path("train-images-idx3-ubyte.gz"))
    train_y = _labels(path("train-labels-idx1-ubyte.gz"))
    test_x = _images(path("t10k-images-idx3-ubyte.gz"))
    test_y = _labels(path("t10k-labels-idx1-ubyte.gz"))

    real = np.dtype(dtype)

    def scaled(pixels):
        # divide in the target dtype, so float32 data is byte / 255 rounded once
        values = pixels.astype(real)
        values /= real.type(255)
        return values

    return {
        "train": (scaled(train_x[:TRAIN_ROWS]), train_y[:TRAIN_ROWS].copy()),
        "valid": (scaled(train_x[TRAIN_ROWS:]), train_y[TRAIN_ROWS:].copy()),
        "test": (scaled(test_x), test_y.copy()),
    }


def load_orders(path, epochs, rows):
    """The --order file (race.py's, shared by every system): row e-1 is the
    permutation of the training rows applied after epoch e."""
    orders = np.load(path)
    if orders.ndim != 2 or orders.shape[0] < epochs - 1 or orders.shape[1] != rows \
            or orders.dtype.kind not in "iu":
        raise SystemExit(f"--order {path}: needs integers of shape (at least {epochs - 1}, {rows}), "
                         f"got {orders.dtype} {orders.shape}")
    return orders
