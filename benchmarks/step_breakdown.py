#!/usr/bin/python3
"""Where the seed step's time beyond its GEMMs goes (issue: the step's non-GEMM time).

Runs, one after another in one session, the seed MLP's training (examples/mnist_mlp)
and the GEMM-only bound (benchmarks/peers/gemm_bound.cpp) at float64 and float32,
on 1 and on 2 threads, and prints per training step:
  - the step's wall time and the bound's, and their ratio (the race's figure);
  - from graphjit's profile of one run: the time inside the step's GEMM calls
    and inside everything else (fused kernels, native ops, the executor).
Comparing the 1- and 2-thread columns separates what threads cost (hand-off
between OpenBLAS's threads and graphjit's pool) from what the work itself
costs (cache state after the GEMMs).

    /usr/bin/python3 benchmarks/step_breakdown.py [--epochs 3]

Needs an idle machine: each figure is a median over epochs, compared only
within this run.
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import race  # noqa: E402  (the race's peers, environment and JSON reader)

STEPS_PER_EPOCH = 100  # 50,000 training rows in batches of 500


def step_ms(result):
    return 1000 * result["final"]["median_epoch_seconds"] / STEPS_PER_EPOCH


def profiled_split(graphjit, dtype, threads):
    """(GEMM us, other us) per call of the train function, from its profile."""
    command = [graphjit, "--dtype", dtype, "--epochs", "1", "--threads", str(threads),
               "--data", "fashion", "--profile"]
    env = dict(os.environ, **race.RACE_ENV)
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True, cwd=race.REPO)
    text = out.stdout + out.stderr
    # One profile per function; the train function is the one called most.
    blocks = text.split("graphjit profile of function")[1:]
    calls = [int(re.search(r"([0-9]+) calls,", b).group(1)) for b in blocks]
    train = blocks[calls.index(max(calls))]
    per_call = float(re.search(r"calls, ([0-9.]+) us per call", train).group(1))
    gemm = 0.0
    for line in train.splitlines():
        cols = line.split()
        if len(cols) > 7 and cols[0].endswith("%") and "gemm" in cols[5:8]:
            gemm += float(cols[2])
    return gemm, per_call - gemm


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--graphjit", default=None, help="path of examples/mnist_mlp")
    args = parser.parse_args()
    graphjit = race.find_graphjit(args.graphjit)
    bound = race.build_cxx_peer("gemm_bound")
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.1f}: other work is running, times are noisy", file=sys.stderr)
    print("dtype    threads  step ms  bound ms  step/bound  in-step GEMM us  other us")
    for dtype in race.DTYPES:
        for threads in (1, 2):
            flags = ["--dtype", dtype, "--epochs", str(args.epochs), "--threads", str(threads)]
            step = step_ms(race.run_one([graphjit, "--json", "--data", "fashion", *flags], 3600))
            floor = step_ms(race.run_one([bound, *flags], 3600))
            gemm_us, other_us = profiled_split(graphjit, dtype, threads)
            print(f"{dtype:8} {threads:7}  {step:7.3f}  {floor:8.3f}  {step / floor:10.2f}  "
                  f"{gemm_us:15.0f}  {other_us:8.0f}", flush=True)


if __name__ == "__main__":
    main()
