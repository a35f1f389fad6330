// Helpers shared by the op checks (kernels/checks/<op>.cpp): the launch geometry of the Java
// launchers (src/main/java/convunext/backend/cuda/ops/Launcher.java, LinearOps.splitK), exact-size
// buffers (so ASan sees any access past an end), NaN-filled outputs (a position a kernel should
// write but does not shows up) and a norm-relative comparison with a plain double reference.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "check.h"

namespace opcheck {
using namespace emucheck;

constexpr int THREADS = 256;   // Launcher.THREADS

inline unsigned cdiv(long long a, long long b) { return (unsigned)((a + b - 1) / b); }

/** Launcher.grid1D: 1-D grid for a grid-stride loop over n elements. */
inline Dim grid1d(long long n) { return Dim(std::max(1u, std::min(cdiv(n, THREADS), 8192u))); }

inline Dim block1d() { return Dim(THREADS); }

/** Launcher.chunks: {chunks per image, chunk length} of the two-level channel reductions. */
inline void chunks(int n, int c, int p, int& cpi, int& len) {
    int want = std::max(1, (int)cdiv(1024, (long long)n * c));
    cpi = std::max(1, std::min(want, (int)cdiv(std::max(p, 1), 64)));
    len = std::max(1, (int)cdiv(std::max(p, 1), cpi));
    cpi = std::max(1, (int)cdiv(std::max(p, 1), len));
}

/** LinearOps.bm: tile height for M rows (least padded rows, then the taller tile). */
inline int bm(int m) {
    int best = 128;
    long long bestRows = -1;
    for (int b : {128, 64, 32}) {
        long long rows = (long long)cdiv(std::max(m, 1), b) * b;
        if (bestRows < 0 || rows < bestRows) { best = b; bestRows = rows; }
    }
    return best;
}

inline int bn(int bmv) { return bmv == 32 ? 256 : 128; }   // LinearOps.bn

/** LinearOps.tilesPerBlock: column tiles per block (> 1 only for K <= 128 and large grids). */
inline int tiles_per_block(long long blocks, int tiles, int kk) {
    if (kk > 128) return 1;
    int tpb = (int)std::max(1LL, std::min(4LL, blocks / 2048));
    return std::max(1, std::min(tpb, tiles));
}

/** LinearOps.grid: the grid of a forward / data-gradient launch (C [n] of m x p, K = kk) and its tpb. */
inline Dim gemm_grid(int n, int m, int p, int kk, int& tpb) {
    int b = bm(m), tiles = (int)cdiv(std::max(p, 1), bn(b)), rows = (int)cdiv(m, b);
    tpb = tiles_per_block((long long)tiles * rows * n, tiles, kk);
    return Dim(cdiv(tiles, tpb), rows, n);
}

struct WTile { int bm, bn, threads; };

/** LinearOps.leastPadded: the tile of least padded area, then the larger tile. */
inline WTile least_padded(const std::vector<WTile>& tiles, int m, long long nc) {
    WTile best = tiles[0];
    long long bestArea = -1;
    for (const WTile& t : tiles) {
        long long area = (long long)cdiv(std::max(m, 1), t.bm) * t.bm * cdiv(std::max(nc, 1LL), t.bn) * t.bn;
        if (bestArea < 0 || area < bestArea || (area == bestArea && t.bm * t.bn > best.bm * best.bn)) {
            best = t;
            bestArea = area;
        }
    }
    return best;
}

/** LinearOps.WEIGHT_TILES / weightTile. */
inline WTile gemm_weight_tile(int m, long long nc) {
    return least_padded({{128, 128, 256}, {128, 32, 128}, {32, 128, 128}, {64, 64, 128}, {32, 32, 64}}, m, nc);
}

/** LinearOps.partialStride: floats per split-K partial (dW, then db), rounded up to 4. */
inline long long partial_stride(int m, long long nc) { return ((long long)m * nc + m + 3) / 4 * 4; }

/** LinearOps.splitK: {chunks per image, chunk length} of a weight gradient's pixel axis. */
inline void split_k(int n, int m, long long nc, int p, WTile t, int& cpi, int& len) {
    long long tiles = (long long)cdiv(std::max(nc, 1LL), t.bn) * cdiv(std::max(m, 1), t.bm);
    long long wantBlocks = 528;   // LinearOps.WEIGHT_BLOCKS
    long long want = std::max(1LL, (wantBlocks + tiles * n - 1) / (tiles * n));
    cpi = (int)std::max(1LL, std::min(want, (long long)cdiv(std::max(p, 1), 128)));
    long long cap = std::max(1LL, (16LL << 20) / std::max(1LL, (long long)n * partial_stride(m, nc)));
    cpi = (int)std::max(1LL, std::min((long long)cpi, cap));
    len = ((int)cdiv(std::max(p, 1), cpi) + 15) / 16 * 16;
    cpi = std::max(1, (int)cdiv(std::max(p, 1), len));
}

/** Launcher.fastDiv: n / d == (n * m) >> s for 0 <= n < 2^31. */
inline void fast_div(int d, unsigned& m, int& s) {
    int l = 0;
    while ((1LL << l) < d) l++;
    unsigned __int128 num = (unsigned __int128)1 << (31 + l);
    m = (unsigned)((num + d - 1) / d);
    s = 31 + l;
}

inline std::vector<float> uniform(std::size_t n, float lo, float hi, std::uint64_t seed) {
    std::mt19937_64 r(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(r);
    return v;
}

inline std::vector<float> scaled(std::vector<float> v, float scale, float shift) {
    for (auto& x : v) x = x * scale + shift;
    return v;
}

/** An output buffer of n floats, all NaN: an element the kernel fails to write stays NaN. */
inline std::vector<float> nans(std::size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

/** max|got - want| / max|want| <= tol (as the Java Parity helper), every element finite. */
inline void expect_close(const std::vector<double>& want, const float* got, double tol, const std::string& what) {
    double maxDiff = 0, maxRef = 0;
    std::size_t bad = want.size();
    for (std::size_t i = 0; i < want.size(); i++) {
        if (!std::isfinite(got[i]) && bad == want.size()) bad = i;
        maxDiff = std::max(maxDiff, std::fabs((double)got[i] - want[i]));
        maxRef = std::max(maxRef, std::fabs(want[i]));
    }
    if (bad != want.size()) {
        expect(false, what + ": element " + std::to_string(bad) + " is " + std::to_string(got[bad]));
        return;
    }
    expect(maxRef > 0, what + ": reference is all zeros (the check cannot fail)");
    double e = maxRef == 0 ? maxDiff : maxDiff / maxRef;
    expect(e <= tol, what + ": relative error " + std::to_string(e) + " > " + std::to_string(tol));
}

inline void expect_close(const std::vector<double>& want, const Buf<float>& got, double tol, const std::string& what) {
    expect(got.n == want.size(), what + ": size");
    if (got.n == want.size()) expect_close(want, got.p, tol, what);
}

}  // namespace opcheck
