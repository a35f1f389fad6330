#!/usr/bin/env bash
# Builds the kernels with AddressSanitizer + UBSan, runs the emulator's own self-tests
# (kernels/checks/*.cpp) and replays every launch the Java tests recorded (`mvn test` writes them to
# target/emu/launches: kernel, grid, block, arguments and buffers as the Java launchers made them),
# each in order and shuffled, checking the recorded outputs bit for bit. For CI, after `mvn test`:
#     bash kernels/emu/asan.sh        (exit status 1 on any failure)
# Without recordings it first runs the CUDA backend's tests to make them.
set -euo pipefail
cd "$(dirname "$0")/../.."
LAUNCHES=${CONVUNEXT_EMU_LAUNCHES:-target/emu/launches}
if ! ls "$LAUNCHES"/*.launch >/dev/null 2>&1; then
    echo "[asan] no recorded launches in $LAUNCHES: running the CUDA and parity tests to record them"
    mvn -B -q test -Dtest='convunext.backend.cuda.**.*Test,convunext.backend.parity.**.*Test' -Dsurefire.failIfNoSpecifiedTests=false \
        -Dconvunext.emu.record="$PWD/$LAUNCHES"
fi
make -s -f kernels/emu/build.mk -j"$(nproc 2>/dev/null || echo 2)" --no-print-directory asan
# The fibers' stacks are switched by hand (annotated for ASan); leak checking of the
# deliberately abandoned fibers is not wanted.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:detect_stack_use_after_return=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    target/emu/asan/emu_selftest --launches "$LAUNCHES" "$@"
