#!/usr/bin/env python3
"""Writes the TorchScript traces the libtorch anchor (bench/anchor, libtorch through DJL) runs:

    train.pt  forward(x, target) -> loss: ConvUNeXt with every BatchNorm2d made
              track_running_stats=False (batch statistics, no running buffers: DJL loads a
              module's buffers as inference tensors, which a training step may not update in
              place), then CE + Dice exactly as the project's loss; traced in train mode, so its
              parameters train through DJL's GradientCollector when loaded with trainParam=true.
    infer.pt  forward(x) -> logits: the eval-mode model, traced and torch.jit.freeze'd (weights
              become constants, BatchNorm folded where TorchScript can fold it).

Any PyTorch ≥ 1.13 can write them (Debian's python3-torch is enough: tracing only records ops,
the BLAS it links does not matter). The model and loss are the project's PyTorch reference.

    /usr/bin/python3 bench/anchor/trace_model.py --out target/anchor --batch 2 --size 256 --base-c 32
"""
import argparse
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for d in (os.path.join(ROOT, "reference"), os.path.join(ROOT, "bench")):
    if os.path.isfile(os.path.join(d, "convunext_torch.py")):
        sys.path.insert(0, d)
        break
import torch  # noqa: E402
from convunext_torch import ConvUNeXt, loss_fn  # noqa: E402


class TrainGraph(torch.nn.Module):
    def __init__(self, model, classes):
        super().__init__()
        self.model = model
        self.classes = classes

    def forward(self, x, target):
        return loss_fn(self.model(x), target, self.classes)


def no_running_stats(model):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.track_running_stats = False
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--base-c", type=int, default=32)
    p.add_argument("--classes", type=int, default=2)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, a.classes, (a.batch, a.size, a.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)   # the Dice loss's `if sets == 0` is baked in
        train = TrainGraph(no_running_stats(ConvUNeXt(3, a.classes, a.base_c, "batch")), a.classes).train()
        torch.jit.trace(train, (x, y), check_trace=False).save(os.path.join(a.out, "train.pt"))
        model = ConvUNeXt(3, a.classes, a.base_c, "batch").eval()
        with torch.no_grad():
            frozen = torch.jit.freeze(torch.jit.trace(model, (x,), check_trace=False))
        frozen.save(os.path.join(a.out, "infer.pt"))
    meta = {"written_by_torch": torch.__version__, "batch": a.batch, "size": a.size, "base_c": a.base_c,
            "classes": a.classes, "params": sum(q.numel() for q in train.parameters())}
    with open(os.path.join(a.out, "trace.json"), "w") as f:
        json.dump(meta, f)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
