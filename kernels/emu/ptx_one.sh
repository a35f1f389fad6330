#!/usr/bin/env bash
# nvcc -ptx for one kernel file, then lowers the PTX ISA version so CUDA 12.x drivers load it
# (nvcc 13 writes 9.0, which needs a 13.x driver), checks the result with ptxas for sm_90 and
# prints registers/spills per kernel. Keeps the original version when the code needs it.
# usage: ptx_one.sh IN.cu OUT.ptx REPORT.txt
set -euo pipefail
in=$1 out=$2 report=$3
name=$(basename "$in" .cu)
# A kernel file may ask for another virtual arch with a line: //@ptx-arch compute_90
arch=$(sed -n 's#^//@ptx-arch[[:space:]]*\(compute_[0-9a-z]*\).*#\1#p' "$in" | head -1)
arch=${arch:-compute_80}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nvcc -ptx -arch="$arch" -O3 -lineinfo -std=c++17 -Ikernels -o "$tmp/orig.ptx" "$in"
orig=$(sed -n 's/^\.version[[:space:]]*\([0-9.]*\).*/\1/p' "$tmp/orig.ptx" | head -1)
sed 's/^\.version[[:space:]].*/.version 8.0/' "$tmp/orig.ptx" > "$tmp/low.ptx"
if ptxas -arch=sm_90 -v "$tmp/low.ptx" -o "$tmp/low.cubin" > "$tmp/log" 2>&1; then
    cp "$tmp/low.ptx" "$out"
    ver="8.0 (lowered from $orig)"
elif ptxas -arch=sm_90 -v "$tmp/orig.ptx" -o "$tmp/orig.cubin" > "$tmp/log" 2>&1; then
    cp "$tmp/orig.ptx" "$out"
    ver="$orig (needs a CUDA 13 driver: the code uses newer PTX than 8.0)"
else
    cat "$tmp/log" >&2
    echo "[kernels] ptxas failed on $in" >&2
    exit 1
fi
awk -v file="$name" -v ver="$ver" '
    /Compiling entry function/ { match($0, /\047[^\047]+\047/); fn = substr($0, RSTART + 1, RLENGTH - 2) }
    /bytes stack frame/ { stack = $1; sst = $5; sld = $9 }
    /Used [0-9]+ registers/ {
        match($0, /Used [0-9]+ registers/); regs = substr($0, RSTART + 5, RLENGTH - 15)
        smem = "0"; if (match($0, /[0-9]+ bytes smem/)) smem = substr($0, RSTART, RLENGTH - 11)
        printf "[kernels] ptxas sm_90 %-28s regs %3s  spill st/ld %s/%s B  stack %s B  smem %s B\n", fn, regs, sst, sld, stack, smem
    }
    END { printf "[kernels] %s.ptx: arch %s, PTX ISA %s\n", file, ARCH, ver }' ARCH="$arch" "$tmp/log" | tee "$report"
