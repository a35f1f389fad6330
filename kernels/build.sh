#!/usr/bin/env bash
# Builds every kernels/*.cu twice: PTX for the GPU (nvcc, into target/classes/ptx) and the
# emulator library (g++, into target/classes/native/linux-x86_64). Maven runs it in the
# generate-resources phase; make keeps it incremental. Missing nvcc only skips the PTX.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${CONVUNEXT_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
targets=()

# The typed Java launch facade and the geometry constants (convunext.backend.cuda.Kernels), from the
# kernels' extern "C" signatures and kernels/geometry.h: the Java sources need it, so no python3 is
# an error (rewritten only when its content changes).
command -v python3 >/dev/null 2>&1 || { echo "[kernels] python3 is needed to generate Kernels.java from kernels/*.cu"; exit 1; }
python3 kernels/emu/gen_trampolines.py --java target/generated-sources/kernels/convunext/backend/cuda/Kernels.java \
    kernels/geometry.h kernels/*.cu

if command -v g++ >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 && command -v make >/dev/null 2>&1; then
    # jni.h: from the JDK running Maven (JAVA_HOME), else from the javac on the PATH.
    jhome=${JAVA_HOME:-}
    if [ -z "$jhome" ] || [ ! -f "$jhome/include/jni.h" ]; then
        jc=$(command -v javac || true)
        [ -n "$jc" ] && jhome=$(dirname "$(dirname "$(readlink -f "$jc")")")
    fi
    if [ -n "$jhome" ] && [ -f "$jhome/include/jni.h" ]; then
        java_inc="-I$jhome/include -I$jhome/include/linux"
        targets+=(emu)
    else
        echo "[kernels] jni.h not found (set JAVA_HOME to a JDK): the emulated device is not built"
    fi
else
    echo "[kernels] g++, python3 or make not found: the emulated device is not built"
fi

if command -v nvcc >/dev/null 2>&1 && command -v ptxas >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
    targets+=(ptx)
    # PTX of kernel files that no longer exist must not linger in the jar.
    for p in target/classes/ptx/*.ptx target/classes/cubin/*.cubin; do
        [ -e "$p" ] || continue
        b=$(basename "$p"); b=${b%.ptx}; b=${b%.sm_90.cubin}
        [ -f "kernels/$b.cu" ] || rm -f "$p"
    done
else
    echo "[kernels] nvcc not found: no PTX is built, so the CUDA device cannot run (the emulator is unaffected)"
    rm -rf target/classes/ptx target/classes/cubin  # an earlier build's would no longer match the sources
fi

[ ${#targets[@]} -eq 0 ] && exit 0
exec make -s -f kernels/emu/build.mk -j"$jobs" --no-print-directory JAVA_INC="${java_inc:-}" "${targets[@]}"
