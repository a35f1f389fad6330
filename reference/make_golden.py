"""Write a reference fixture (safetensors) for one ConvUNeXt config: initial weights, a batch,
train-mode logits and loss, every parameter's gradient, BN running statistics after that step,
the loss before each of K AdamW steps, the weights after them, and eval-mode logits at the end.

usage: make_golden.py OUT.safetensors IN_CH CLASSES BASE_C B H W [STEPS] [SEED] [NORM: batch|layer]
                      [--store f32|f64]
Needs PyTorch (Debian: apt-get install python3-torch). See reference/README.md.

Everything is computed in float64. The initial weights and the input are first rounded to float32
(the precision the Java side loads them in), so the float64 reference is exact for the very values
a float32 implementation starts from and storing them as F32 loses nothing. With --store f32 (the
default) the computed tensors are stored as F32 too: that rounds them by at most 2^-24 ~ 6e-8
relative, 1/1600 of verify's 1e-4 (its closest comparisons, BN running statistics and anchored
weights, sit at 4e-8..3e-7). The zero-gradient detection is unaffected (F32 holds the ~1e-17
float64 leftovers of exactly-zero gradients, which are 1e-12 below the gradient's norm). The
scalars (loss, AdamW losses) and the train-mode logits (the loss is a float64 function of them)
stay F64 and the target is U8 (class index, 255 = ignore). --store f64 keeps every floating tensor
F64 (twice the size)."""
import argparse
import json
import struct

import torch

from convunext_torch import ConvUNeXt, loss_fn

DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.int64: "I64", torch.uint8: "U8"}


def save(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for k, t in tensors.items():
        t = t.detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[k] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def stored(k, v, store):
    """The dtype a key is written in: U8 target; F64 scalars and train-mode logits (the loss is a
    float64 function of them, checked to 1e-12 by the Java tests); F32/F64 (per --store) otherwise."""
    if k == "target":
        return v.to(torch.uint8)
    if k in ("loss", "adamw.losses", "logits") or not v.is_floating_point():
        return v
    return v.to(torch.float32) if store == "f32" else v


def args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    for name in ("in_ch", "classes", "base_c", "batch", "height", "width"):
        p.add_argument(name, type=int)
    p.add_argument("steps", type=int, nargs="?", default=5)
    p.add_argument("seed", type=int, nargs="?", default=0)
    p.add_argument("norm", nargs="?", default="batch", choices=["batch", "layer"])
    p.add_argument("--store", default="f32", choices=["f32", "f64"])
    a = p.parse_args()
    if not (1 <= a.in_ch and 2 <= a.classes <= 255 and a.base_c >= 1 and a.batch >= 1 and a.steps >= 1):
        p.error("need IN_CH >= 1, 2 <= CLASSES <= 255, BASE_C >= 1, B >= 1, STEPS >= 1")
    if a.height < 64 or a.width < 64:
        p.error("H and W must be >= 64: the deepest level (1/16) needs >= 4 pixels for reflect padding 3")
    return a


def f32_exact(t):
    return t.to(torch.float32).to(torch.float64)


def main():
    a = args()
    ic, nc, bc, B, H, W, steps, seed, norm = a.in_ch, a.classes, a.base_c, a.batch, a.height, a.width, a.steps, a.seed, a.norm
    torch.manual_seed(seed)
    torch.set_default_dtype(torch.float64)
    m = ConvUNeXt(ic, nc, bc, norm)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(f32_exact(p))
    x = f32_exact(torch.randn(B, ic, H, W))
    t = torch.randint(0, nc, (B, H, W))
    t[0, : max(1, H // 8), :] = 255              # an ignored band, as padding/edges are in practice
    lr, wd = 1.5e-3, 5e-5
    T = {"input": x, "target": t}
    for k, v in m.state_dict().items():
        T["init." + k] = v.clone()
    m.train()
    logits = m(x)
    loss = loss_fn(logits, t, nc)
    loss.backward()
    T["logits"], T["loss"] = logits, loss.reshape(1)
    for k, p in m.named_parameters():
        T["grad." + k] = p.grad.clone()
    for k, v in m.state_dict().items():
        if "running" in k:
            T["step1." + k] = v.clone()
    # fresh start for the optimiser run, same initial state
    m2 = ConvUNeXt(ic, nc, bc, norm)
    m2.load_state_dict({k[5:]: v for k, v in T.items() if k.startswith("init.")})
    opt = torch.optim.AdamW(m2.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        l = loss_fn(m2(x), t, nc)
        l.backward()
        opt.step()
        losses.append(l.item())
    T["adamw.losses"] = torch.tensor(losses)
    for k, v in m2.state_dict().items():
        T["after." + k] = v.clone()
    m2.eval()
    with torch.no_grad():
        T["eval_logits"] = m2(x)
    meta = {"in_channels": str(ic), "num_classes": str(nc), "base_c": str(bc), "batch": str(B),
            "height": str(H), "width": str(W), "adamw.steps": str(steps), "adamw.lr": str(lr),
            "adamw.weight_decay": str(wd), "adamw.betas": "0.9,0.999", "adamw.eps": "1e-8",
            "loss": "cross_entropy(ignore_index=255) + 1 - mean_c soft_dice_c (per-image, ignored pixels removed, eps=1e-6)",
            "norm": norm, "layernorm": "channels-first over C per pixel, biased variance, eps 1e-6",
            "bn": "train mode: batch statistics (biased var), momentum 0.1, running_var updated with unbiased var, eps 1e-5",
            "gelu": "exact (erf)", "dtype": "float64",
            "stored": ("F32 tensors (init and input float32-exact), F64 logits, loss and adamw.losses, U8 target" if a.store == "f32"
                       else "F64 tensors (init and input float32-exact), U8 target"),
            "seed": str(seed), "torch": torch.__version__,
            "command": "make_golden.py OUT %d %d %d %d %d %d %d %d %s%s" % (ic, nc, bc, B, H, W, steps, seed, norm,
                                                                           "" if a.store == "f32" else " --store f64"),
            "parameters": str(sum(p.numel() for p in m.parameters()))}
    save(a.out, {k: stored(k, v, a.store) for k, v in T.items()}, meta)
    print(a.out, "params", meta["parameters"], "loss", loss.item(), "losses", losses)


if __name__ == "__main__":
    main()
