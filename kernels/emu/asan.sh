#!/usr/bin/env bash
# Builds the kernels with AddressSanitizer + UBSan and runs every EMU_CHECK (kernels/checks/)
# in order and shuffled. For CI: `bash kernels/emu/asan.sh` (exit status 1 on any failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s -f kernels/emu/build.mk -j"$(nproc 2>/dev/null || echo 2)" --no-print-directory asan
# The fibers' stacks are switched by hand (annotated for ASan); leak checking of the
# deliberately abandoned fibers is not wanted.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:detect_stack_use_after_return=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    target/emu/asan/emu_selftest "$@"
