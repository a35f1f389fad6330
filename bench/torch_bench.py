#!/usr/bin/env python3
"""PyTorch side of `convunext bench --torch`: times the same training step (ConvUNeXt with
BatchNorm, CE + Dice loss, torch.optim.AdamW) and inference (eval mode, no_grad, logits copied
to the host as our inferLogits does) at the same shapes, and prints one JSON line last.

The model and loss come from reference/convunext_torch.py, the project's PyTorch reference (the
one the golden fixtures are written with), so the benchmark times exactly the checked model.

    /usr/bin/python3 bench/torch_bench.py --device cpu --batch 2 --size 256 --base-c 32 --threads 2
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reference"))
import torch  # noqa: E402
from convunext_torch import ConvUNeXt, loss_fn  # noqa: E402


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, warmup, steps, dev):
    """Sorted wall times in ms of `steps` calls after `warmup` untimed ones, synchronised."""
    for _ in range(warmup):
        fn()
    sync(dev)
    ms = []
    for _ in range(steps):
        sync(dev)
        t0 = time.perf_counter()
        fn()
        sync(dev)
        ms.append((time.perf_counter() - t0) * 1e3)
    return sorted(ms)


def blas_loaded():
    """The BLAS this process actually mapped (Debian's torch links libblas.so.3, which LD_LIBRARY_PATH
    or the alternatives system may point at OpenBLAS or at the netlib reference implementation)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            libs = sorted({os.path.basename(l.split()[-1]) for l in f if "blas" in l.lower() and "/" in l})
    except OSError:
        return "unknown"
    if any("openblas" in l for l in libs):
        return "OpenBLAS (" + ", ".join(l for l in libs if "openblas" in l) + ")"
    return ("netlib reference BLAS (" + ", ".join(libs) + ")") if libs else "none mapped"


def run(model, fwd, opt, x, y, classes, args, dev):
    def step():
        model.train()
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(fwd(x), y, classes)
        loss.backward()
        opt.step()
        return loss

    def infer():
        model.eval()
        with torch.no_grad():
            return fwd(x).cpu()

    train = timed(step, args.warmup, args.steps, dev)
    inf = timed(infer, args.warmup, args.steps, dev)
    return {"train_step_ms": statistics.median(train), "train_steps_ms": train,
            "infer_ms": statistics.median(inf), "infer_runs_ms": inf,
            "train_images_s": args.batch / (statistics.median(train) / 1e3),
            "infer_images_s": args.batch / (statistics.median(inf) / 1e3)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--base-c", type=int, default=32)
    p.add_argument("--classes", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile(model) (PyTorch 2.x)")
    args = p.parse_args()

    torch.manual_seed(0)
    dev = torch.device(args.device)
    if dev.type == "cpu":
        torch.set_num_threads(args.threads)
    model = ConvUNeXt(3, args.classes, args.base_c, "batch").to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=5e-5)
    x = torch.randn(args.batch, 3, args.size, args.size, device=dev)
    y = torch.randint(0, args.classes, (args.batch, args.size, args.size), device=dev)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    out = {"torch_version": torch.__version__, "device": args.device,
           "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
           "threads": torch.get_num_threads(), "batch": args.batch, "size": args.size, "base_c": args.base_c,
           "classes": args.classes, "warmup": args.warmup, "steps": args.steps,
           "params": sum(q.numel() for q in model.parameters())}
    out.update(run(model, model, opt, x, y, args.classes, args, dev))
    if dev.type == "cpu":
        out["blas"] = blas_loaded()
    if dev.type == "cuda":
        out["peak_device_bytes"] = torch.cuda.max_memory_allocated(dev)
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    if args.compile:
        if not hasattr(torch, "compile"):
            out["compiled"] = {"error": "torch.compile needs PyTorch 2.x, this is " + torch.__version__}
        else:
            try:
                t0 = time.perf_counter()
                cm = torch.compile(model)
                # At least two warm-ups: the first call of each mode compiles.
                c = run(model, cm, opt, x, y, args.classes,
                        argparse.Namespace(**{**vars(args), "warmup": max(2, args.warmup)}), dev)
                c["wall_s_including_compile"] = time.perf_counter() - t0
                out["compiled"] = c
            except Exception as e:  # report, keep the eager numbers
                out["compiled"] = {"error": (type(e).__name__ + ": " + str(e))[:800]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
