#!/usr/bin/env python3
"""PyTorch side of `convunext bench --torch`: times the same training step (ConvUNeXt with
BatchNorm, CE + Dice loss, torch.optim.AdamW) and inference (eval mode, no_grad, logits copied
to the host as our inferLogits does) at the same shapes, and prints one JSON line last (the
whole result; `convunext bench --torch` reads it). Before it, one JSON line per finished phase
({"phase": ...}), flushed at once, so that a run killed by a time cap (torch.compile's first
compilation can take minutes) still leaves what it measured.

TF32 is pinned, not left to PyTorch's defaults (which differ between matmul and cuDNN and across
versions): --tf32 off (default; the fair comparison with our fp32 kernels) or on (against our
--precision tf32); the flags as read back are in the JSON ("tf32"). On CUDA the two ceilings are
measured too ("ceilings": float32 GEMM without TF32, and a device-to-device copy), so that our
GEMM rate can be read against the chip's FP32 peak and not only against our own GEMM.

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


def emit(obj):
    print(json.dumps(obj), flush=True)


def pin_tf32(on):
    """Sets every TF32 switch this PyTorch has, and returns them as read back."""
    flags = {}
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on
    flags["cuda.matmul.allow_tf32"] = torch.backends.cuda.matmul.allow_tf32
    flags["cudnn.allow_tf32"] = torch.backends.cudnn.allow_tf32
    if hasattr(torch, "set_float32_matmul_precision"):
        torch.set_float32_matmul_precision("high" if on else "highest")
        flags["float32_matmul_precision"] = torch.get_float32_matmul_precision()
    # PyTorch >= 2.9: fp32_precision per backend ("ieee" or "tf32"); older ones lack the attribute
    for name, obj in (("cuda.matmul.fp32_precision", getattr(torch.backends.cuda, "matmul", None)),
                      ("cudnn.conv.fp32_precision", getattr(torch.backends.cudnn, "conv", None))):
        try:
            has = obj is not None and hasattr(obj, "fp32_precision")
        except Exception:  # noqa: BLE001 (old versions raise AssertionError for unknown attributes)
            has = False
        if has:
            try:
                obj.fp32_precision = "tf32" if on else "ieee"
            except Exception as e:  # noqa: BLE001 (report, keep going)
                flags[name + "_error"] = str(e)[:200]
            flags[name] = getattr(obj, "fp32_precision", None)
    return flags


def ceilings(dev):
    """float32 GEMM rate (TF32 as pinned) and device-to-device copy rate, by CUDA events."""
    def best_ms(fn, reps):
        fn()
        torch.cuda.synchronize()
        out = []
        for _ in range(reps):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            b.synchronize()
            out.append(a.elapsed_time(b))
        return statistics.median(out)
    n = 8192
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    c = torch.empty(n, n, device=dev)
    ms = best_ms(lambda: torch.mm(a, b, out=c), 10)
    src = torch.randn(1 << 28, device=dev)   # 1 GiB
    dst = torch.empty_like(src)
    cms = best_ms(lambda: dst.copy_(src), 10)
    del a, b, c, src, dst
    torch.cuda.empty_cache()
    return {"fp32_gemm_tflop_s": 2.0 * n ** 3 / (ms * 1e-3) / 1e12, "gemm_n": n,
            "copy_gb_s": 2.0 * (1 << 30) / (cms * 1e-3) / 1e9}


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


def run(model, fwd, opt, x, y, classes, args, dev, label="eager"):
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

    t0 = time.perf_counter()
    train = timed(step, args.warmup, args.steps, dev)
    emit({"phase": label + "_train", "train_step_ms": statistics.median(train), "wall_s": time.perf_counter() - t0})
    t0 = time.perf_counter()
    inf = timed(infer, args.warmup, args.steps, dev)
    emit({"phase": label + "_infer", "infer_ms": statistics.median(inf), "wall_s": time.perf_counter() - t0})
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
    p.add_argument("--compile-only", action="store_true", help="time torch.compile(model) only, not eager again")
    p.add_argument("--tf32", choices=("off", "on"), default="off", help="TF32 in matmul and cuDNN (default: off)")
    p.add_argument("--no-ceilings", action="store_true", help="skip the CUDA GEMM and copy ceilings")
    args = p.parse_args()

    torch.manual_seed(0)
    dev = torch.device(args.device)
    tf32 = pin_tf32(args.tf32 == "on")
    emit({"phase": "start", "torch_version": torch.__version__, "tf32": tf32,
          "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None})
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
           "classes": args.classes, "warmup": args.warmup, "steps": args.steps, "tf32": tf32,
           "params": sum(q.numel() for q in model.parameters())}
    if not args.compile_only:
        out.update(run(model, model, opt, x, y, args.classes, args, dev))
        if dev.type == "cuda":
            out["peak_device_bytes"] = torch.cuda.max_memory_allocated(dev)
    if dev.type == "cpu":
        out["blas"] = blas_loaded()
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if dev.type == "cuda" and not args.no_ceilings and not args.compile_only:
        try:
            out["ceilings"] = ceilings(dev)
            emit({"phase": "ceilings", **out["ceilings"]})
        except Exception as e:  # noqa: BLE001 (report, keep the model numbers)
            out["ceilings"] = {"error": (type(e).__name__ + ": " + str(e))[:300]}

    if args.compile or args.compile_only:
        if not hasattr(torch, "compile"):
            out["compiled"] = {"error": "torch.compile needs PyTorch 2.x, this is " + torch.__version__}
        else:
            try:
                t0 = time.perf_counter()
                cm = torch.compile(model)
                # At least two warm-ups: the first call of each mode compiles.
                c = run(model, cm, opt, x, y, args.classes,
                        argparse.Namespace(**{**vars(args), "warmup": max(2, args.warmup)}), dev, "compiled")
                c["wall_s_including_compile"] = time.perf_counter() - t0
                out["compiled"] = c
            except Exception as e:  # report, keep the eager numbers
                out["compiled"] = {"error": (type(e).__name__ + ": " + str(e))[:800]}
    emit(out)


if __name__ == "__main__":
    main()
