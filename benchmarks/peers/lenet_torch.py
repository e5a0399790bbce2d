#!/usr/bin/python3
"""LeNet (the deeplearning.net tutorial's convolutional_mlp.py) in PyTorch eager: a race peer.

Same model as examples/lenet (conv 20x5x5 -> 2x2 max pool -> tanh(+b) -> conv
50x5x5 -> pool -> tanh(+b) -> tanh(800->500) -> softmax(500->10)), mean negative
log-likelihood, plain SGD lr 0.1, batch 500, the tutorial's init (uniform
+-sqrt(6/(fan_in+fan_out)), fan_out = out_channels*kh*kw/pool area; the output
layer from zeros), drawn from a seeded NumPy generator. torch's conv2d is a
cross-correlation, Theano's a true convolution: parameters loaded with --init
(race.py's one init for every system, keys as examples/lenet's checkpoints)
are Theano filters, so the filters are flipped once when loaded; training the
flipped filters is the same SGD, element for element. Without --init the
filters are drawn symmetric about zero, where the flip changes nothing about
the distribution, and none is applied.
Prints the peer_report JSON lines; epoch 1 visits the training set in file
order, later epochs the permutations of --order (race.py's, shared with the
other systems) or, without it, ones drawn from --seed.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import peer_report  # noqa: E402

BATCH = 500
LEARNING_RATE = 0.1


# examples/lenet's checkpoint keys, in the order log_probs takes them.
KEYS = ("conv1_W", "conv1_b", "conv2_W", "conv2_b", "fc_W", "fc_b", "out_W", "out_b")
CONV_FILTERS = ("conv1_W", "conv2_W")


def init_params(rng, dtype):
    """The tutorial's init as {key: array}: uniform +-sqrt(6/(fan_in+fan_out)), the output layer zeros."""
    def uniform(shape, fan_in, fan_out):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape).astype(dtype)
    values = [uniform((20, 1, 5, 5), 25, 20 * 25 // 4), np.zeros(20, dtype),
              uniform((50, 20, 5, 5), 500, 50 * 25 // 4), np.zeros(50, dtype),
              uniform((800, 500), 800, 500), np.zeros(500, dtype),
              np.zeros((500, 10), dtype), np.zeros(10, dtype)]
    return dict(zip(KEYS, values))


def load_init(path, dtype):
    """examples/lenet's checkpoint layout, as torch's parameters: Theano's filters flipped into torch's."""
    with np.load(path) as saved:
        missing = [k for k in KEYS if k not in saved]
        if missing:
            raise SystemExit(f"{path}: no arrays {missing} (a LeNet init has {', '.join(KEYS)})")
        params = {k: saved[k].astype(dtype) for k in KEYS}
    for k in CONV_FILTERS:
        params[k] = np.ascontiguousarray(params[k][:, :, ::-1, ::-1])
    return params


def log_probs(x, conv1_W, conv1_b, conv2_W, conv2_b, fc_W, fc_b, out_W, out_b):
    h = x.reshape(-1, 1, 28, 28)
    h = torch.tanh(F.max_pool2d(F.conv2d(h, conv1_W), 2) + conv1_b.view(1, -1, 1, 1))
    h = torch.tanh(F.max_pool2d(F.conv2d(h, conv2_W), 2) + conv2_b.view(1, -1, 1, 1))
    h = torch.tanh(torch.addmm(fc_b, h.flatten(1), fc_W))
    return F.log_softmax(torch.addmm(out_b, h, out_W), dim=1)


def evaluate(params, x, y):
    with torch.no_grad():
        losses, correct = 0.0, 0.0
        for k in range(0, x.shape[0], BATCH):
            lp = log_probs(x[k:k + BATCH], *params)
            losses += F.nll_loss(lp, y[k:k + BATCH], reduction="sum").item()
            correct += (lp.argmax(dim=1) == y[k:k + BATCH]).sum().item()
        return losses / x.shape[0], correct / x.shape[0]


def train_step(params, x, y):
    loss = F.nll_loss(log_probs(x, *params), y)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.sub_(g, alpha=LEARNING_RATE)
    return loss.item()


def time_steps(params, steps, dtype):
    """Seconds per train step on one random batch (after one warm-up step): what bench_lenet compares with."""
    x = torch.rand(BATCH, 784, dtype=getattr(torch, dtype.name))
    y = torch.randint(0, 10, (BATCH,))
    train_step(params, x, y)
    start = time.perf_counter()
    for _ in range(steps):
        train_step(params, x, y)
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-steps", type=int, default=0,
                        help="only time this many train steps on random data and print {\"seconds_per_step\": ...}")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=fashion_data.DEFAULT_DIR)
    parser.add_argument("--init", metavar="FILE.npz",
                        help="start from these parameters (examples/lenet's checkpoint keys, Theano's filters)")
    parser.add_argument("--order", metavar="FILE.npy",
                        help="row e-1: the permutation of the training rows applied after epoch e")
    parser.add_argument("--train-rows", type=int, default=0,
                        help="train on the first N training images only (smoke runs)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(args.seed)
    initial = load_init(args.init, dtype) if args.init else init_params(rng, dtype)
    params = [torch.from_numpy(initial[k]).requires_grad_() for k in KEYS]
    if args.time_steps > 0:
        print(json.dumps({"seconds_per_step": time_steps(params, args.time_steps, dtype)}))
        return
    data = {split: (torch.from_numpy(x), torch.from_numpy(y).long())
            for split, (x, y) in fashion_data.load(dtype, args.data_dir).items()}
    train_x, train_y = data["train"]
    if args.train_rows:
        train_x, train_y = train_x[:args.train_rows].clone(), train_y[:args.train_rows].clone()
    orders = fashion_data.load_orders(args.order, args.epochs, train_x.shape[0]) if args.order else None
    epoch_seconds = []
    for epoch in range(args.epochs):
        losses = []
        start = time.perf_counter()
        for k in range(train_x.shape[0] // BATCH):
            losses.append(train_step(params, train_x[k * BATCH:(k + 1) * BATCH], train_y[k * BATCH:(k + 1) * BATCH]))
        epoch_seconds.append(time.perf_counter() - start)
        if epoch + 1 < args.epochs:  # reshuffle for the next epoch
            order = orders[epoch] if orders is not None else rng.permutation(train_x.shape[0])
            order = torch.from_numpy(np.asarray(order, dtype=np.int64))
            train_x, train_y = train_x[order], train_y[order]
        valid_loss, valid_accuracy = evaluate(params, *data["valid"])
        peer_report.epoch_line(epoch + 1, np.mean(losses), valid_loss, valid_accuracy, epoch_seconds[-1])
    _, test_accuracy = evaluate(params, *data["test"])
    peer_report.final_line(test_accuracy, epoch_seconds)


if __name__ == "__main__":
    main()
