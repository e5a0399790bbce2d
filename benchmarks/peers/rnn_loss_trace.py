#!/usr/bin/python3
"""The training loss of the RNN peer's first N SGD steps (--variant loop, epoch 1
in file order) from an .npz of parameters, one line per step; the PyTorch side
of benchmarks/rnn_loss_trace.cpp:

    /usr/bin/python3 benchmarks/peers/rnn_loss_trace.py INIT.npz float32|float64 [STEPS]
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import rnn_torch  # noqa: E402


def main():
    init_path, dtype_name = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    torch.set_num_threads(2)
    dtype = np.dtype(dtype_name)
    x, y = fashion_data.load(dtype)["train"]
    with np.load(init_path) as saved:
        init = {k: saved[k].astype(dtype) for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")}
    model = rnn_torch.LoopModel(init)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    batch = rnn_torch.BATCH
    for s in range(steps):
        loss = rnn_torch.step(model, x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch])
        print(s, repr(float(loss)))


if __name__ == "__main__":
    main()
