#!/usr/bin/env bash
# The one script a session runs on the lent GPU machine (see shared/device/README.md: there is no
# Java and no Maven on it): unpacks the jlink'd JRE, then info, the JUnit suites of
# convunext.backend.cuda and convunext.backend.parity on the GPU (-Dconvunext.test.device=cuda; emulator-only classes skip
# themselves), the whole-model GPU parity check (verify on the golden fixtures), a short training
# run, `bench --device cuda` (with PyTorch eager side by side) and torch.compile, each with a time
# cap inside one overall budget. Logs go to $OUT; a summary table is printed last and saved as
# $OUT/summary.txt. At the end everything is packed into $OUT/logs.tgz and only the main files stay
# loose beside it, because a device call brings back at most 8 files.
#
# Prepare here:  bash bench/make-device-bundle.sh      (writes .device/: jre.tgz, convunext.jar,
#                                                       convunext-tests.jar, junit-console.jar)
# Run there:     run(command="bash bench/device-check.sh", carry=[".device"], timeout_s=600)
# Check here:    DEVICE=emulated STEPS="info tests" bash bench/device-check.sh   (same command lines,
#                the emulated device instead of the GPU)
#                SMOKE=1 DEVICE=emulated bash bench/device-check.sh   (every step at toy sizes: checks
#                each command line end to end here before device time is spent on it)
# Env: OUT (default out/device), BUDGET_S (default 540: the whole script), DEVICE (default cuda),
# STEPS (default "info tests verify train bench bench_unfused torch_compile"), SMOKE (toy sizes),
# PYTHON (default: the first of python3, /usr/bin/python3 that imports torch).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device}
BUDGET_S=${BUDGET_S:-540}
DEVICE=${DEVICE:-cuda}
STEPS=" ${STEPS:-info tests verify train bench bench_unfused torch_compile} "
SMOKE=${SMOKE:-}
mkdir -p "$OUT"
T0=$(date +%s)
STATUS=()

left() { echo $(( BUDGET_S - ($(date +%s) - T0) )); }

# step NAME CAP_S CMD...: runs CMD with a cap of min(CAP_S, time left - 15 s), logs to $OUT/NAME.log.
step() {
    local name=$1 cap=$2; shift 2
    [[ "$STEPS" == *" $name "* ]] || return 0
    local l; l=$(left)
    (( cap > l - 15 )) && cap=$(( l - 15 ))
    if (( cap < 10 )); then STATUS+=("$name|skipped (budget spent)|-"); echo "== $name: skipped, budget spent"; return; fi
    echo "== $name (cap ${cap}s): $*"
    local s; s=$(date +%s)
    timeout -k 5 "$cap" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    local d=$(( $(date +%s) - s ))
    tail -n 4 "$OUT/$name.log" | sed 's/^/   /'
    local what=ok; (( rc == 124 || rc == 137 )) && what="TIMEOUT" ; (( rc != 0 && rc != 124 && rc != 137 )) && what="FAILED rc=$rc"
    STATUS+=("$name|$what|${d}s")
}

# ---------------------------------------------------------------- Java
JRE_DIR=${TMPDIR:-/tmp}/convunext-jre
stamp=$(cksum < .device/jre.tgz 2>/dev/null) || { echo "no .device/jre.tgz (run bench/make-device-bundle.sh, carry .device)"; exit 2; }
if [ ! -x "$JRE_DIR/jre/bin/java" ] || [ "$(cat "$JRE_DIR/stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$JRE_DIR" && mkdir -p "$JRE_DIR" && tar -C "$JRE_DIR" -xzf .device/jre.tgz \
        && echo "$stamp" > "$JRE_DIR/stamp" || { echo "cannot unpack .device/jre.tgz into $JRE_DIR"; exit 2; }
fi
JAVA="$JRE_DIR/jre/bin/java"
JAR=.device/convunext.jar
[ -f "$JAR" ] || JAR=target/convunext.jar
[ -f "$JAR" ] || { echo "no jar: carry .device (bench/make-device-bundle.sh copies it there)"; exit 2; }
JOPTS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Djava.io.tmpdir="${TMPDIR:-/tmp}")
J=("$JAVA" "${JOPTS[@]}" -Xmx48g -jar "$JAR")
# The same with the GELU GEMM epilogues switched off (GEMM, then gelu.cu): the fusion's effect.
J_UNFUSED=("$JAVA" "${JOPTS[@]}" -Xmx48g -Dconvunext.cuda.fuseGelu=false -jar "$JAR")
# The tests: JUnit's console launcher on the compiled tests and the jar (no Maven there). The
# packages are selected (the CUDA-only tests and the every-backend op parity suite, which runs on
# the cuda backend alone under -Dconvunext.test.device=cuda), so new test classes in them run
# without editing this script.
TESTS_JAR=.device/convunext-tests.jar
[ -f "$TESTS_JAR" ] || TESTS_JAR=target/test-classes
TESTS=("$JAVA" "${JOPTS[@]}" -Xmx16g -Dconvunext.test.device="$DEVICE"
       -cp ".device/junit-console.jar:$TESTS_JAR:$JAR" org.junit.platform.console.ConsoleLauncher execute
       --disable-banner --disable-ansi-colors --details=tree --details-theme=ascii --fail-if-no-tests
       --select-package convunext.backend.cuda --select-package convunext.backend.parity --reports-dir "$OUT/tests")

PY=${PYTHON:-}
if [ -z "$PY" ]; then
    for p in python3 /usr/bin/python3; do
        if "$p" -c "import torch" >/dev/null 2>&1; then PY=$p; break; fi
    done
fi

{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1
  "$JAVA" -version 2>&1; echo "python: ${PY:-none} $("${PY:-false}" -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>&1)"; } > "$OUT/machine.log"
cat "$OUT/machine.log"

# ---------------------------------------------------------------- checks
step info 60 "${J[@]}" info
step tests 120 "${TESTS[@]}"
# The tests' line in the table: counts from the launcher's summary ("[  42 tests successful ]").
if [[ "$STEPS" == *" tests "* ]] && [ -f "$OUT/tests.log" ]; then
    n() { sed -n "s/^\[ *\([0-9]*\) $1 .*/\1/p" "$OUT/tests.log" | tail -n 1; }
    IFS='|' read -r a b c <<< "${STATUS[-1]}"
    found=$(n 'tests found'); passed=$(n 'tests successful'); failed=$(n 'tests failed')
    # skipped: not run (assumptions, a skipped class) or aborted; found = passed + failed + skipped
    [ -n "$found" ] && b+=": $passed passed, $failed failed, $(( found - passed - failed )) skipped"
    cfailed=$(n 'containers failed'); [ "${cfailed:-0}" != 0 ] && b+=", $cfailed classes failed"
    STATUS[-1]="$a|$b|$c"
    cp -f "$OUT"/tests/TEST-junit-jupiter.xml "$OUT/tests.xml" 2>/dev/null
fi
# Sizes: the real ones, or toys (SMOKE=1) that check every command line in seconds on the emulator.
FIXTURES=(testdata/golden/*.safetensors)
TRAIN_SIZE=(--epochs 3 --batch 4 --crop 96 --base-size 96 --base-c 16 --tile 128)
BENCH_SIZE=()
TORCH_SIZE=(--batch 4 --size 480 --base-c 32 --warmup 3 --steps 10)
if [ -n "$SMOKE" ]; then
    FIXTURES=(testdata/golden/convunext_c4_in1_k3_1x72x88.safetensors)
    TRAIN_SIZE=(--epochs 1 --batch 2 --crop 64 --base-size 64 --base-c 4 --tile 64 --max-steps-per-epoch 2)
    BENCH_SIZE=(--tiny)
    TORCH_SIZE=(--batch 1 --size 64 --base-c 4 --warmup 1 --steps 1)
fi
step verify 150 "${J[@]}" verify --device "$DEVICE" "${FIXTURES[@]}"
step train 120 "${J[@]}" train --device "$DEVICE" --data testdata/synthetic --out "$OUT/train" "${TRAIN_SIZE[@]}"
TORCH_ARGS=()
[ -n "$PY" ] && TORCH_ARGS=(--torch --python "$PY")
TORCH_DEVICE=cpu; [ "$DEVICE" = cuda ] && TORCH_DEVICE=cuda
step bench 240 "${J[@]}" bench --device "$DEVICE" --layers --breakdown --json "$OUT/bench.json" ${BENCH_SIZE[@]+"${BENCH_SIZE[@]}"} \
     ${TORCH_ARGS[@]+"${TORCH_ARGS[@]}"}
step bench_unfused 90 "${J_UNFUSED[@]}" bench --device "$DEVICE" --json "$OUT/bench_unfused.json" ${BENCH_SIZE[@]+"${BENCH_SIZE[@]}"}
if [[ "$STEPS" != *" torch_compile "* ]]; then
    :
elif [ -n "$PY" ]; then
    step torch_compile 240 "$PY" bench/torch_bench.py --device "$TORCH_DEVICE" "${TORCH_SIZE[@]}" --compile
    grep '^{' "$OUT/torch_compile.log" | tail -n 1 > "$OUT/torch_compile.json" || true
else
    STATUS+=("torch_compile|skipped (no python with torch)|-")
fi

# ---------------------------------------------------------------- summary (last)
echo
{
echo "================ summary ($(( $(date +%s) - T0 ))s, device $DEVICE; logs in $OUT)"
printf '%-14s %-62s %s\n' step result time
for s in "${STATUS[@]}"; do IFS='|' read -r a b c <<< "$s"; printf '%-14s %-62s %s\n' "$a" "$b" "$c"; done
grep -F '[X] ' "$OUT/tests.log" 2>/dev/null | cut -c1-200 | head -n 12
grep -E "^(fixture|PASS|FAIL)" "$OUT/verify.log" 2>/dev/null | head -n 12
grep -E "^done in" "$OUT/train.log" 2>/dev/null
if [ -n "$PY" ] || command -v python3 >/dev/null; then
    "${PY:-python3}" - "$OUT" <<'EOF' || true
import json, os, sys
out = sys.argv[1]
def load(p):
    try:
        with open(os.path.join(out, p)) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except Exception:
        return None
b, c = load("bench.json"), load("torch_compile.json")
if b:
    m, t, r = b["model"], b.get("torch") or {}, b.get("ratio_ours_over_torch") or {}
    print(f"ceilings: copy {b['ceilings']['copy_gb_s']:.0f} GB/s, linear {b['ceilings']['gemm_gflop_s']:.0f} GFLOP/s")
    print(f"{'':24}{'ours':>12}{'torch eager':>14}{'torch.compile':>15}{'ours/eager':>12}")
    cc = (c or {}).get("compiled") or {}
    for k, lbl, rk in (("train_step_ms", "train step ms", "train_step"), ("infer_ms", "inference ms", "inference")):
        tv, cv = t.get(k), cc.get(k)
        print(f"{lbl:24}{m[k]:12.2f}{(tv or float('nan')):14.2f}{(cv or float('nan')):15.2f}{r.get(rk, float('nan')):12.3f}")
    if cc.get("error"):
        print("torch.compile:", cc["error"][:200])
    print(f"peak device memory in use: ours {m.get('peak_device_bytes', 0) / 2**20:.0f} MiB "
          f"(pool reserved {m.get('peak_device_reserved_bytes', 0) / 2**20:.0f}), torch {t.get('peak_device_bytes', 0) / 2**20:.0f} MiB "
          f"-> {r.get('peak_device_memory', float('nan')):.3f}; peak JVM heap {m['peak_heap_bytes'] / 2**20:.0f} MiB")
    u = load("bench_unfused.json")
    if u:
        um = u["model"]
        print(f"GELU epilogues: train step {m['train_step_ms']:.2f} ms fused vs {um['train_step_ms']:.2f} unfused "
              f"({m['train_step_ms'] / um['train_step_ms']:.3f}); inference {m['infer_ms']:.2f} vs {um['infer_ms']:.2f}")
    copy = b["ceilings"]["copy_gb_s"]
    for x in b.get("rows") or []:   # the target: dwconv7 forward and backward at >= 70 % of the copy rate
        if x["op"] == "dwconv7":
            base = f"; cuDNN {x['baseline_ms']:.3f} ms (ours/cuDNN {x['ratio_ours_over_baseline']:.2f})" if "baseline_ms" in x else ""
            print(f"dwconv7 {x['pass']}: {x['median_ms']:.3f} ms, {x['gb_s']:.0f} GB/s = {100 * x['gb_s'] / copy:.0f} % of copy{base}")
    rows = sorted(b.get("rows") or [], key=lambda x: -x["median_ms"])[:8]
    for x in rows:
        print(f"  {x['op']:10} {x['layer']:18} {x['pass']:7} {x['median_ms']:9.3f} ms {x['pct_roofline']:6.1f}% roof ({x['bound']})")
else:
    print("no bench.json")
EOF
fi
} 2>&1 | tee "$OUT/summary.txt.tmp"

# A device call brings back at most 8 files, two folders down: all of $OUT goes into logs.tgz,
# and the files read first stay loose beside it.
keep=(summary.txt tests.log tests.xml verify.log train.log bench.json torch_compile.json)
mv -f "$OUT/summary.txt.tmp" "$OUT/summary.txt"
tar -C "$OUT" -czf "${TMPDIR:-/tmp}/device-check-logs.tgz" --exclude=./logs.tgz . \
    && mv -f "${TMPDIR:-/tmp}/device-check-logs.tgz" "$OUT/logs.tgz" && for f in "$OUT"/* "$OUT"/.[!.]*; do
        [ -e "$f" ] || continue
        b=${f##*/}; [ "$b" = logs.tgz ] && continue
        [[ " ${keep[*]} " == *" $b "* ]] && [ -f "$f" ] || rm -rf "$f"
    done
