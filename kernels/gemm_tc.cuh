// gemm_tc.cuh — the tensor-core (WMMA) form of gemm_tile.cuh's engine, for --precision tf32 / bf16
// (kernels K_tf32 / K_bf16 with exactly K's signature; the launcher substitutes them). Included,
// never compiled alone.
//
// Math: acc (float) += round(A) . round(B) slice after slice, round = bf16 (cvt.rn: to nearest,
//   ties to even, 7 mantissa bits) or TF32 (cvt.rna, 10 mantissa bits); the products are exact
//   and the accumulation is float, as torch.autocast / allow_tf32 do. Everything else (loaders,
//   zero fill, epilogues, bias and GELU, the split-K partials) is the fp32 engine's.
// Layout in shared memory: the fp32 stages of gemm_tile.cuh (cp.async, k-major As[BK][BM+4],
//   Bs[BK][BN+4]) are filled by the same loaders; once a slice is in, every thread rounds its share
//   into the operand stage (bf16: separate k-major buffers with rows of BM+16 / BN+16 elements, so
//   every fragment pointer is 32-byte aligned; TF32: in place, the fp32 stage rows of BM+4 floats
//   already are), a barrier, then each warp loads its fragments: matrix_a col_major (element
//   (m, k) at k*ld + m), matrix_b row_major (element (k, n) at k*ld + n).
// Warps: a warp owns a WM x 32 block of the tile (BN/32 warps across, the rest down), i.e. FM x 2
//   accumulator fragments of 16 x 16 (FM = WM/16 = 1, 2 or 4). The fragment layout is opaque, so
//   the epilogue goes through shared memory: a warp stores one fragment to its 16 x 16 scratch and
//   each lane hands 8 consecutive elements of one row to the epilogue functor (16-byte runs). The
//   scratch is the bf16 operand stage (after a barrier), or a buffer of its own for TF32.
// Pipeline: as the fp32 engine (one cp.async stage ahead), plus one barrier per slice between the
//   rounding and the fragment loads.
#pragma once
#include <mma.h>
#include <cuda_bf16.h>
#include "gemm_splitk.cuh"

struct TcBf16 {
    typedef __nv_bfloat16 Frag;     // fragment element type
    typedef __nv_bfloat16 Store;    // operand stage element type
    static constexpr int K = 16;    // k per mma_sync
    static constexpr bool IN_PLACE = false;
    static __device__ Store cvt(float v) { return __float2bfloat16(v); }
};

struct TcTf32 {
    typedef nvcuda::wmma::precision::tf32 Frag;
    typedef float Store;
    static constexpr int K = 8;
    static constexpr bool IN_PLACE = true;
    static __device__ Store cvt(float v) { return nvcuda::wmma::__float_to_tf32(v); }
};

template <class C, class TP>
struct GtcCfg {
    static constexpr int WARPS = C::THREADS / 32;
    static constexpr int WARPS_N = C::BN / 32, WARPS_M = WARPS / WARPS_N;
    static constexpr int WM = C::BM / WARPS_M, FM = WM / 16, FN = 2;
    static_assert(WARPS_N * WARPS_M == WARPS && WM % 16 == 0 && GT_BK % TP::K == 0, "warp tiling");
    // Operand stage (bf16 only): k-major, rows 32-byte aligned.
    static constexpr int LDA = TP::IN_PLACE ? C::LDA : C::BM + 16, LDB = TP::IN_PLACE ? C::LDB : C::BN + 16;
    static constexpr int OP_A = TP::IN_PLACE ? 0 : GT_BK * LDA, OP_B = TP::IN_PLACE ? 0 : GT_BK * LDB;
    static constexpr int SCRATCH = WARPS * 256;   // floats of epilogue scratch
    // Bytes of the operand stage + scratch array (the scratch reuses the bf16 operand stage).
    static constexpr int EXTRA_BYTES = TP::IN_PLACE ? SCRATCH * 4
        : ((OP_A + OP_B) * 2 > SCRATCH * 4 ? (OP_A + OP_B) * 2 : SCRATCH * 4);
    typedef nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, TP::K, float> Acc;
    typedef nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, TP::K, typename TP::Frag, nvcuda::wmma::col_major> FragA;
    typedef nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, TP::K, typename TP::Frag, nvcuda::wmma::row_major> FragB;
};

// Shared memory of a tensor-core kernel with tile configuration C and precision TP.
#define GTC_SMEM(C, TP)                                                               \
    GT_SMEM(C)                                                                        \
    __shared__ __align__(32) unsigned char TcExtra[GtcCfg<C, TP>::EXTRA_BYTES];

// Rounds the fp32 stage (as, bs) into the operand stage (the same memory for TF32).
template <class C, class TP>
static __device__ inline void gtc_round(float* as, float* bs, typename TP::Store* ta, typename TP::Store* tb) {
    typedef GtcCfg<C, TP> G;
    for (int e = threadIdx.x; e < GT_BK * C::BM; e += C::THREADS) {
        int kk = e / C::BM, m = e - kk * C::BM;
        ta[kk * G::LDA + m] = TP::cvt(as[kk * C::LDA + m]);
    }
    for (int e = threadIdx.x; e < GT_BK * C::BN; e += C::THREADS) {
        int kk = e / C::BN, n = e - kk * C::BN;
        tb[kk * G::LDB + n] = TP::cvt(bs[kk * C::LDB + n]);
    }
}

// This warp's block of the tile: rows wm * WM.., columns wn * 32...
template <class C, class TP>
static __device__ inline void gtc_warp(int& wm, int& wn) {
    int warp = threadIdx.x >> 5;
    wn = warp % GtcCfg<C, TP>::WARPS_N;
    wm = warp / GtcCfg<C, TP>::WARPS_N;
}

template <class C, class TP>
static __device__ inline void gtc_compute(const typename TP::Store* ta, const typename TP::Store* tb,
                                          typename GtcCfg<C, TP>::Acc (&acc)[GtcCfg<C, TP>::FM][2], int wm, int wn) {
    typedef GtcCfg<C, TP> G;
    for (int k = 0; k < GT_BK; k += TP::K) {
        typename G::FragA a[G::FM];
        typename G::FragB b[2];
CU_UNROLL
        for (int i = 0; i < G::FM; i++) nvcuda::wmma::load_matrix_sync(a[i], ta + k * G::LDA + wm * G::WM + 16 * i, G::LDA);
CU_UNROLL
        for (int j = 0; j < 2; j++) nvcuda::wmma::load_matrix_sync(b[j], tb + k * G::LDB + wn * 32 + 16 * j, G::LDB);
CU_UNROLL
        for (int i = 0; i < G::FM; i++)
CU_UNROLL
            for (int j = 0; j < 2; j++) nvcuda::wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
    }
}

template <class C, class TP>
static __device__ inline void gtc_zero(typename GtcCfg<C, TP>::Acc (&acc)[GtcCfg<C, TP>::FM][2]) {
CU_UNROLL
    for (int i = 0; i < GtcCfg<C, TP>::FM; i++)
CU_UNROLL
        for (int j = 0; j < 2; j++) nvcuda::wmma::fill_fragment(acc[i][j], 0.0f);
}

// Hands the warp's fragments of tile (m0, n0) to the epilogue functor through the warp's scratch
// (16 x 16 floats): lane l takes row l/2, columns 8*(l%2)..+8 of each fragment.
template <class C, class TP, class Epi>
static __device__ inline void gtc_epilogue(int M, int N, int m0, int n0,
                                           typename GtcCfg<C, TP>::Acc (&acc)[GtcCfg<C, TP>::FM][2], int wm, int wn,
                                           float* scratch, Epi& epi) {
    typedef GtcCfg<C, TP> G;
    int lane = threadIdx.x & 31, r = lane >> 1, c0 = (lane & 1) * 8;
    float* cs = scratch + (threadIdx.x >> 5) * 256;
CU_UNROLL
    for (int i = 0; i < G::FM; i++)
CU_UNROLL
        for (int j = 0; j < 2; j++) {
            nvcuda::wmma::store_matrix_sync(cs, acc[i][j], 16, nvcuda::wmma::mem_row_major);
            __syncwarp();
            int m = m0 + wm * G::WM + 16 * i + r, n = n0 + wn * 32 + 16 * j + c0;
            if (m < M) {
                epi.row(m);
CU_UNROLL
                for (int q = 0; q < 8; q += 4) {
                    const float* v = cs + r * 16 + c0 + q;
                    if (epi.vec && n + q + 3 < N) {
                        epi.put4(m, n + q, make_float4(v[0], v[1], v[2], v[3]));
                    } else {
CU_UNROLL
                        for (int e = 0; e < 4; e++)
                            if (n + q + e < N) epi.put(m, n + q + e, v[e]);
                    }
                }
            }
            __syncwarp();   // the next store_matrix_sync overwrites cs
        }
}

// The operand stage and the epilogue scratch inside TcExtra (see GtcCfg::EXTRA_BYTES).
template <class C, class TP>
struct GtcSmem {
    typename TP::Store* ta;
    typename TP::Store* tb;
    float* scratch;
    __device__ GtcSmem(float* As, float* Bs, unsigned char* extra) {
        typedef GtcCfg<C, TP> G;
        if (TP::IN_PLACE) {
            ta = reinterpret_cast<typename TP::Store*>(As);
            tb = reinterpret_cast<typename TP::Store*>(Bs);
        } else {
            ta = reinterpret_cast<typename TP::Store*>(extra);
            tb = ta + G::OP_A;
        }
        scratch = reinterpret_cast<float*>(extra);
    }
    // Operand stage of fp32 stage s (TF32 rounds the fp32 stage in place).
    __device__ typename TP::Store* a(float* As, int s) const {
        return TP::IN_PLACE ? reinterpret_cast<typename TP::Store*>(As + s * C::STAGE_A) : ta;
    }
    __device__ typename TP::Store* b(float* Bs, int s) const {
        return TP::IN_PLACE ? reinterpret_cast<typename TP::Store*>(Bs + s * C::STAGE_B) : tb;
    }
};

// One slice on the tensor cores: hook on the fp32 stage, round, barrier, multiply.
template <class C, class TP, class Hook>
static __device__ inline void gtc_slice(float* As, float* Bs, int cur, const GtcSmem<C, TP>& sm,
                                        typename GtcCfg<C, TP>::Acc (&acc)[GtcCfg<C, TP>::FM][2], int wm, int wn,
                                        Hook& hook, int k0) {
    float* as = As + cur * C::STAGE_A;
    float* bs = Bs + cur * C::STAGE_B;
    hook(as, bs, k0);
    if (TP::IN_PLACE) __syncthreads();   // the hook reads the fp32 values the rounding overwrites
    gtc_round<C, TP>(as, bs, sm.a(As, cur), sm.b(Bs, cur));
    __syncthreads();
    gtc_compute<C, TP>(sm.a(As, cur), sm.b(Bs, cur), acc, wm, wn);
}

// gt_run_tiles on the tensor cores: tiles [t0, t1) of block row m0; epi.put/put4/row as in
// gt_epilogue (a store functor, not the fp32 engine's per-tile functor).
template <class C, class TP, class LA, class LB, class Store>
static __device__ inline void gtc_run_tiles(LA& la, LB& lb, int M, int N, int m0, int t0, int t1, int K, float* As,
                                            float* Bs, unsigned char* extra, Store& st) {
    typedef GtcCfg<C, TP> G;
    GtcSmem<C, TP> sm(As, Bs, extra);
    int wm, wn;
    gtc_warp<C, TP>(wm, wn);
    typename G::Acc acc[G::FM][2];
    gtc_zero<C, TP>(acc);
    if (t0 >= t1) return;
    int nk = (K + GT_BK - 1) / GT_BK;
    GtNoSliceHook nh;
    if (nk == 0) {
        for (int t = t0; t < t1; t++) {
            __syncthreads();
            gtc_epilogue<C, TP>(M, N, m0, t * C::BN, acc, wm, wn, sm.scratch, st);
        }
        return;
    }
    la.fetch(m0, 0, As);
    lb.fetch(t0 * C::BN, 0, Bs);
    int u = 0;
    for (int tile = t0; tile < t1; tile++) {
        for (int slice = 0; slice < nk; slice++, u++) {
            gt_cp_wait_all();
            __syncthreads();
            int cur = u & 1, nxt = cur ^ 1;
            bool inTile = slice + 1 < nk;
            if (inTile || tile + 1 < t1) {
                int fk = inTile ? (slice + 1) * GT_BK : 0, fn = (inTile ? tile : tile + 1) * C::BN;
                la.fetch(m0, fk, As + nxt * C::STAGE_A);
                lb.fetch(fn, fk, Bs + nxt * C::STAGE_B);
            }
            gtc_slice<C, TP>(As, Bs, cur, sm, acc, wm, wn, nh, slice * GT_BK);
        }
        __syncthreads();   // every warp is done with the operand stage the scratch may share
        gtc_epilogue<C, TP>(M, N, m0, tile * C::BN, acc, wm, wn, sm.scratch, st);
        gtc_zero<C, TP>(acc);
    }
}

// gt_weight_part on the tensor cores (the row sums for db read the fp32 stage, unrounded), with
// gemm_splitk.cuh's finish (VEC: its 128-bit loads).
template <class C, class TP, bool VEC, class LA, class LB>
static __device__ inline void gtc_weight_part(LA& la, LB& lb, int M, int N, int kBegin, int kEnd, const GtSplitK& sp,
                                              float* As, float* Bs, unsigned char* extra) {
    static_assert(C::BM <= C::THREADS, "row sums need a thread per row");
    typedef GtcCfg<C, TP> G;
    GtcSmem<C, TP> sm(As, Bs, extra);
    int m0 = blockIdx.y * C::BM, n0 = blockIdx.x * C::BN;
    float* out = sp.ws + blockIdx.z * sp.SS;
    int wm, wn;
    gtc_warp<C, TP>(wm, wn);
    typename G::Acc acc[G::FM][2];
    gtc_zero<C, TP>(acc);
    GtRowSums<C> rows{sp.db != 0 && blockIdx.x == 0, 0.0f};
    int nk = kEnd > kBegin ? (kEnd - kBegin + GT_BK - 1) / GT_BK : 0;
    if (nk > 0) {
        la.fetch(m0, kBegin, As);
        lb.fetch(n0, kBegin, Bs);
        la.commit(As);
        lb.commit(Bs);
        for (int t = 0; t < nk; t++) {
            gt_cp_wait_all();
            __syncthreads();
            int cur = t & 1, nxt = cur ^ 1;
            bool more = t + 1 < nk;
            if (more) {
                la.fetch(m0, kBegin + (t + 1) * GT_BK, As + nxt * C::STAGE_A);
                lb.fetch(n0, kBegin + (t + 1) * GT_BK, Bs + nxt * C::STAGE_B);
            }
            gtc_slice<C, TP>(As, Bs, cur, sm, acc, wm, wn, rows, kBegin + t * GT_BK);
            if (more) {   // a GtStridedKV's registers (gt_mainloop)
                la.commit(As + nxt * C::STAGE_A);
                lb.commit(Bs + nxt * C::STAGE_B);
            }
        }
    }
    __syncthreads();
    GtStoreBias st(out, N, (const float*)0);
    gtc_epilogue<C, TP>(M, N, m0, n0, acc, wm, wn, sm.scratch, st);
    if (rows.on && (int)threadIdx.x < C::BM && m0 + (int)threadIdx.x < M)
        out[(long long)M * N + m0 + threadIdx.x] = rows.s;
    gt_split_finish<C, VEC>(sp, M, N);
}
