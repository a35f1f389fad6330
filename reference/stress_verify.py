#!/usr/bin/env python3
"""Stress `verify` over random fixtures: writes N fixtures of random configs with make_golden.py
(in 1-4, classes 2-5, base_c 4-16, batch 1-3, H and W 64-97, AdamW steps 1-5, batch or layer
norm) into a folder, runs `verify` on each R times per device (one JVM per run), and checks that
every run PASSes and that every run of a fixture on a device prints the same table. Prints, per
verify row, the worst error/tolerance ratio over everything, and per fixture its worst row.

    python3 reference/stress_verify.py -n 20 -r 10 --devices cpu emulated
    python3 reference/stress_verify.py --fixtures testdata/golden/*.safetensors -r 3

Needs target/convunext.jar (mvn -B -q package -DskipTests) and a python with torch for
make_golden.py (found automatically: this one, else /usr/bin/python3; or --python). Exit 0 when
everything passed identically, 1 otherwise. Stdlib only."""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ROW = re.compile(r"^(?P<q>.+?)\s+(?P<n>\d+)\s+(?P<err>[-+.\deE]+|NaN|Infinity)\s+(?P<tol>[-+.\deE]+|Infinity)(\s|$)")


def torch_python(explicit):
    for p in ([explicit] if explicit else [sys.executable, "/usr/bin/python3", "python3"]):
        try:
            if subprocess.run([p, "-c", "import torch"], capture_output=True).returncode == 0:
                return p
        except OSError:
            pass
    sys.exit("no python with torch found (Debian: apt-get install python3-torch; or pass --python)")


def configs(n, seed, max_base_c=16):
    rng = random.Random(seed)
    for i in range(n):
        c = dict(in_ch=rng.randint(1, 4), classes=rng.randint(2, 5), base_c=min(rng.randint(4, 16), max_base_c),
                 batch=rng.randint(1, 3), h=rng.randint(64, 97), w=rng.randint(64, 97), steps=rng.randint(1, 5),
                 seed=rng.randint(0, 10**6), norm=rng.choice(["batch", "layer"]))
        c["name"] = "s%02d_c%d_in%d_k%d_%dx%dx%d_k%d_%s" % (i, c["base_c"], c["in_ch"], c["classes"], c["batch"], c["h"],
                                                          c["w"], c["steps"], c["norm"])
        yield c


def make(py, c, out):
    cmd = [py, os.path.join(HERE, "make_golden.py"), out] + [str(c[k]) for k in
                                                              ("in_ch", "classes", "base_c", "batch", "h", "w", "steps", "seed", "norm")]
    subprocess.run(cmd, check=True, capture_output=True, cwd=HERE)


def verify(java, jar, fixture, device, timeout):
    p = subprocess.run([java, "--add-modules", "jdk.incubator.vector", "-jar", jar, "verify", "--device", device, fixture],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def table_of(stdout):
    """The verify table without its timing line: the text compared across runs."""
    return "\n".join(l for l in stdout.splitlines() if not l.startswith("time "))


def rows_of(stdout):
    """(quantity, error, tolerance) per table row."""
    rows, inside = [], False
    for l in stdout.splitlines():
        if l.startswith("quantity"):
            inside = True
            continue
        if not inside or l.startswith(("note:", "PASS", "FAIL", "time ")) or not l.strip():
            if l.startswith(("PASS", "FAIL")):
                inside = False
            continue
        m = ROW.match(l)
        if not m:
            raise ValueError("cannot read verify row: " + l)
        rows.append((m["q"], float(m["err"].replace("Infinity", "inf")), float(m["tol"].replace("Infinity", "inf"))))
    return rows


def first_difference(a, b):
    for x, y in zip(a.splitlines(), b.splitlines()):
        if x != y:
            return "  first run: " + x.strip() + "\n  this run:  " + y.strip()
    return "  (different length)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=20, help="random fixtures to write (default 20)")
    ap.add_argument("-r", "--runs", type=int, default=10, help="verify runs per fixture and device (default 10)")
    ap.add_argument("-s", "--seed", type=int, default=1, help="seed of the config draw (default 1)")
    ap.add_argument("--devices", nargs="+", default=["cpu", "emulated"])
    ap.add_argument("--fixtures", nargs="*", help="verify these files instead of writing random ones")
    ap.add_argument("--max-base-c", type=int, default=16, help="cap base_c of the random configs (time)")
    ap.add_argument("-o", "--out", help="folder for fixtures and logs (default: a new temporary folder)")
    ap.add_argument("--jar", default=os.path.join(ROOT, "target", "convunext.jar"))
    ap.add_argument("--java", default="java")
    ap.add_argument("--python", help="python with torch, for make_golden.py")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per verify run")
    a = ap.parse_args()
    if not os.path.isfile(a.jar):
        sys.exit(a.jar + " not found: mvn -B -q package -DskipTests")
    out = a.out or tempfile.mkdtemp(prefix="convunext-stress-")
    os.makedirs(out, exist_ok=True)
    print("folder", out, flush=True)

    fixtures = list(a.fixtures or [])
    if not fixtures:
        py = torch_python(a.python)
        for c in configs(a.n, a.seed, a.max_base_c):
            f = os.path.join(out, c["name"] + ".safetensors")
            if not os.path.isfile(f):
                t0 = time.time()
                make(py, c, f)
                print("wrote %s (%.0f s, %.1f MB)" % (os.path.basename(f), time.time() - t0, os.path.getsize(f) / 1e6), flush=True)
            fixtures.append(f)

    ok = True
    worst_row = {}      # quantity -> (ratio, fixture, device)
    per_fixture = []    # (fixture, device, worst ratio, its row, seconds per run, identical)
    for f in fixtures:
        name = os.path.basename(f).replace(".safetensors", "")
        for dev in a.devices:
            first, same, secs, worst = None, True, [], (0.0, "")
            for r in range(a.runs):
                t0 = time.time()
                rc, so, se = verify(a.java, a.jar, f, dev, a.timeout)
                secs.append(time.time() - t0)
                with open(os.path.join(out, "%s.%s.%d.txt" % (name, dev, r)), "w") as log:
                    log.write(so + se)
                if rc != 0 or "\nPASS" not in so:
                    ok = False
                    print("FAIL %s %s run %d (exit %d)\n%s%s" % (name, dev, r, rc, so, se[-2000:]), flush=True)
                t = table_of(so)
                if first is None:
                    first = t
                elif t != first:
                    if same:
                        print("DIFFERENT %s %s run %d vs run 0:\n%s" % (name, dev, r, first_difference(first, t)), flush=True)
                    same = False
                    ok = False
                for q, err, tol in rows_of(so):
                    ratio = err / tol if tol > 0 else float("inf")
                    if ratio > worst_row.get(q, (-1,))[0]:
                        worst_row[q] = (ratio, name, dev)
                    if ratio > worst[0]:
                        worst = (ratio, q)
            per_fixture.append((name, dev, worst[0], worst[1], sum(secs) / len(secs), same))
            print("%-44s %-8s worst %.3f (%s)  %.1f s/run  %s" % (name, dev, worst[0], worst[1], sum(secs) / len(secs),
                                                                "identical" if same else "DIFFERENT"), flush=True)

    print("\nworst error/tolerance per row over %d fixtures x %s x %d runs" % (len(fixtures), "/".join(a.devices), a.runs))
    print("%-56s %8s  %s" % ("row", "ratio", "where"))
    for q, (ratio, name, dev) in sorted(worst_row.items(), key=lambda kv: -kv[1][0]):
        print("%-56s %8.4f  %s (%s)" % (q, ratio, name, dev))
    print("\n%s: %d fixture/device pairs, %s" % ("ALL PASS, IDENTICAL" if ok else "PROBLEMS", len(per_fixture),
                                               "logs in " + out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
