#!/usr/bin/env bash
# nvcc -ptx for one kernel file, then lowers the PTX ISA version so CUDA 12.x drivers load it
# (nvcc 13 writes 9.0, which needs a 13.x driver), checks the result with ptxas for sm_90 and
# prints registers/spills per kernel. Keeps the original version when the code needs it. The
# sm_90 machine code ptxas makes from that PTX is kept as OUT.cubin's path (4th argument):
# JCudaDevice loads it on an sm_90 GPU instead of JIT-compiling the PTX at every process start.
# usage: ptx_one.sh IN.cu OUT.ptx REPORT.txt [OUT.cubin]
set -euo pipefail
in=$1 out=$2 report=$3 cubin=${4:-}
name=$(basename "$in" .cu)
# A kernel file may ask for another virtual arch with a line: //@ptx-arch compute_90
arch=$(sed -n 's#^//@ptx-arch[[:space:]]*\(compute_[0-9a-z]*\).*#\1#p' "$in" | head -1)
arch=${arch:-compute_80}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# nvcc's PTX varies from run to run with address-space layout randomisation (its internal tables
# are ordered by address: registers and instruction counts of a few kernels move); with it off, the
# same sources, folder and environment give the same PTX. setarch may be refused in a container:
# then the build still works, only not bit-reproducibly (bench/ptx_stats.py allows for that).
norand=()
setarch "$(uname -m)" -R true >/dev/null 2>&1 && norand=(setarch "$(uname -m)" -R)
"${norand[@]}" nvcc -ptx -arch="$arch" -O3 -lineinfo -std=c++17 -Ikernels -o "$tmp/orig.ptx" "$in"
orig=$(sed -n 's/^\.version[[:space:]]*\([0-9.]*\).*/\1/p' "$tmp/orig.ptx" | head -1)
# Try ISA 8.0 (any CUDA 12 driver); if ptxas names a newer version the code needs, try that one.
try_version() {
    sed "s/^\.version[[:space:]].*/.version $1/" "$tmp/orig.ptx" > "$tmp/low.ptx"
    ptxas -arch=sm_90 -v "$tmp/low.ptx" -o "$tmp/low.cubin" > "$tmp/log" 2>&1
}
ver=""
if try_version 8.0; then
    ver="8.0 (lowered from $orig: loads on CUDA >= 12.0 drivers)"
else
    need=$(sed -n 's/.*requires PTX ISA \.version \([0-9]*\.[0-9]*\) or later.*/\1/p' "$tmp/log" | sort -V | tail -1)
    if [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "$orig" | sort -V | head -1)" = "$need" ] \
        && [ "$need" != "$orig" ] && try_version "$need"; then
        ver="$need (lowered from $orig; the code needs $need: loads on CUDA >= 12.${need#8.} drivers)"
    fi
fi
if [ -n "$ver" ]; then
    cp "$tmp/low.ptx" "$out"
    [ -z "$cubin" ] || { mkdir -p "$(dirname "$cubin")" && cp "$tmp/low.cubin" "$cubin"; }
elif ptxas -arch=sm_90 -v "$tmp/orig.ptx" -o "$tmp/orig.cubin" > "$tmp/log" 2>&1; then
    cp "$tmp/orig.ptx" "$out"
    [ -z "$cubin" ] || { mkdir -p "$(dirname "$cubin")" && cp "$tmp/orig.cubin" "$cubin"; }
    ver="$orig (needs a CUDA 13 driver: the code uses newer PTX than 8.x)"
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
