#!/usr/bin/env python3
"""Regenerates README.md's performance section from `convunext bench --json` files (stdlib only).

    python3 bench/perf_table.py bench/results/cpu-b2-256.json [more.json ...] --readme README.md

Replaces everything between the lines <!-- perf:begin --> and <!-- perf:end --> in the README
(both must exist, once each). Without --readme the section is printed to stdout. Every number
comes from the JSON files: never edit the section by hand.

Optional fields: rows with `baseline_ms` (the same op through cuDNN / cuBLAS, see
src/main/java/convunext/bench/Baselines.java) add baseline columns to the per-op table; without
any, the table is the same as before and a GPU run's `baseline_status` says why none ran.
"""
import argparse
import json
import sys

BEGIN, END = "<!-- perf:begin -->", "<!-- perf:end -->"


def fmt(v, digits=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != v:  # NaN
            return "–"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}f}"
    return str(v)


def anchors_section(doc):
    """The side-by-side table of `bench --anchors` (engines alternated in rounds within one run)."""
    a = doc.get("anchors")
    if not a:
        return []
    engines = a["engines"]
    ours = next(e for e in engines if e["id"] == "ours")
    out = [f"Side by side in the same invocation ({a['rounds']} rounds, each: ours, then every anchor in a child "
           f"process; medians over rounds; each ratio is the median over rounds of ours / anchor within the round; "
           f"the anchors' OpenMP threads wait passively, OMP_WAIT_POLICY={a.get('omp_wait_policy', '?')}):", ""]
    out.append("| engine | role | version | train step, ms | inference, ms | ours / it, train | ours / it, inference | load average before each round |")
    out.append("|---|---|---|---:|---:|---:|---:|---|")
    for e in engines:
        if e["id"] == "ours":
            ver = "this project (" + doc["describe"].split(",")[0] + ", Java " + doc["java"] + ")"
        elif "djl_version" in e:
            ver = (f"libtorch {e.get('torch_version')} ({e.get('native')}; MKL {e.get('mkl')}, oneDNN {e.get('mkldnn')}) "
                   f"through DJL {e.get('djl_version')}")
        else:
            ver = f"PyTorch {e.get('torch_version', '?')}, BLAS: {e.get('blas', '?')}"
        if e.get("error"):
            ver += f"; error: {e['error']}"
        loads = ", ".join(f"{x:.1f}" for x in e.get("load_avg_before", []) if x is not None)
        out.append(f"| {e['id']} | {e['role']} | {ver} | {fmt(e.get('train_step_ms'), 1)} | {fmt(e.get('infer_ms'), 1)} "
                   f"| {fmt(e.get('ratio_ours_train'), 3)} | {fmt(e.get('ratio_ours_infer'), 3)} | {loads} |")
    out.append("")
    g = doc["ceilings"]["gemm_gflop_s"]
    st, inf = a.get("train_step_mac_flops"), a.get("infer_mac_flops")
    if st and g:
        floor_t, floor_i = st / (g * 1e9) * 1e3, inf / (g * 1e9) * 1e3
        out.append(f"FLOP floor: a training step is {st / 1e9:.1f} GFLOP of multiply-adds (convolutions, linears, depthwise; "
                   f"counted by `bench.TimedBackend`), an inference {inf / 1e9:.1f} GFLOP; at this run's GEMM ceiling "
                   f"({fmt(g)} GFLOP/s, our best GEMM) that is {fmt(floor_t, 0)} ms and {fmt(floor_i, 0)} ms: our step "
                   f"is {ours['train_step_ms'] / floor_t:.2f}× its floor, our inference {ours['infer_ms'] / floor_i:.2f}×.")
        per = ours.get("floor_ratio_train_per_round")
        if per and any(x is not None for x in per):
            ceil = ", ".join(fmt(x, 0) for x in ours.get("gemm_ceiling_gflop_s_per_round", []) if x is not None)
            out[-1] += (f" Per round, against the GEMM ceiling measured around our run in that round ({ceil} GFLOP/s): "
                        f"the step is {fmt(ours.get('floor_ratio_train'), 2)}× its floor (median of "
                        + ", ".join(fmt(x, 2) for x in per if x is not None)
                        + f"), the inference {fmt(ours.get('floor_ratio_infer'), 2)}×. The per-round figure is the one "
                        "to read: the run's single ceiling is measured once, and a slow moment there lowers the floor "
                        "and flatters the ratio.")
        out.append("")
    strong = next((e for e in engines if e["role"] == "strong anchor" and e.get("ratio_ours_train")), None)
    weak = next((e for e in engines if e["role"] == "weak anchor" and e.get("ratio_ours_train")), None)
    if strong:
        rt, ri = strong["ratio_ours_train"], strong["ratio_ours_infer"]
        line = (f"Against the strongest anchor, libtorch {strong.get('torch_version')} with MKL and oneDNN through DJL, "
                f"our training step takes {rt:.2f}× its time ({1 / rt:.1f}× faster) and our inference {ri:.2f}× "
                f"({1 / ri:.1f}× faster), same run.")
        if weak:
            line += (f" The weak anchor, Debian's PyTorch {weak.get('torch_version')} on the netlib reference BLAS "
                     f"(measured once, last), is {1 / weak['ratio_ours_train']:.0f}× slower than ours at training: "
                     f"a measure of that BLAS, not of PyTorch.")
        out.append(line)
        out.append("")
    return out


def section(doc, path):
    c = doc["config"]
    m = doc["model"]
    t = doc.get("torch")
    ratio = doc.get("ratio_ours_over_torch") or {}
    ceil = doc["ceilings"]
    out = []
    out.append(f"#### `{doc['backend']}`: batch {c['batch']}, 3×{c['size']}×{c['size']}, base_c {c['base_c']}")
    out.append("")
    out.append(f"Measured {doc['date'][:10]} with `java --add-modules jdk.incubator.vector -jar target/convunext.jar {doc['command']}` "
               f"(source: `{path}`) on {doc['describe']}; Java {doc['java']}, {doc['cpu_threads']} CPU threads"
               + (f", load average {doc['load_avg_1m']:.1f} at the end" if doc.get("load_avg_1m") is not None else "")
               + f". Medians of {c['steps']} steps and of {c['reps']} repeats per op after {c['warmup']} warm-up"
               + (f" ({m['warmup_steps']} for the whole model)." if m.get("warmup_steps") else "."))
    out.append("")
    out += anchors_section(doc)
    if t is None and doc.get("anchors"):   # the anchors above are the comparison: our own figures only
        out.append("Ours alone, the bench's own timing (not alternated with anything):")
        out.append("")
        out.append("| | ours |")
        out.append("|---|---:|")
        out.append(f"| training step, ms | {fmt(m['train_step_ms'], 1)} |")
        out.append(f"| inference, ms | {fmt(m['infer_ms'], 1)} |")
        out.append(f"| peak memory, MiB | {fmt(m.get('peak_device_bytes', m['peak_heap_bytes']) / 2**20, 0)} "
                   f"({'device, in use' if 'peak_device_bytes' in m else 'JVM heap'}) |")
        out.append("")
        out.append(f"Memory: {m['memory_note']}.")
        out.append("")
        return out + per_op(doc, m)
    blas = (t or {}).get("blas", "")
    weak = "netlib" in blas or "generic" in blas
    if weak:
        out.append(f"Against PyTorch {t['torch_version']} on the {blas}: a weak anchor, which a user would not pick for "
                   "speed (the same PyTorch with OpenBLAS, and libtorch 2.7 with MKL and oneDNN, are in the side-by-side "
                   "table of the strong anchors).")
        out.append("")
    hdr = "| | ours | PyTorch" + (f" {t['torch_version']}" if t else "") + (" (weak anchor)" if weak else "") + " | ours / PyTorch |"
    out.append(hdr)
    out.append("|---|---:|---:|---:|")
    tt = t or {}
    out.append(f"| training step, ms | {fmt(m['train_step_ms'], 1)} | {fmt(tt.get('train_step_ms'), 1)} "
               f"| {fmt(ratio.get('train_step'), 3)} |")
    out.append(f"| training, images/s | {fmt(m['train_images_s'])} | {fmt(tt.get('train_images_s'))} | |")
    out.append(f"| inference, ms | {fmt(m['infer_ms'], 1)} | {fmt(tt.get('infer_ms'), 1)} "
               f"| {fmt(ratio.get('inference'), 3)} |")
    out.append(f"| inference, images/s | {fmt(m['infer_images_s'])} | {fmt(tt.get('infer_images_s'))} | |")
    torch_mem = tt.get("peak_device_bytes", tt.get("peak_rss_bytes"))
    torch_kind = "device, max_memory_allocated" if "peak_device_bytes" in tt else "process RSS"
    if "peak_device_bytes" in m:   # on a device: tensors and workspaces in use, as PyTorch counts it
        ours_mem, ours_kind = m["peak_device_bytes"], "device, in use"
    else:
        ours_mem, ours_kind = m["peak_heap_bytes"], "JVM heap"
    out.append(f"| peak memory, MiB | {fmt(ours_mem / 2**20, 0)} ({ours_kind}) "
               f"| {fmt(torch_mem / 2**20 if torch_mem else None, 0)} ({torch_kind}) "
               + (f"| {fmt(ratio['peak_device_memory'], 3)} |" if "peak_device_memory" in ratio else "| |"))
    comp = tt.get("compiled")
    if isinstance(comp, dict) and "train_step_ms" in comp:
        out.append(f"| torch.compile step / inference, ms | | {fmt(comp['train_step_ms'], 1)} / "
                   f"{fmt(comp['infer_ms'], 1)} | |")
    out.append("")
    out.append(f"Memory: {m['memory_note']}.")
    if doc.get("torch_error"):
        out.append(f"PyTorch not measured: {doc['torch_error']}.")
    out.append("")
    return out + per_op(doc, m)


def per_op(doc, m):
    """The per-op roofline table and the step's breakdown by op, when the run has them."""
    out = []
    ceil = doc["ceilings"]
    rows = doc.get("rows") or []
    if rows:
        out.append(f"Per op (largest instance in the model). Roofline ceilings measured in the same run: "
                   f"copy {fmt(ceil['copy_gb_s'])} GB/s, linear {ceil['gemm']['shape']} "
                   f"{fmt(ceil['gemm_gflop_s'])} GFLOP/s; % roofline = max(bytes / copy rate, FLOPs / linear rate) "
                   f"/ time (formulas: `src/main/java/convunext/bench/OpCost.java`; "
                   f"above 100 % when an op's working set stays in cache).")
        out.append("")
        base = any(r.get("baseline_ms") is not None for r in rows)
        hdr, rule = "| op | layer | pass | shape | ms | GB/s | GFLOP/s | % roofline | bound |", "|---|---|---|---|---:|---:|---:|---:|---|"
        if base:
            hdr += " baseline | baseline ms | ours / baseline |"
            rule += "---|---:|---:|"
        out.append(hdr)
        out.append(rule)
        for r in rows:
            line = (f"| {r['op']} | {r['layer']} | {r['pass']} | {r['shape']} | {fmt(r['median_ms'], 3)} "
                    f"| {fmt(r['gb_s'])} | {fmt(r['gflop_s'])} | {fmt(r.get('pct_roofline'), 1)} | {r.get('bound', '')} |")
            if base:
                if r.get("baseline_ms") is not None:
                    line += (f" {r['baseline']}: {r.get('baseline_note', '')} | {fmt(r['baseline_ms'], 3)} "
                             f"| {fmt(r.get('ratio_ours_over_baseline'), 2)} |")
                else:
                    line += " | | |"
            out.append(line)
        out.append("")
        status = doc.get("baseline_status")
        # On the CPU the vendor libraries are absent by nature: no line there (keeps the CPU section as it was).
        if status and (base or doc["backend"] != "cpu"):
            out.append(f"Baselines: {status}.")
            out.append("")
    br = m.get("step_breakdown") or []
    if br:
        total = sum(b["ms"] for b in br)
        top = ", ".join(f"{b['op']} {100 * b['ms'] / total:.0f}%" for b in br[:6])
        out.append(f"Training step by op (one step, synchronised per op): {top}; sum of ops {fmt(total, 0)} ms.")
        out.append("")
        out += floor_gap(br, ceil["gemm_gflop_s"], total)
    return out


def floor_gap(br, rate, total):
    """Where the step's time above its FLOP floor goes: each op's multiply-adds at the run's GEMM
    ceiling are its share of the floor; the rest of its time (all of it for an op without
    multiply-adds) is what it spends above the floor. Runs without per-op FLOPs: nothing."""
    if not any("gflop" in b for b in br):
        return []
    rows = []
    for b in br:
        g = b.get("gflop", 0.0)
        floor = g / rate * 1e3
        rows.append((b["ms"] - floor, b, g, floor))
    rows.sort(key=lambda r: -r[0])
    gemm = [r for r in rows if r[2] > 0]
    g_ms, g_fl, g_floor = sum(r[1]["ms"] for r in gemm), sum(r[2] for r in gemm), sum(r[3] for r in gemm)
    rest = total - g_ms
    out = [f"Against the FLOP floor (each op's multiply-adds at this run's GEMM ceiling, {fmt(rate)} GFLOP/s): "
           f"the ops with multiply-adds take {fmt(g_ms, 0)} ms for {fmt(g_fl, 1)} GFLOP, {fmt(g_ms / g_floor, 2)}× their "
           f"floor of {fmt(g_floor, 0)} ms ({fmt(100 * g_floor / g_ms, 0)} % of the ceiling on average); the ops without "
           f"take {fmt(rest, 0)} ms; together {fmt(total / g_floor, 2)}× the floor. Ops by time above their floor "
           f"(those under 2 % of the sum of ops folded into the last row):", "",
           "| op | calls | ms | GFLOP | GFLOP/s | % of ceiling | ms above floor |", "|---|---:|---:|---:|---:|---:|---:|"]
    small = [r for r in rows if r[1]["ms"] < 0.02 * total]
    for over, b, g, floor in rows:
        if b["ms"] < 0.02 * total:
            continue
        out.append(f"| {b['op']} | {b['calls']} | {fmt(b['ms'], 1)} | {fmt(g, 2) if g else '–'} "
                   f"| {fmt(g / b['ms'] * 1e3, 1) if g else '–'} | {fmt(100 * floor / b['ms'], 0) if g else '–'} "
                   f"| {fmt(over, 1)} |")
    if small:
        out.append(f"| {len(small)} smaller ops | {sum(r[1]['calls'] for r in small)} | {fmt(sum(r[1]['ms'] for r in small), 1)} "
                   f"| {fmt(sum(r[2] for r in small), 2)} | | | {fmt(sum(r[0] for r in small), 1)} |")
    out.append("")
    return out


def render(paths):
    lines = [BEGIN, "<!-- generated by bench/perf_table.py from " + ", ".join(paths) + "; do not edit by hand -->",
             "", "### Performance", ""]
    for p in paths:
        with open(p, encoding="utf-8") as f:
            lines += section(json.load(f), p)
    lines.append(END)
    return "\n".join(lines) + "\n"


def splice(readme_text, block):
    lines = readme_text.splitlines(keepends=True)
    b = [i for i, l in enumerate(lines) if l.strip() == BEGIN]
    e = [i for i, l in enumerate(lines) if l.strip() == END]
    if len(b) != 1 or len(e) != 1 or b[0] > e[0]:
        raise SystemExit(f"README needs exactly one '{BEGIN}' line followed by one '{END}' line")
    return "".join(lines[:b[0]]) + block + "".join(lines[e[0] + 1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="bench --json output files")
    ap.add_argument("--readme", help="README to update in place between the perf markers")
    a = ap.parse_args()
    block = render(a.json)
    if not a.readme:
        sys.stdout.write(block)
        return
    with open(a.readme, encoding="utf-8") as f:
        text = f.read()
    new = splice(text, block)
    if new != text:
        with open(a.readme, "w", encoding="utf-8") as f:
            f.write(new)
    print(f"updated {a.readme} from {', '.join(a.json)}")


if __name__ == "__main__":
    main()
