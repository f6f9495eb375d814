#!/usr/bin/env python3
"""DeepSeek's DualPipe on PyTorch against `dualpipe train --model mlp`, on the same cores.

Both sides run the model of DeepSeek's DualPipe example: per stage, Linear(hidden, 4 x hidden)
without bias, exact GELU, Linear(4 x hidden, hidden) without bias; MSE against random targets;
PP ranks, two stages each, one compute thread per rank. PyTorch runs on CPU with the gloo backend
(DeepSeek's package is written for CUDA: the two places that name the device are pointed at the
CPU below, nothing else is changed). The two are run alternately, round after round, so that a
busy machine slows both alike; each run times `--steps` steps after one warm-up step and reports
the median of the slowest rank's schedule time (from a barrier to the end of the step's F, B and
W, without an optimizer update, which DualPipe.step does not do either).

Needs: `pip install torch dualpipe` (CPU wheels are enough) and a release build of dualpipe.
Run from the repository root:  python3 bench/peer/dualpipe_peer.py
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import warnings

# The shared helpers one folder up (bench/).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cpu_description import cpu_description  # noqa: E402

# PyTorch's wheels warn on import when NumPy is absent; nothing here uses NumPy.
NUMPY_WARNING = "Failed to initialize NumPy"


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pp", type=int, default=2, help="pipeline ranks (even, as DualPipe needs)")
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--micro-batch-size", type=int, default=3)
    parser.add_argument("--micro-batches", type=int, default=20, help="micro-batches per step (num_chunks)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run, after one warm-up step")
    parser.add_argument("--rounds", type=int, default=3, help="alternations: one PyTorch run and one of ours each")
    parser.add_argument("--dualpipe", default=".build/release/dualpipe", help="the dualpipe binary")
    parser.add_argument("--launch", default="scripts/launch", help="what starts our ranks (scripts/launch NP PROGRAM ...)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.pp < 2 or arguments.pp % 2:
        parser.error(f"--pp {arguments.pp}: DualPipe needs an even number of ranks, at least 2")
    if arguments.micro_batches < 2 * arguments.pp or arguments.micro_batches % 2:
        parser.error(f"--micro-batches {arguments.micro_batches}: DualPipe needs an even number, at least 2 x --pp")
    for name in ("hidden", "seq_len", "micro_batch_size", "steps", "rounds"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return arguments


# ---------------------------------------------------------------- the PyTorch side (one process per rank)

def torch_rank(rank, arguments, port, output):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.distributed as dist
    import dualpipe
    import dualpipe.comm
    from dualpipe import DualPipe, WeightGradStore

    torch.set_num_threads(1)
    # DualPipe allocates its receive buffers on "cuda" and checks that the modules live there.
    dualpipe.comm.build_from_tensor_shapes = lambda: [
        torch.empty(shape, dtype=dualpipe.comm.TENSOR_DTYPE, requires_grad=True) for shape in dualpipe.comm.TENSOR_SHAPES]
    torch.cuda.current_device = lambda: "cpu"

    class SplitLinear(torch.autograd.Function):
        """y = x Wᵀ whose weight gradient is deferred to DualPipe's W when zero-bubble is on."""

        @staticmethod
        def forward(ctx, x, weight):
            ctx.save_for_backward(x, weight)
            return F.linear(x, weight)

        @staticmethod
        def backward(ctx, dy):
            x, weight = ctx.saved_tensors

            def weight_gradient():
                g = dy.flatten(0, -2).T @ x.flatten(0, -2)
                if weight.grad is None:
                    weight.grad = g
                else:
                    weight.grad += g

            if WeightGradStore.enabled:
                WeightGradStore.put(weight_gradient)
            else:
                weight_gradient()
            return dy @ weight, None

    class Block(nn.Module):
        def __init__(self, hidden):
            super().__init__()
            self.up = nn.Parameter(torch.randn(4 * hidden, hidden) / hidden ** 0.5)
            self.down = nn.Parameter(torch.randn(hidden, 4 * hidden) / (4 * hidden) ** 0.5)

        def forward(self, x):
            return SplitLinear.apply(F.gelu(SplitLinear.apply(x, self.up)), self.down)

    def mse(output, target):
        return F.mse_loss(output, target).clone()

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", world_size=arguments.pp, rank=rank)
    torch.manual_seed(1)
    shape = (arguments.micro_batch_size, arguments.seq_len, arguments.hidden)
    dualpipe.set_p2p_tensor_shapes([shape])
    dualpipe.set_p2p_tensor_dtype(torch.float32)
    model = DualPipe((Block(arguments.hidden), Block(arguments.hidden)))
    half = (arguments.micro_batches // 2 * arguments.micro_batch_size, arguments.seq_len, arguments.hidden)
    ends = rank in (0, arguments.pp - 1)
    x = torch.randn(half) if ends else None
    labels = (torch.randn(half) if ends else None,)
    times = []
    for step in range(arguments.steps + 1):
        dist.barrier()
        start = __import__("time").perf_counter()
        model.step(x, num_chunks=arguments.micro_batches, criterion=mse if ends else None, labels=labels)
        elapsed = torch.tensor([__import__("time").perf_counter() - start], dtype=torch.float64)
        dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        model.zero_grad(set_to_none=False)
        if step > 0:
            times.append(elapsed.item())
    if rank == 0:
        with open(output, "w") as f:
            json.dump({"times": times, "threads": torch.get_num_threads(), "torch": torch.__version__,
                       "blas": torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0]}, f)
    dist.destroy_process_group()


def worker_main(arguments):
    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(torch_rank, args=(arguments, port, arguments.output), nprocs=arguments.pp, join=True)


# ---------------------------------------------------------------- the driver

def one_thread_environment():
    environment = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[name] = "1"
    return environment


def run_torch(arguments, folder):
    output = os.path.join(folder, "torch.json")
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--output", output,
               "--pp", str(arguments.pp), "--hidden", str(arguments.hidden), "--seq-len", str(arguments.seq_len),
               "--micro-batch-size", str(arguments.micro_batch_size), "--micro-batches", str(arguments.micro_batches),
               "--steps", str(arguments.steps)]
    environment = one_thread_environment()
    environment["PYTHONWARNINGS"] = f"ignore:{NUMPY_WARNING}:UserWarning"
    subprocess.run(command, check=True, env=environment)
    with open(output) as f:
        return json.load(f)


def run_ours(arguments, folder):
    metrics = os.path.join(folder, "ours.jsonl")
    command = [arguments.launch, str(arguments.pp), arguments.dualpipe, "train", "--model", "mlp", "--schedule", "dualpipe",
               "--pp", str(arguments.pp), "--hidden", str(arguments.hidden), "--seq-len", str(arguments.seq_len),
               "--micro-batch-size", str(arguments.micro_batch_size), "--micro-batches", str(arguments.micro_batches),
               "--steps", str(arguments.steps + 1), "--metrics", metrics]
    result = subprocess.run(command, env=one_thread_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"dualpipe failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    blas = next((line for line in result.stdout.splitlines() if "OpenBLAS" in line), "")
    with open(metrics) as f:
        records = [json.loads(line) for line in f]
    # Each rank's compute a step (median over the steps): the step follows the slowest rank, and on a
    # shared VM one core can run a third slower than the other for minutes.
    compute = [statistics.median(r["compute_seconds"][rank] for r in records[1:]) for rank in range(arguments.pp)]
    return {"times": [r["schedule_seconds"] for r in records[1:]], "steps": [r["step_seconds"] for r in records[1:]],
            "compute": compute, "banner": blas}


def sgemm_gflop_per_rank(arguments, input_gradient):
    """The most sgemm GFLOP a rank computes in one step of DualPipe on this model: rank r holds stage
    r of one direction and stage PP-1-r of the other, M/2 micro-batches each; a block's F, B and W
    are two products of 2 x rows x hidden x 4 hidden FLOP each, except that B skips the data's
    gradient on a direction's first stage unless `input_gradient` (PyTorch computes it, we do not)."""
    product = 2 * arguments.micro_batch_size * arguments.seq_len * arguments.hidden * 4 * arguments.hidden
    def products(first):
        return 5 if first and not input_gradient else 6
    per_rank = [arguments.micro_batches // 2 * (products(r == 0) + products(r == arguments.pp - 1)) for r in range(arguments.pp)]
    return max(per_rank) * product / 1e9


def multiply_add_peak(arguments):
    """One core's multiply-add peak in GFLOP/s, as `dualpipe bench blas` measures it (None if it fails)."""
    result = subprocess.run([arguments.dualpipe, "bench", "blas", "--sizes", "64", "--seconds", "0.5"],
                            env=one_thread_environment(), capture_output=True, text=True)
    for line in result.stdout.splitlines():
        if line.startswith("multiply-add peak of one core:"):
            return float(line.split(":", 1)[1].split()[0])
    return None


def main():
    arguments = parse_arguments()
    if arguments.worker:
        return worker_main(arguments)
    warnings.filterwarnings("ignore", message=NUMPY_WARNING)
    try:
        import torch  # noqa: F401
        import dualpipe  # noqa: F401
    except ImportError as error:
        sys.exit(f"bench/peer needs PyTorch and DeepSeek's dualpipe package: pip install torch dualpipe ({error})")
    if not os.access(arguments.dualpipe, os.X_OK):
        sys.exit(f"--dualpipe {arguments.dualpipe} is not an executable: build it with `swift build -c release`")
    cpu = cpu_description()
    print(f"DualPipe, PP {arguments.pp}, hidden {arguments.hidden}, {arguments.micro_batch_size} x {arguments.seq_len} rows a micro-batch, "
          f"{arguments.micro_batches} micro-batches, one thread per rank; {os.cpu_count()} cores of {cpu}")
    rows = []
    all_torch, all_ours = [], []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(arguments.rounds):
            torch_result = run_torch(arguments, folder)
            ours = run_ours(arguments, folder)
            t, o = statistics.median(torch_result["times"]), statistics.median(ours["times"])
            all_torch += torch_result["times"]
            all_ours += ours["times"]
            rows.append((round_, t, o, statistics.median(ours["steps"])))
            print(f"round {round_}: PyTorch DualPipe {t:.3f} s/step, ours {o:.3f} s/step (schedule; {rows[-1][3]:.3f} s with the gradient sums and AdamW; "
                  f"ranks computing {', '.join(f'{c:.3f}' for c in ours['compute'])} s), ratio {o / t:.2f}", flush=True)
        print(f"PyTorch {torch_result['torch']} ({torch_result['blas']}, {torch_result['threads']} thread); ours: {ours['banner'].strip()}")
    t, o = statistics.median(all_torch), statistics.median(all_ours)
    print(f"median of {len(all_torch)} steps each: PyTorch DualPipe {t:.3f} s, ours {o:.3f} s; ours / PyTorch = {o / t:.2f}")
    ours_gflop, torch_gflop = sgemm_gflop_per_rank(arguments, False), sgemm_gflop_per_rank(arguments, True)
    peak = multiply_add_peak(arguments)
    if peak:
        # The roofline: no kernel runs the step's products faster than the core's multiply-adds.
        print(f"roofline: our busiest rank computes {ours_gflop:.1f} GFLOP of sgemm a step (PyTorch's {torch_gflop:.1f}, with the data's gradient), "
              f"{ours_gflop / o:.1f} GFLOP/s, {ours_gflop / o / peak:.2f} of one core's multiply-add peak ({peak:.1f} GFLOP/s, `dualpipe bench blas`); "
              f"at that peak, with nothing but the products, ours would take {ours_gflop / peak:.3f} s, {ours_gflop / peak / t:.2f} of PyTorch's step")


if __name__ == "__main__":
    main()
