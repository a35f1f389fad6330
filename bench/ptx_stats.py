#!/usr/bin/env python3
"""Static instruction counts per kernel from the PTX the build made (target/classes/ptx/*.ptx) and
the registers / shared memory ptxas reported for sm_90 (target/emu/ptxas/*.txt), written to
bench/ptx-stats.tsv, which bench/NOTES.md's prediction table (convunext.bench.StepPrediction) reads.

Counts are static, per .entry: fma = fma.rn.f32 (+ .f64), lds = shared loads (a 128-bit
ld.shared.v4 counts once: the point of vector loads), ldg / ldg_vec = global loads scalar / vector,
idiv = integer div and rem (each ~20 instructions on the GPU); cp.async copies count as global loads
(cp.async.cg, 16 bytes: vector; cp.async.ca: scalar). The loop_* columns count the same in
the hot loop: of the loops (a backward branch to an earlier label), the one with the most FMAs, whose
body nvcc unrolled over a K slice for the tiled kernels, so its proportions are the kernel's in its
steady state (an epilogue's FMAs, e.g. GELU's, do not count there).
The file is committed (a build without nvcc makes no PTX). Its second line is a digest of the kernel
sources it was made from; StepPredictionTest checks that digest on every build (exact, needs no nvcc)
and, when the build made PTX, the counts against that PTX within nvcc's own build-to-build noise
(see slack below). Regenerate after changing kernels:

    python3 bench/ptx_stats.py                  (after mvn package on a machine with nvcc)
    python3 bench/ptx_stats.py --check-sources  (exit 1 when kernels/ changed since the table was made)
    python3 bench/ptx_stats.py --check          (the above, then the counts against the build's PTX)
"""
import glob
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ["kernel", "file", "regs", "smem_static", "fma", "lds", "ldg", "ldg_vec", "idiv", "loop_fma", "loop_lds",
           "loop_idiv"]


def entries(ptx):
    """{kernel: body text} for each .entry of a PTX file."""
    out = {}
    for m in re.finditer(r"\.entry\s+(\w+)\s*\(", ptx):
        start = ptx.index("{", m.end())
        depth, i = 0, start
        while i < len(ptx):
            if ptx[i] == "{":
                depth += 1
            elif ptx[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out[m.group(1)] = ptx[start:i]
    return out


def opcodes(lines):
    ins = [l.strip().split()[0] for l in lines
           if l.strip() and not l.strip().startswith(("//", ".", "{", "}", "$", "@")) and not l.strip().endswith(":")]
    ins += [l.strip().split()[1] for l in lines if l.strip().startswith("@") and len(l.split()) > 1]
    return ins


def hot_loop(body):
    """(fma, lds, idiv) of the loop with the most FMAs, or None when no loop has any."""
    lines = body.splitlines()
    labels = {l.strip()[:-1]: i for i, l in enumerate(lines) if re.match(r"\s*\$\w+:\s*$", l)}
    best = None
    for i, l in enumerate(lines):
        m = re.search(r"\bbra(?:\.uni)?\s+(\$\w+);", l)
        if m and m.group(1) in labels and labels[m.group(1)] < i:
            fma, lds, _, _, idiv = count_ops(opcodes(lines[labels[m.group(1)]:i + 1]))
            if fma and (best is None or fma > best[0]):
                best = (fma, lds, idiv)
    return best


def count(body):
    return count_ops(opcodes(body.splitlines()))


def count_ops(ins):
    fma = sum(1 for i in ins if i.startswith("fma.rn.f32") or i.startswith("fma.rn.f64"))
    lds = sum(1 for i in ins if i.startswith("ld.shared"))
    # cp.async global -> shared copies are global loads too: .cg only exists for 16-byte copies
    # (vector), gemm_tile.cuh's .ca ones move 4 bytes (scalar)
    ldg_vec = sum(1 for i in ins if (i.startswith("ld.global") and (".v2" in i or ".v4" in i))
                  or i.startswith("cp.async.cg.shared.global"))
    ldg = sum(1 for i in ins if i.startswith("ld.global") or i.startswith("cp.async.ca.shared.global")) - \
        sum(1 for i in ins if i.startswith("ld.global") and (".v2" in i or ".v4" in i))
    idiv = sum(1 for i in ins if re.match(r"(div|rem)\.[su](32|64)", i))
    return fma, lds, ldg, ldg_vec, idiv


def ptxas(report_dir):
    """{kernel: (regs, smem)} from the build's ptxas report lines."""
    out = {}
    for f in glob.glob(os.path.join(report_dir, "*.txt")):
        for line in open(f, encoding="utf-8"):
            m = re.search(r"ptxas sm_90 (\w+)\s+regs\s+(\d+).*smem (\d+) B", line)
            if m:
                out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return out


def rows(root=ROOT):
    regs = ptxas(os.path.join(root, "target", "emu", "ptxas"))
    out = []
    for f in sorted(glob.glob(os.path.join(root, "target", "classes", "ptx", "*.ptx"))):
        for k, body in sorted(entries(open(f, encoding="utf-8").read()).items()):
            r, s = regs.get(k, (0, 0))
            loop = hot_loop(body) or (0, 0, 0)
            out.append([k, os.path.basename(f)[:-4] + ".cu", r, s, *count(body), *loop])
    return sorted(out)


def sources_digest(root=ROOT):
    """sha256 over what the PTX is made from: kernels/*.cu, *.cuh, *.h (names and bytes) and the
    nvcc/ptxas invocation (kernels/emu/ptx_one.sh)."""
    h = hashlib.sha256()
    files = sorted(glob.glob(os.path.join(root, "kernels", "*.cu")) + glob.glob(os.path.join(root, "kernels", "*.cuh"))
                   + glob.glob(os.path.join(root, "kernels", "*.h"))) + [os.path.join(root, "kernels", "emu", "ptx_one.sh")]
    for f in files:
        data = open(f, "rb").read()
        h.update(os.path.relpath(f, root).encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


DIGEST_PREFIX = "# kernel sources sha256 "


def recorded_digest(text):
    for line in text.splitlines():
        if line.startswith(DIGEST_PREFIX):
            return line[len(DIGEST_PREFIX):].strip()
    return None


# nvcc (cicc) is not deterministic: the same commit built twice, even in the same folder, gives PTX
# that differs (address-space layout randomisation orders its internal tables; the checkout path is
# hashed into internal symbol names). Measured on kernels/*.cu (5 builds of one commit, two folders):
# 12 of 142 kernels differ, by up to 2 shared loads (4 %); registers by up to 8 (105 vs 113 for
# conv2d_backward_weight_part_any_64x64, CI's build against this machine's). Counts within this
# slack agree (effect on the prediction < 1 %); whether the table is stale is decided exactly by the
# source digest above, not by these counts.
def slack(col, x, y):
    if col == "regs":
        return max(8, round(0.08 * max(abs(x), abs(y))))
    return max(3, round(0.04 * max(abs(x), abs(y))))


def differences(old_text, rows_now):
    """What differs between the committed table and the build's, beyond the path noise above."""
    old = {}
    for line in old_text.splitlines():
        if line.startswith("#") or line.startswith("kernel\t") or not line.strip():
            continue
        f = line.split("\t")
        old[f[0]] = f[1:]
    now = {row[0]: [str(x) for x in row[1:]] for row in rows_now}
    out = [f"{k} not in the build" for k in sorted(old.keys() - now.keys())]
    out += [f"{k} not in the table" for k in sorted(now.keys() - old.keys())]
    for k in sorted(old.keys() & now.keys()):
        a, b = old[k], now[k]
        for col, x, y in zip(COLUMNS[1:], a, b):
            if x == y:
                continue
            if col == "file" or not (x.lstrip("-").isdigit() and y.lstrip("-").isdigit()) \
                    or abs(int(x) - int(y)) > slack(col, int(x), int(y)):
                out.append(f"{k} {col} {x} -> {y}")
    return out


def main():
    path = os.path.join(ROOT, "bench", "ptx-stats.tsv")
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode in ("--check", "--check-sources"):
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
        want, have = recorded_digest(old), sources_digest()
        if want != have:
            sys.exit(f"{path} is stale (kernels/ changed since it was generated: sources sha256 {have[:12]}, "
                     f"recorded {(want or 'none')[:12]}): run python3 bench/ptx_stats.py after a build with nvcc "
                     "(then the StepPrediction --notes command)")
        if mode == "--check-sources":
            print(f"{path} was made from these kernel sources")
            return
    r = rows()
    if not r:
        sys.exit("no PTX in target/classes/ptx: build with nvcc first (mvn package)")
    text = ("# generated by bench/ptx_stats.py from the build's PTX and ptxas reports (sm_90); do not edit\n"
            + DIGEST_PREFIX + sources_digest() + "\n"
            + "\t".join(COLUMNS) + "\n" + "".join("\t".join(str(x) for x in row) + "\n" for row in r))
    if mode == "--check":
        stale = differences(old, r)
        if stale:
            sys.exit(f"{path} differs from the build's PTX beyond nvcc's build-to-build noise ({'; '.join(stale[:5])}; "
                     "another nvcc version?): run python3 bench/ptx_stats.py "
                     "(then the StepPrediction --notes command)")
        print(f"{path} is current")
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {path}: {len(r)} kernels")


if __name__ == "__main__":
    main()
