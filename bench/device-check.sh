#!/usr/bin/env bash
# The one script for a borrowed GPU machine (no Java, no Maven there; see README "GPU"): unpacks the
# jlink'd JRE, then runs, each under a time cap inside one overall budget:
#   info           the device, the code the jar ships for it (PTX / sm_90 SASS), cuBLAS, cuDNN
#   tests          the JUnit suites of convunext.backend.cuda and convunext.backend.parity (the
#                  every-backend op parity suite, on the cuda backend alone) on the GPU
#                  (-Dconvunext.test.device=cuda; emulator-only tests skip themselves) through JUnit's
#                  console launcher
#   verify         the whole-model parity check on the golden fixtures
#   train          a short training run
#   repro          that training run twice more: every checkpoint byte for byte the same
#   bench          `bench --layers --breakdown --torch`: every op, the model, PyTorch eager (TF32 off,
#                  pinned and printed) and the chip's FP32-GEMM and copy ceilings measured by PyTorch
#   bench_unfused  the model with the GELU epilogues off (the fusion's effect)
#   kernels        every kernel of a step and of an inference batch timed by CUDA events, launch by
#                  launch (convunext.bench.KernelTimes; kernels.tsv, which StepPrediction joins)
#   stress         verify on random fixtures it has never seen, written by PyTorch here
#                  (reference/stress_verify.py; STRESS_N fixtures, default 16, base_c <= 8)
#   torch_compile  torch.compile of the same step (no second eager run), one JSON line per phase
# Every command runs under `timeout` (nvidia-smi, java -version and `import torch` too). Logs go to a
# work folder outside $OUT; after every step the summary is rewritten and the logs re-packed, so
# $OUT holds at most 8 files at any time (summary.txt, logs.tgz without checkpoints, and the few
# files read first) and a run cut short still returns what it measured.
#
# Prepare here:  bash bench/make-device-bundle.sh       (.device/: JRE, jars; prints the carried size)
# Run there:     bash bench/device-check.sh    (in a checkout with .device/ beside it; allow 540 s)
# Check here:    SMOKE=1 DEVICE=emulated bash bench/device-check.sh   (every step at toy sizes on the
#                emulated device, from the same bundle: the command lines are the GPU's)
# Env: OUT (default out/device), WORK (default $TMPDIR/convunext-device), BUDGET_S (default 480: the
# whole script, so a 540 s call ends with margin), DEVICE (default cuda), STEPS (default all of the
# above), SMOKE (toy sizes), PYTHON (default: the first of python3, /usr/bin/python3 that imports torch).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device}
TMP=${TMPDIR:-/tmp}
WORK=${WORK:-$TMP/convunext-device}
BUDGET_S=${BUDGET_S:-480}
DEVICE=${DEVICE:-cuda}
STEPS=" ${STEPS:-info tests verify train repro bench bench_unfused kernels stress torch_compile} "
SMOKE=${SMOKE:-}
T0=$(date +%s)
STATUS=()
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" && rm -rf "$WORK" && mkdir -p "$WORK" || { echo "cannot create $OUT or $WORK"; exit 2; }
left() { echo $(( BUDGET_S - ($(date +%s) - T0) )); }
# The files that stay loose in $OUT beside summary.txt and logs.tgz (at most 6: 8 come back).
LOOSE=(machine.log tests.log verify.log bench.json torch_compile.jsonl)
# $OUT may hold an earlier run's files (here; on the device machine it starts empty).
for f in summary.txt logs.tgz "${LOOSE[@]}"; do rm -f "$OUT/$f"; done

# ---------------------------------------------------------------- Python with torch, NVIDIA libraries
# One `import torch` per candidate (under a timeout): it prints what machine.log and the library
# path need. cuDNN 9 and the CUDA 13 libraries live in the wheels' site-packages (nvidia/*/lib,
# torch/lib); JCudnn needs libcudnn.so.9 on LD_LIBRARY_PATH.
PYINFO='
import glob, json, os, sys
import torch
libs = set()
try:
    import nvidia
    for root in nvidia.__path__:
        libs.update(os.path.dirname(p) for p in glob.glob(os.path.join(root, "*", "lib", "lib*.so*")))
except Exception:
    pass
tl = os.path.join(os.path.dirname(torch.__file__), "lib")
if glob.glob(os.path.join(tl, "libcudnn*.so*")):
    libs.add(tl)
print("LIBS=" + ":".join(sorted(libs)))
info = {"python": sys.version.split()[0], "torch": torch.__version__, "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cuda_available": torch.cuda.is_available(),
        "tf32_defaults": {"cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                          "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32}}
if torch.cuda.is_available():
    info["gpu"] = torch.cuda.get_device_name(0)
    info["capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
print("INFO=" + json.dumps(info))
'
PY=""
PY_OUT=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    command -v "$p" >/dev/null 2>&1 || continue
    if o=$(timeout -k 5 90 "$p" -c "$PYINFO" 2>"$WORK/python-probe.err"); then PY=$p; PY_OUT=$o; break; fi
done
NVLIBS=$(sed -n 's/^LIBS=//p' <<< "$PY_OUT")
if ! grep -q 'libcudnn' <<< "$(ls ${NVLIBS//:/ } 2>/dev/null)"; then   # not in the wheels: look elsewhere
    extra=$(timeout -k 2 20 find / -xdev \( -name 'libcudnn.so.9*' -o -name 'libcublasLt.so.1[23]*' \) 2>/dev/null \
            | xargs -r -n1 dirname | sort -u | paste -sd: -)
    [ -n "$extra" ] && NVLIBS="$NVLIBS${NVLIBS:+:}$extra"
fi
[ -n "$NVLIBS" ] && export LD_LIBRARY_PATH="$NVLIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The driver's JIT cache (PTX of files without an sm_90 cubin, other GPUs): a known writable place.
export CUDA_CACHE_PATH=$TMP/convunext-cuda-cache CUDA_CACHE_MAXSIZE=4294967296
mkdir -p "$CUDA_CACHE_PATH"

# ---------------------------------------------------------------- Java
JRE_DIR=$TMP/convunext-jre
JRE_ARCHIVE=.device/jre.tar.xz
[ -f "$JRE_ARCHIVE" ] || JRE_ARCHIVE=.device/jre.tgz
stamp=$(cksum < "$JRE_ARCHIVE" 2>/dev/null) || { echo "no .device/jre.tar.xz (run bench/make-device-bundle.sh, carry .device)"; exit 2; }
if [ ! -x "$JRE_DIR/jre/bin/java" ] || [ "$(cat "$JRE_DIR/stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$JRE_DIR" && mkdir -p "$JRE_DIR" || exit 2
    if [[ "$JRE_ARCHIVE" == *.xz ]] && ! command -v xz >/dev/null 2>&1; then   # no xz there: Python's lzma
        timeout -k 5 120 "${PY:-python3}" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
            "$JRE_ARCHIVE" "$JRE_DIR"
    else
        timeout -k 5 120 tar -C "$JRE_DIR" -xf "$JRE_ARCHIVE"
    fi && echo "$stamp" > "$JRE_DIR/stamp" || { echo "cannot unpack $JRE_ARCHIVE into $JRE_DIR"; exit 2; }
fi
JAVA="$JRE_DIR/jre/bin/java"
JAR=.device/convunext.jar
[ -f "$JAR" ] || JAR=target/convunext.jar
[ -f "$JAR" ] || { echo "no jar: carry .device (bench/make-device-bundle.sh copies it there)"; exit 2; }
JOPTS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Djava.io.tmpdir="$TMP")
J=("$JAVA" "${JOPTS[@]}" -Xmx48g -jar "$JAR")
J_UNFUSED=("$JAVA" "${JOPTS[@]}" -Xmx48g -Dconvunext.cuda.fuseGelu=false -jar "$JAR")
TESTS_JAR=.device/convunext-tests.jar
[ -f "$TESTS_JAR" ] || TESTS_JAR=target/test-classes
TESTS=("$JAVA" "${JOPTS[@]}" -Xmx16g -Dconvunext.test.device="$DEVICE"
       -cp ".device/junit-console.jar:$TESTS_JAR:$JAR" org.junit.platform.console.ConsoleLauncher execute
       --disable-banner --disable-ansi-colors --details=testfeed --fail-if-no-tests
       --select-package convunext.backend.cuda --select-package convunext.backend.parity --reports-dir "$WORK/tests")

# ---------------------------------------------------------------- machine.log
{
    echo "date: $(date -u +%FT%TZ)  host: $(uname -srm)  nproc: $(nproc 2>/dev/null)"
    echo "glibc: $(timeout -k 2 10 ldd --version 2>&1 | head -n 1)"
    echo "gpu: $(timeout -k 5 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,clocks.sm,power.limit --format=csv,noheader 2>&1 | head -n 4)"
    echo "java: $(timeout -k 5 30 "$JAVA" -version 2>&1 | tr '\n' ' ')"
    echo "python: ${PY:-none (no python imports torch: the PyTorch steps are skipped)}"
    sed -n 's/^INFO=/torch: /p' <<< "$PY_OUT"
    [ -n "$PY" ] || sed 's/^/python probe: /' "$WORK/python-probe.err" | tail -n 3
    echo "LD_LIBRARY_PATH: ${LD_LIBRARY_PATH:-}"
    echo "libcudnn.so.9 on it: $(for d in ${LD_LIBRARY_PATH//:/ }; do ls "$d"/libcudnn.so.9* 2>/dev/null; done | head -n 1)"
    echo "CUDA_CACHE_PATH: $CUDA_CACHE_PATH"
    echo "ours: fp32 (no TF32: --precision fp32); PyTorch: --tf32 off pinned by bench/torch_bench.py"
} > "$WORK/machine.log" 2>&1
cat "$WORK/machine.log"

# ---------------------------------------------------------------- summary and packing (after every step)
summary() {
    echo "================ summary ($(( $(date +%s) - T0 ))s of ${BUDGET_S}s, device $DEVICE; all logs in logs.tgz)"
    grep -E '^(gpu|glibc|torch|libcudnn)' "$WORK/machine.log" | cut -c1-220
    printf '%-14s %-64s %s\n' step result time
    for s in "${STATUS[@]}"; do IFS='|' read -r a b c <<< "$s"; printf '%-14s %-64s %s\n' "$a" "$b" "$c"; done
    grep -E '^(cuda |emulated |cuBLAS:|cuDNN:)' "$WORK/info.log" 2>/dev/null | cut -c1-200
    # testfeed streams one line per test as it ends, so a cut-short step still says what ran
    grep -A1 ':: FAILED' "$WORK/tests.log" 2>/dev/null | grep -v '^--$' | sed 's/^JUnit Jupiter > //' | cut -c1-200 | head -n 16
    if grep -q ':: STARTED' "$WORK/tests.log" 2>/dev/null && ! grep -q '^Test run finished' "$WORK/tests.log"; then
        echo "tests cut short while running: $(grep ':: STARTED' "$WORK/tests.log" | tail -n 1 | sed 's/^JUnit Jupiter > //; s/ :: STARTED//')"
        echo "  $(grep -c ':: SUCCESSFUL' "$WORK/tests.log") tests passed, $(grep -c ':: FAILED' "$WORK/tests.log") failed before"
    fi
    grep -E "^(fixture|PASS|FAIL)" "$WORK/verify.log" 2>/dev/null | head -n 12
    grep -E "^done in" "$WORK/train.log" 2>/dev/null
    grep -h "^repro:" "$WORK/repro.log" 2>/dev/null
    grep -E "^[a-z]+: [0-9]+ calls, sum of per-call medians" "$WORK/kernels.log" 2>/dev/null
    if [ -f "$WORK/stress.log" ]; then
        echo "stress: $(grep -c ' worst ' "$WORK/stress.log") random fixtures verified, $(grep -c '^FAIL ' "$WORK/stress.log") failed"
        grep -E "^(FAIL |DIFFERENT |ALL PASS|PROBLEMS)" "$WORK/stress.log" | cut -c1-160 | head -n 6
        grep -A4 "^worst error/tolerance per row" "$WORK/stress.log" | tail -n 3 | cut -c1-160
    fi
    # CUDA Graphs of the repeated steps (StepGraphs): captured, replayed, and why a step was not
    grep -ho "graphs: [0-9]* captured, [0-9]* replays, [0-9]* misses[^;]*\(; [a-z].*\)\?" "$WORK/bench.log" 2>/dev/null | tail -n 1 | cut -c1-300
    [ -n "${PY:-}${SUMMARY_PY:-}" ] || return 0
    timeout -k 2 30 "${PY:-$SUMMARY_PY}" - "$WORK" <<'EOF' 2>&1 || true
import json, os, sys
w = sys.argv[1]
def last(p):
    try:
        lines = [l for l in open(os.path.join(w, p)).read().splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except Exception:
        return None
nan = float("nan")
b = last("bench.json")
phases = []
try:
    phases = [json.loads(l) for l in open(os.path.join(w, "torch_compile.jsonl")) if l.startswith("{")]
except Exception:
    pass
if b:
    m, t, r = b["model"], b.get("torch") or {}, b.get("ratio_ours_over_torch") or {}
    ce = b["ceilings"]
    tc = t.get("ceilings") or {}
    peak = tc.get("fp32_gemm_tflop_s")
    line = f"ceilings: ours copy {ce['copy_gb_s']:.0f} GB/s, our linear {ce['gemm_gflop_s']:.0f} GFLOP/s"
    if peak:
        line += (f"; PyTorch fp32 GEMM (TF32 off) {peak * 1e3:.0f} GFLOP/s = the FP32 peak here -> our linear "
                 f"{100 * ce['gemm_gflop_s'] / (peak * 1e3):.0f} % of it; PyTorch copy {tc.get('copy_gb_s', nan):.0f} GB/s")
    else:
        line += "; FP32 peak not measured (H200 datasheet ~67 TFLOP/s: our linear at " \
                f"{100 * ce['gemm_gflop_s'] / 67e3:.0f} % of it)"
    print(line)
    if t.get("tf32"):
        print("PyTorch TF32 flags:", json.dumps(t["tf32"]))
    comp = {}
    for p in phases:
        if p.get("phase") == "compiled_train": comp["train_step_ms"] = p.get("train_step_ms")
        if p.get("phase") == "compiled_infer": comp["infer_ms"] = p.get("infer_ms")
    fin = [p for p in phases if "compiled" in p and "phase" not in p]
    if fin and isinstance(fin[-1]["compiled"], dict):
        comp.update({k: v for k, v in fin[-1]["compiled"].items() if k in ("train_step_ms", "infer_ms", "error")})
    print(f"{'':24}{'ours':>12}{'torch eager':>14}{'torch.compile':>15}{'ours/eager':>12}")
    for k, lbl, rk in (("train_step_ms", "train step ms", "train_step"), ("infer_ms", "inference ms", "inference")):
        print(f"{lbl:24}{m[k]:12.2f}{(t.get(k) or nan):14.2f}{(comp.get(k) or nan):15.2f}{r.get(rk, nan):12.3f}")
    if comp.get("error"):
        print("torch.compile:", comp["error"][:200])
    if b.get("torch_error"):
        print("PyTorch side:", b["torch_error"][:200])
    print(f"peak device memory in use: ours {m.get('peak_device_bytes', 0) / 2**20:.0f} MiB (pool reserved "
          f"{m.get('peak_device_reserved_bytes', 0) / 2**20:.0f}), torch {(t.get('peak_device_bytes') or 0) / 2**20:.0f} MiB "
          f"-> {r.get('peak_device_memory', nan):.3f}; peak JVM heap {m['peak_heap_bytes'] / 2**20:.0f} MiB")
    u = last("bench_unfused.json")
    if u:
        um = u["model"]
        print(f"GELU epilogues: train step {m['train_step_ms']:.2f} ms fused vs {um['train_step_ms']:.2f} unfused "
              f"({m['train_step_ms'] / um['train_step_ms']:.3f}); inference {m['infer_ms']:.2f} vs {um['infer_ms']:.2f}")
    for x in b.get("rows") or []:   # target: dwconv7 forward and backward at >= 70 % of the copy rate
        if x["op"] == "dwconv7":
            base = (f"; cuDNN {x['baseline_ms']:.3f} ms (ours/cuDNN {x['ratio_ours_over_baseline']:.2f})"
                    if "baseline_ms" in x else "")
            print(f"dwconv7 {x['pass']}: {x['median_ms']:.3f} ms, {x['gb_s']:.0f} GB/s = "
                  f"{100 * x['gb_s'] / ce['copy_gb_s']:.0f} % of copy{base}")
    for x in sorted(b.get("rows") or [], key=lambda x: -x["median_ms"])[:8]:
        print(f"  {x['op']:10} {x['layer']:18} {x['pass']:7} {x['median_ms']:9.3f} ms {x['pct_roofline']:6.1f}% roof ({x['bound']})")
elif phases:
    for p in phases:
        if "phase" in p:
            print("torch.compile phase:", json.dumps(p)[:200])
EOF
}

pack() {
    summary > "$WORK/summary.txt" 2>&1
    cp -f "$WORK/summary.txt" "$OUT/summary.txt.tmp" && mv -f "$OUT/summary.txt.tmp" "$OUT/summary.txt"
    # Checkpoints stay out (10+ MB each, and a file over 16 MiB would not come back at all).
    tar -C "$WORK" -czf "$TMP/device-check-logs.tgz" --exclude='*.safetensors' . 2>/dev/null \
        && mv -f "$TMP/device-check-logs.tgz" "$OUT/logs.tgz"
    for f in "${LOOSE[@]}"; do [ -f "$WORK/$f" ] && cp -f "$WORK/$f" "$OUT/$f"; done
}

# step NAME CAP_S CMD...: CMD under min(CAP_S, time left - 15 s), its output in $WORK/NAME.log; then
# the summary is rewritten and the logs re-packed.
step() {
    local name=$1 cap=$2; shift 2
    [[ "$STEPS" == *" $name "* ]] || return 0
    local l; l=$(left)
    (( cap > l - 15 )) && cap=$(( l - 15 ))
    if (( cap < 10 )); then STATUS+=("$name|skipped (budget spent)|-"); echo "== $name: skipped, budget spent"; pack; return; fi
    echo "== $name (cap ${cap}s): $*"
    local s; s=$(date +%s)
    timeout -k 5 "$cap" "$@" > "$WORK/$name.log" 2>&1
    local rc=$?
    local d=$(( $(date +%s) - s ))
    tail -n 4 "$WORK/$name.log" | cut -c1-200 | sed 's/^/   /'
    local what=ok; (( rc == 124 || rc == 137 )) && what="TIMEOUT"; (( rc != 0 && rc != 124 && rc != 137 )) && what="FAILED rc=$rc"
    STATUS+=("$name|$what|${d}s")
    pack
}
SUMMARY_PY=$(command -v python3 || true)   # parses the JSON files when no python imports torch
pack

# ---------------------------------------------------------------- steps
FIXTURES=(testdata/golden/*.safetensors)
TRAIN_SIZE=(--epochs 3 --batch 4 --crop 96 --base-size 96 --base-c 16 --tile 128)
BENCH_SIZE=()
TORCH_SIZE=(--batch 4 --size 480 --base-c 32 --warmup 3 --steps 10)
KERNEL_SIZE=(--batch 4 --size 480 --base-c 32 --warmups 3 --reps 10)
if [ -n "$SMOKE" ]; then   # toy sizes: every command line once, in seconds, on the emulator
    # (StepGraphsTest trains a model five times over, minutes on the emulator, milliseconds on a GPU)
    TESTS+=(--exclude-classname '.*StepGraphsTest')
    FIXTURES=(testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors)
    TRAIN_SIZE=(--epochs 1 --batch 2 --crop 64 --base-size 64 --base-c 4 --tile 64 --max-steps-per-epoch 2)
    BENCH_SIZE=(--tiny)
    TORCH_SIZE=(--batch 1 --size 64 --base-c 4 --warmup 1 --steps 1)
    KERNEL_SIZE=(--batch 1 --size 64 --base-c 4 --warmups 1 --reps 2)
fi
TORCH_DEVICE=cpu; [ "$DEVICE" = cuda ] && TORCH_DEVICE=cuda

step info 60 "${J[@]}" info
step tests 150 "${TESTS[@]}"
if [[ "$STEPS" == *" tests "* ]] && [ -f "$WORK/tests.log" ]; then   # counts from the launcher's summary
    n() { sed -n "s/^\[ *\([0-9]*\) $1 .*/\1/p" "$WORK/tests.log" | tail -n 1; }
    IFS='|' read -r a b c <<< "${STATUS[-1]}"
    found=$(n 'tests found'); passed=$(n 'tests successful'); failed=$(n 'tests failed')
    [ -n "$found" ] && b+=": $passed passed, $failed failed, $(( found - passed - failed )) skipped"
    cfailed=$(n 'containers failed'); [ "${cfailed:-0}" != 0 ] && b+=", $cfailed classes failed"
    STATUS[-1]="$a|$b|$c"
    pack
fi
step verify 150 "${J[@]}" verify --device "$DEVICE" "${FIXTURES[@]}"
step train 120 "${J[@]}" train --device "$DEVICE" --data testdata/synthetic --out "$WORK/train" "${TRAIN_SIZE[@]}"
# Determinism on the device: the same training command twice, every checkpoint compared byte for byte.
repro() {
    local r
    for r in a b; do
        "${J[@]}" train --device "$DEVICE" --data testdata/synthetic --out "$WORK/repro-$r" "${TRAIN_SIZE[@]}" \
            > "$WORK/repro-$r.log" 2>&1 || { echo "repro: run $r failed"; tail -n 3 "$WORK/repro-$r.log"; return 1; }
    done
    local n=0 f
    for f in "$WORK"/repro-a/*.safetensors; do
        [ -f "$f" ] || continue
        # the tensors and their layout byte for byte (the metadata's metrics row holds wall-clock seconds)
        "${PY:-python3}" -c 'import json, struct, sys
def t(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
    return h, b[8 + n:]
sys.exit(0 if t(sys.argv[1]) == t(sys.argv[2]) else 1)' "$f" "$WORK/repro-b/${f##*/}" \
            || { echo "repro: ${f##*/}: its tensors differ between two identical runs"; return 1; }
        n=$((n + 1))
    done
    (( n > 0 )) || { echo "repro: no checkpoints written"; return 1; }
    echo "repro: $n checkpoints with bit-identical tensors over two runs of the same command"
}
# (`timeout` runs programs, not functions: the function and what it reads go into a script)
{ declare -p J TRAIN_SIZE WORK DEVICE PY; declare -f repro; echo repro; } > "$WORK/repro.sh"
step repro 100 bash "$WORK/repro.sh"
TORCH_ARGS=()
[ -n "$PY" ] && TORCH_ARGS=(--torch --python "$PY")
step bench 240 "${J[@]}" bench --device "$DEVICE" --layers --breakdown --json "$WORK/bench.json" \
     ${BENCH_SIZE[@]+"${BENCH_SIZE[@]}"} ${TORCH_ARGS[@]+"${TORCH_ARGS[@]}"}
step bench_unfused 90 "${J_UNFUSED[@]}" bench --device "$DEVICE" --json "$WORK/bench_unfused.json" ${BENCH_SIZE[@]+"${BENCH_SIZE[@]}"}
step kernels 90 "$JAVA" "${JOPTS[@]}" -Xmx48g -cp "$JAR" convunext.bench.KernelTimes --device "$DEVICE" \
     --out "$WORK/kernels.tsv" "${KERNEL_SIZE[@]}"
# verify on fixtures it has never seen: random configs written by PyTorch (float64) on this machine
if [[ "$STEPS" == *" stress "* ]]; then
    if [ -n "$PY" ]; then
        step stress 240 "$PY" reference/stress_verify.py -n "${STRESS_N:-16}" -r 1 -s "${STRESS_SEED:-2026}" --max-base-c 8 \
             --devices "$DEVICE" --java "$JAVA" --jar "$JAR" --python "$PY" -o "$WORK/stress"
    else
        STATUS+=("stress|skipped (no python with torch)|-")
        pack
    fi
fi
if [[ "$STEPS" == *" torch_compile "* ]]; then
    if [ -n "$PY" ]; then
        # Eager was timed by `bench --torch` already: compile only, capped, one JSON line per phase.
        step torch_compile 150 "$PY" bench/torch_bench.py --device "$TORCH_DEVICE" "${TORCH_SIZE[@]}" --compile-only
        grep '^{' "$WORK/torch_compile.log" > "$WORK/torch_compile.jsonl" 2>/dev/null
        pack
    else
        STATUS+=("torch_compile|skipped (no python with torch)|-")
        pack
    fi
fi

echo
cat "$OUT/summary.txt"
n=$(find "$OUT" -mindepth 1 | wc -l)
(( n <= 8 )) || echo "WARNING: $OUT holds $n entries; a device call brings back 8"
exit 0
