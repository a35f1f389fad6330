// gemm_splitk.cuh — the split-K weight gradient of gemm_tile.cuh's engine (gemm.cu's Linear / 1x1
// weight gradients, conv2d.cu's): each block's partial, and the fixed-order sum of the partials
// done by the blocks that finish last, in the same launch. Included (by gemm_tc.cuh), never
// compiled alone.
//
// Math: dW (M x N) = sum_{s<S} P_s and db (M) = sum_{s<S} r_s, where block (x, y, s) of the grid
//   (ceil(N/BN), ceil(M/BM), S) computes the tile (m0 = y*BM, n0 = x*BN) of P_s = A . B over its
//   k range, and r_s = the row sums of A over it (blocks of the first column tile, when db is
//   wanted): the bias gradient.
// Layout: partial s at ws + s*SS (SS % 4 == 0, ws 16-byte aligned): P_s row-major M x N, then r_s
//   at ws + s*SS + M*N. Tickets: unsigned counters, zero between launches, NG + 1 per tile, tile
//   t = y*gridDim.x + x at tickets + t*(NG + 1): one per group, then one for the groups.
// The finish ("last block reduces", two levels so that no block sums more than ~2 sqrt(S)
//   partials): the splits form NG = ceil(S/G) groups of G consecutive ones. A block stores its
//   partial, makes it visible device-wide (__threadfence), and thread 0 draws a ticket of its
//   group (an integer atomicAdd). The block that draws the group's last ticket sums the group's
//   partials in split order into the group's first partial (NG > 1) or, when there is one group,
//   into dW / db; then it draws a ticket of the tile's group counter, and the last of those sums
//   the NG group sums in group order into dW / db. Every element is summed in one fixed order
//   (split order within a group, group order across), so the bits do not depend on which block
//   finishes when; no float atomics. The block that draws a counter's last ticket sets it back
//   to 0 (nobody else draws from it in this launch), so the next launch, or a CUDA graph's
//   replay, finds it zero. accumulate bit 0 / bit 1: dW / db get the sum added instead of
//   replaced (a parameter's slice of the zeroed flat gradient: no separate add pass).
// Loads of other blocks' partials go through L2 (__ldcg: no stale L1 line), 128-bit when N % 4 == 0
// and the kernel asks (VEC: gemm.cu's, whose operand loads are 128-bit too; conv2d.cu's im2col
// operand moves float by float, and its finish does too, so that the PTX statistics the
// prediction reads call the kernel what its bulk is: scalar).
#pragma once
#include "gemm_tile.cuh"

// What a weight-gradient launch adds to its tile arguments: the partials, the outputs and the tickets.
struct GtSplitK {
    float* ws; long long SS; int S, G;
    float* dw; float* db; unsigned* tickets; int accumulate;
};

// Row sums of the A slices over k (A = dY in a weight gradient: the bias gradient), thread m < BM
// summing row m0 + m, when on.
template <class C>
struct GtRowSums {
    bool on; float s;
    __device__ void operator()(const float* as, const float*, int) {
        if (!on || (int)threadIdx.x >= C::BM) return;
CU_UNROLL
        for (int kk = 0; kk < GT_BK; kk++) s += as[kk * C::LDA + threadIdx.x];
    }
};

// True in every thread of the block that draws the last of `count` tickets from *counter (after
// every thread's earlier stores were made visible device-wide); that block resets the counter.
static __device__ inline bool gt_last_ticket(unsigned* counter, unsigned count) {
    __threadfence();
    __syncthreads();
    int last = 0;
    if (threadIdx.x == 0) {
        last = atomicAdd(counter, 1u) == count - 1u;
        if (last) atomicExch(counter, 0u);
    }
    last = __syncthreads_count(last);
    if (last) __threadfence();   // the other blocks' partials, seen after their tickets
    return last != 0;
}

// out = the sum of the partials s = s0, s0 + step, ... < s1 (in that order) over the block's tile
// (and its db rows when rows): into dW / db when final (added when sp.accumulate says), else into
// partial s0 itself (each element read before it is written, by the same thread).
template <class C, bool VEC>
static __device__ inline void gt_sum_partials(const GtSplitK& sp, int M, int N, int s0, int s1, int step,
                                              bool rows, bool final_) {
    int m0 = blockIdx.y * C::BM, n0 = blockIdx.x * C::BN;
    int rmax = cu_min(C::BM, M - m0), cmax = cu_min(C::BN, N - n0);
    const float* src = sp.ws;
    float* grp = sp.ws + (long long)s0 * sp.SS;
    bool addW = final_ && (sp.accumulate & 1), addB = final_ && (sp.accumulate & 2);
    if (VEC && (N & 3) == 0) {   // n0, N, SS multiples of 4: whole 16-byte runs
        constexpr int QR = C::BN / 4;
        bool vout = !final_ || gt_aligned(sp.dw, N);
        for (int q = threadIdx.x; q < C::BM * QR; q += C::THREADS) {
            int r = q / QR, c = 4 * (q % QR);
            if (r >= rmax || c >= cmax) continue;
            long long e = (long long)(m0 + r) * N + n0 + c;
            float4 t = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            for (int s = s0; s < s1; s += step) {
                float4 v = __ldcg(reinterpret_cast<const float4*>(src + (long long)s * sp.SS + e));
                t.x += v.x; t.y += v.y; t.z += v.z; t.w += v.w;
            }
            float* d = final_ ? sp.dw + e : grp + e;
            if (vout) {
                if (addW) {
                    float4 o = *reinterpret_cast<const float4*>(d);
                    t = make_float4(o.x + t.x, o.y + t.y, o.z + t.z, o.w + t.w);
                }
                *reinterpret_cast<float4*>(d) = t;
            } else {
                d[0] = addW ? d[0] + t.x : t.x; d[1] = addW ? d[1] + t.y : t.y;
                d[2] = addW ? d[2] + t.z : t.z; d[3] = addW ? d[3] + t.w : t.w;
            }
        }
    } else {
        for (int q = threadIdx.x; q < C::BM * C::BN; q += C::THREADS) {
            int r = q / C::BN, c = q % C::BN;
            if (r >= rmax || c >= cmax) continue;
            long long e = (long long)(m0 + r) * N + n0 + c;
            float t = 0.0f;
            for (int s = s0; s < s1; s += step) t += __ldcg(src + (long long)s * sp.SS + e);
            float* d = final_ ? sp.dw + e : grp + e;
            *d = addW ? *d + t : t;
        }
    }
    if (!rows) return;
    for (int r = threadIdx.x; r < rmax; r += C::THREADS) {
        long long e = (long long)M * N + m0 + r;
        float t = 0.0f;
        for (int s = s0; s < s1; s += step) t += __ldcg(src + (long long)s * sp.SS + e);
        float* d = final_ ? sp.db + m0 + r : grp + e;
        *d = addB ? *d + t : t;
    }
}

// The finish of block (x, y, blockIdx.z) once its partial is stored (see the header).
template <class C, bool VEC>
static __device__ inline void gt_split_finish(const GtSplitK& sp, int M, int N) {
    bool rows = sp.db != 0 && blockIdx.x == 0;
    int ng = (sp.S + sp.G - 1) / sp.G, g = blockIdx.z / sp.G;
    int g0 = g * sp.G, g1 = cu_min(sp.S, g0 + sp.G);
    unsigned* cnt = sp.tickets + (long long)(blockIdx.y * gridDim.x + blockIdx.x) * (ng + 1);
    if (!gt_last_ticket(cnt + g, (unsigned)(g1 - g0))) return;
    gt_sum_partials<C, VEC>(sp, M, N, g0, g1, 1, rows, ng == 1);
    if (ng == 1 || !gt_last_ticket(cnt + ng, (unsigned)ng)) return;
    gt_sum_partials<C, VEC>(sp, M, N, 0, sp.S, sp.G, rows, true);
}

// One split-K partial of a weight gradient: the block tile (m0, n0) of A . B over k in
// [kBegin, kEnd) stored at sp.ws + blockIdx.z*SS (M x N, row stride N) and, when sp.db (blocks
// of the first column tile only), the M row sums of A over the same k after it; then the finish
// (VEC: 128-bit loads of the partials, see the header).
template <class C, bool VEC, class LA, class LB>
static __device__ inline void gt_weight_part(LA& la, LB& lb, int M, int N, int kBegin, int kEnd,
                                             const GtSplitK& sp, float* As, float* Bs) {
    static_assert(C::BM <= C::THREADS, "row sums need a thread per row");
    int m0 = blockIdx.y * C::BM, n0 = blockIdx.x * C::BN;
    float* out = sp.ws + blockIdx.z * sp.SS;
    int rg, cg;
    gt_thread_groups<C>(rg, cg);
    float acc[C::TM][C::TN];
    gt_zero<C>(acc);
    GtRowSums<C> rows{sp.db != 0 && blockIdx.x == 0, 0.0f};
    gt_mainloop<C>(la, lb, m0, n0, kBegin, kEnd, As, Bs, acc, rg, cg, rows);
    GtStoreBias st(out, N, (const float*)0);
    gt_epilogue<C>(M, N, m0, n0, acc, rg, cg, st);
    if (rows.on && (int)threadIdx.x < C::BM && m0 + (int)threadIdx.x < M)
        out[(long long)M * N + m0 + threadIdx.x] = rows.s;
    gt_split_finish<C, VEC>(sp, M, N);
}
