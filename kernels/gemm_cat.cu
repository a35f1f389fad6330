// gemm_cat.cu — a Linear over channels (a 1x1 convolution) applied to the channel concatenation of
// two tensors, without the concatenated tensor: the decoder's Conv1x1(cat[skip', low]) in one GEMM
// per pass instead of a concat copy plus the GEMM (and, backward, the GEMM plus a split copy).
//
// Math (per image z; all matrices row-major float32; X[z] = cat(X0[z], X1[z]) along rows):
//   X0[z] [split, P], X1[z] [K - split, P]; W [M, K] (M = Co, K = Ca + Cb, split = Ca).
//   gemm_cat_forward_*:              C[z] (M x P) = W . X[z] + bias (per row, may be null)
//                                    = W[:, :split] . X0[z] + W[:, split:] . X1[z] + bias.
//   gemm_cat_backward_data_*:        D[z] (K x P) = W^T . dY[z], rows [0, split) stored into D0[z],
//                                    rows [split, K) into D1[z] (a null D0 / D1: those rows are not
//                                    stored); added to what D0 / D1 hold when acc0 / acc1 != 0.
//   gemm_cat_backward_weight_part_<BM>x<BN>: dW (M x K) = sum_z dY[z] . X[z]^T and db = the row
//                                    sums of dY, split over the pixels exactly as gemm.cu's
//                                    gemm_backward_weight_part_* (gemm_splitk.cuh's fixed-order
//                                    finish; same ws / tickets / accumulate contract).
// Only the operand loaders (GtCatRows, GtCatKV / GtCatKVSel: the row index picks X0 or X1) and the
// data gradient's store (GtStoreAccCat) differ from gemm.cu: the tile engine, the slice order and the
// epilogues are gemm_tile.cuh's / gemm_tc.cuh's, so every output element is the same sum in the
// same order as gemm.cu's kernel on the materialised concat (bit-identical to it; the tests check).
// Layout: NCHW; image z of X0 is at X0 + z*strideB0 (= z*split*P), of X1 at X1 + z*strideB1, of
//   C / dY at z*strideC (the weight part: dY at z*strideA).
// Tensor cores (--precision tf32 / bf16): each kernel has a K_tf32 and K_bf16 form with K's
//   signature (gemm_tc.cuh), substituted by the launcher as for gemm.cu.
// Launch: exactly gemm.cu's geometry for the same M, N (= P), K (LinearCatOps reuses LinearOps'
//   tile choice, grid, split-K and tickets): forward / data 256 threads, grid
//   (ceil(ceil(P/BN)/tpb), ceil(M/BM), batch); weight part (ceil(K/BN), ceil(M/BM), batch*cpi).
#include "gemm_tc.cuh"

// B(k, o) of the forward: row k of X0 (k < split) or row k - split of X1, outer index o contiguous
// (GtStrided<R, NT, false> with the row's base chosen per k). 16-byte pieces when both parts are
// aligned with ld % 4 == 0 (a piece is 4 consecutive o at one k, so it never straddles the parts).
template <int R, int NT>
struct GtCatRows {
    static constexpr int LD = R + GT_PAD;
    static constexpr int NE = R * GT_BK;
    static constexpr int EPT = (NE + NT - 1) / NT;
    static constexpr int NV = NE / 4;
    static constexpr int PPT = (NV + NT - 1) / NT;
    const float* p0;
    const float* p1;
    long long ld;
    int split, oEnd, kEnd;
    bool vec;

    __device__ GtCatRows(const float* a, const float* b, long long ld_, int split_, int oEnd_, int kEnd_)
        : p0(a), p1(b), ld(ld_), split(split_), oEnd(oEnd_), kEnd(kEnd_), vec(gt_aligned(a, ld_) && gt_aligned(b, ld_)) {}

    __device__ const float* row(int k) const {
        return k < split ? p0 + (long long)k * ld : p1 + (long long)(k - split) * ld;
    }

    __device__ void fetch(int o0, int k0, float* S) const {
        if (vec) {
            static_assert(NT % (R / 4) == 0, "pieces: fixed outer index per thread");
            constexpr int KSTEP = NT / (R / 4);
            int oo = 4 * (threadIdx.x % (R / 4)), kk = threadIdx.x / (R / 4);
            int o = o0 + oo, k = k0 + kk;
            float* dst = S + kk * LD + oo;
CU_UNROLL
            for (int i = 0; i < PPT; i++) {
                if (NV % NT != 0 && (int)threadIdx.x + NT * i >= NV) break;
                int ki = k + KSTEP * i;
                if (ki < kEnd && o + 3 < oEnd) {
                    gt_cp16(dst + i * KSTEP * LD, row(ki) + o);
                } else {
CU_UNROLL
                    for (int j = 0; j < 4; j++) {
                        bool ok = ki < kEnd && o + j < oEnd;
                        gt_cp4(dst + i * KSTEP * LD + j, ok ? row(ki) + o + j : p0, ok);
                    }
                }
            }
            return;
        }
        static_assert(NT % R == 0, "elements: fixed outer index per thread");
        constexpr int KSTEP = NT / R;
        int oo = threadIdx.x % R, kk = threadIdx.x / R;
        int o = o0 + oo, k = k0 + kk;
        float* dst = S + kk * LD + oo;
        bool ook = o < oEnd;
CU_UNROLL
        for (int i = 0; i < EPT; i++) {
            if (NE % NT != 0 && (int)threadIdx.x + NT * i >= NE) break;
            int ki = k + KSTEP * i;
            bool ok = ook && ki < kEnd;
            gt_cp4(dst + i * KSTEP * LD, ok ? row(ki) + o : p0, ok);
        }
    }
    __device__ void commit(float*) const {}
};

// B(k, o) = X[z][o][k] of the weight gradient (k-contiguous rows o: row o of X0 or o - split of X1),
// GtStridedKV's pieces with each of this thread's rows resolved once: a weight-part block keeps one
// column tile (gt_weight_part / gtc_weight_part fetch every slice at o0 = blockIdx.x * BN, which
// the constructor takes), so the per-slice work is GtStridedKV's (a base plus k).
template <int R, int NT>
struct GtCatKV {
    static constexpr int LD = R + GT_PAD;
    static constexpr int NV = R * GT_BK / 4;
    static constexpr int PPT = NV / NT;
    static constexpr int OSTEP = NT / 4;
    static_assert(NV % NT == 0 && NT % 4 == 0, "whole pieces per thread, fixed k per thread");
    const float* rows[PPT];   // this thread's rows of the tile; null outside the matrix
    int kEnd;
    bool vec;
    float r[PPT][4];

    __device__ GtCatKV(const float* a, const float* b, long long ld, int split, int oEnd, int kEnd_, int o0)
        : kEnd(kEnd_), vec(gt_aligned(a, ld) && gt_aligned(b, ld)) {
        int o = o0 + (int)threadIdx.x / 4;
CU_UNROLL
        for (int i = 0; i < PPT; i++) {
            int oi = o + OSTEP * i;
            rows[i] = oi >= oEnd ? (const float*)0 : oi < split ? a + (long long)oi * ld : b + (long long)(oi - split) * ld;
        }
    }

    __device__ void fetch(int, int k0, float*) {
        int k = k0 + 4 * ((int)threadIdx.x % 4);
CU_UNROLL
        for (int i = 0; i < PPT; i++) {
            const float* src = rows[i];
            if (src && vec && k + 3 < kEnd) {
                float4 v = *reinterpret_cast<const float4*>(src + k);
                r[i][0] = v.x; r[i][1] = v.y; r[i][2] = v.z; r[i][3] = v.w;
            } else {
CU_UNROLL
                for (int j = 0; j < 4; j++) r[i][j] = src && k + j < kEnd ? src[k + j] : 0.0f;
            }
        }
    }

    __device__ void commit(float* S) const {
        float* dst = S + 4 * ((int)threadIdx.x % 4) * LD + (int)threadIdx.x / 4;
CU_UNROLL
        for (int i = 0; i < PPT; i++)
CU_UNROLL
            for (int j = 0; j < 4; j++) dst[j * LD + OSTEP * i] = r[i][j];
    }
};

// GtCatKV choosing each row's base per slice instead (the tensor-core forms: there the resolved
// rows cost more registers than they save; ptxas sm_90, 128x128 tile: tf32 0 vs 60 B spilled,
// bf16 52 vs 108 B; fp32 the other way round, 84 B vs none).
template <int R, int NT>
struct GtCatKVSel {
    static constexpr int LD = R + GT_PAD;
    static constexpr int NV = R * GT_BK / 4;
    static constexpr int PPT = NV / NT;
    static constexpr int OSTEP = NT / 4;
    static_assert(NV % NT == 0 && NT % 4 == 0, "whole pieces per thread, fixed k per thread");
    const float* p0;
    const float* p1;
    long long ld;
    int split, oEnd, kEnd;
    bool vec;
    float r[PPT][4];

    __device__ GtCatKVSel(const float* a, const float* b, long long ld_, int split_, int oEnd_, int kEnd_)
        : p0(a), p1(b), ld(ld_), split(split_), oEnd(oEnd_), kEnd(kEnd_), vec(gt_aligned(a, ld_) && gt_aligned(b, ld_)) {}

    __device__ void fetch(int o0, int k0, float*) {
        int o = o0 + (int)threadIdx.x / 4, k = k0 + 4 * ((int)threadIdx.x % 4);
CU_UNROLL
        for (int i = 0; i < PPT; i++) {
            int oi = o + OSTEP * i;
            bool oin = oi < oEnd;
            const float* src = oin ? (oi < split ? p0 + (long long)oi * ld : p1 + (long long)(oi - split) * ld) + k : p0;
            if (vec && oin && k + 3 < kEnd) {
                float4 v = *reinterpret_cast<const float4*>(src);
                r[i][0] = v.x; r[i][1] = v.y; r[i][2] = v.z; r[i][3] = v.w;
            } else {
CU_UNROLL
                for (int j = 0; j < 4; j++) r[i][j] = oin && k + j < kEnd ? src[j] : 0.0f;
            }
        }
    }

    __device__ void commit(float* S) const {
        float* dst = S + 4 * ((int)threadIdx.x % 4) * LD + (int)threadIdx.x / 4;
CU_UNROLL
        for (int i = 0; i < PPT; i++)
CU_UNROLL
            for (int j = 0; j < 4; j++) dst[j * LD + OSTEP * i] = r[i][j];
    }
};

// D(m, n) of image blockIdx.z into D0 (m < split) or D1 (m >= split), each added to when its acc
// flag is set; a null part is not stored (its gradient was not asked for). GtStoreAcc with the
// row's base chosen per m. It holds the kernel's own parameters unchanged and does the image and
// row arithmetic in row(): alive through the main loop, it then costs no registers there (the
// compiler reloads parameters), which keeps the 128-row tile from spilling.
struct GtStoreAccCat {
    float* D0; float* D1; long long strideD0, strideD1, ldc; int split, acc0, acc1;
    float* base; bool acc, vec;
    __device__ GtStoreAccCat(float* d0, float* d1, long long s0, long long s1, long long l, int s, int a0, int a1)
        : D0(d0), D1(d1), strideD0(s0), strideD1(s1), ldc(l), split(s), acc0(a0), acc1(a1), base(0), acc(false), vec(false) {}
    __device__ void row(int m) {
        bool lo = m < split;
        float* d = lo ? D0 : D1;
        base = d ? d + blockIdx.z * (lo ? strideD0 : strideD1) + (long long)(lo ? m : m - split) * ldc : (float*)0;
        acc = (lo ? acc0 : acc1) != 0;
        vec = (!D0 || gt_aligned(D0, strideD0)) && (!D1 || gt_aligned(D1, strideD1)) && (ldc & 3) == 0;
    }
    __device__ void put(int, int n, float v) {
        if (!base) return;
        float* p = base + n;
        *p = acc ? *p + v : v;
    }
    __device__ void put4(int, int n, float4 v) {
        if (!base) return;
        float4* p = reinterpret_cast<float4*>(base + n);
        if (acc) {
            float4 o = *p;
            v = make_float4(o.x + v.x, o.y + v.y, o.z + v.z, o.w + v.w);
        }
        *p = v;
    }
};

// Hands each finished column tile of block row m0 to the store functor (gemm.cu's GemmTileEpi).
template <class C, class Store>
struct GemmCatTileEpi {
    Store& st; int M, N, m0, rg, cg;
    __device__ void operator()(int n0, float (&acc)[C::TM][C::TN]) {
        gt_epilogue<C>(M, N, m0, n0, acc, rg, cg, st);
    }
};

// ---------------------------------------------------------------- bodies (shared memory here)
template <class C>
static __device__ inline void gemm_cat_fw_k(const float* A, const float* B0, const float* B1, const float* bias, float* Cm,
                                            int M, int N, int K, int split, long long strideB0, long long strideB1,
                                            long long strideC, int tpb) {
    GT_SMEM(C)
    int rg, cg;
    gt_thread_groups<C>(rg, cg);
    int m0 = blockIdx.y * C::BM, tiles = (N + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    GtStoreBias st(Cm + blockIdx.z * strideC, N, bias);
    GtStrided<C::BM, C::THREADS, true> la(A, K, M, K);   // W[m][k]
    GtCatRows<C::BN, C::THREADS> lb(B0 + blockIdx.z * strideB0, B1 + blockIdx.z * strideB1, N, split, N, K);
    GemmCatTileEpi<C, GtStoreBias> epi{st, M, N, m0, rg, cg};
    gt_run_tiles<C>(la, lb, m0, t0, t1, K, As, Bs, rg, cg, epi);
}

template <class C>
static __device__ inline void gemm_cat_bd_k(const float* A, const float* B, float* D0, float* D1, int M, int N, int K,
                                            int split, long long strideB, long long strideD0, long long strideD1,
                                            int tpb, int acc0, int acc1) {
    GT_SMEM(C)
    int rg, cg;
    gt_thread_groups<C>(rg, cg);
    int m0 = blockIdx.y * C::BM, tiles = (N + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    GtStoreAccCat st(D0, D1, strideD0, strideD1, N, split, acc0, acc1);
    GtStrided<C::BM, C::THREADS, false> la(A, M, M, K);   // W[k][m]: A^T
    GtStrided<C::BN, C::THREADS, false> lb(B + blockIdx.z * strideB, N, N, K);
    GemmCatTileEpi<C, GtStoreAccCat> epi{st, M, N, m0, rg, cg};
    gt_run_tiles<C>(la, lb, m0, t0, t1, K, As, Bs, rg, cg, epi);
}

template <class C>
static __device__ inline void gemm_cat_bw_part_k(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M, int N,
    int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS, int G,
    int accumulate) {
    GT_SMEM(C)
    int zz = blockIdx.z, z = zz / cpi, chunk = zz - z * cpi;
    int kBegin = chunk * L, kEnd = cu_min(K, kBegin + L);
    GtStridedKV<C::BM, C::THREADS> la(A + z * strideA, K, M, kEnd);   // dY[z] (M x K)
    GtCatKV<C::BN, C::THREADS> lb(B0 + z * strideB0, B1 + z * strideB1, K, split, N, kEnd, blockIdx.x * C::BN);
    GtSplitK sp{ws, SS, (int)gridDim.z, G, dw, db, tickets, accumulate};
    gt_weight_part<C, true>(la, lb, M, N, kBegin, kEnd, sp, As, Bs);
}

template <class C, class TP>
static __device__ inline void gemm_cat_fw_tc(const float* A, const float* B0, const float* B1, const float* bias, float* Cm,
                                             int M, int N, int K, int split, long long strideB0, long long strideB1,
                                             long long strideC, int tpb) {
    GTC_SMEM(C, TP)
    int m0 = blockIdx.y * C::BM, tiles = (N + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    GtStoreBias st(Cm + blockIdx.z * strideC, N, bias);
    GtStrided<C::BM, C::THREADS, true> la(A, K, M, K);
    GtCatRows<C::BN, C::THREADS> lb(B0 + blockIdx.z * strideB0, B1 + blockIdx.z * strideB1, N, split, N, K);
    gtc_run_tiles<C, TP>(la, lb, M, N, m0, t0, t1, K, As, Bs, TcExtra, st);
}

template <class C, class TP>
static __device__ inline void gemm_cat_bd_tc(const float* A, const float* B, float* D0, float* D1, int M, int N, int K,
                                             int split, long long strideB, long long strideD0, long long strideD1,
                                             int tpb, int acc0, int acc1) {
    GTC_SMEM(C, TP)
    int m0 = blockIdx.y * C::BM, tiles = (N + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    GtStoreAccCat st(D0, D1, strideD0, strideD1, N, split, acc0, acc1);
    GtStrided<C::BM, C::THREADS, false> la(A, M, M, K);
    GtStrided<C::BN, C::THREADS, false> lb(B + blockIdx.z * strideB, N, N, K);
    gtc_run_tiles<C, TP>(la, lb, M, N, m0, t0, t1, K, As, Bs, TcExtra, st);
}

template <class C, class TP>
static __device__ inline void gemm_cat_bw_part_tc(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M, int N,
    int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS, int G,
    int accumulate) {
    GTC_SMEM(C, TP)
    int zz = blockIdx.z, z = zz / cpi, chunk = zz - z * cpi;
    int kBegin = chunk * L, kEnd = cu_min(K, kBegin + L);
    GtStridedKV<C::BM, C::THREADS> la(A + z * strideA, K, M, kEnd);
    GtCatKVSel<C::BN, C::THREADS> lb(B0 + z * strideB0, B1 + z * strideB1, K, split, N, kEnd);
    GtSplitK sp{ws, SS, (int)gridDim.z, G, dw, db, tickets, accumulate};
    gtc_weight_part<C, TP, true>(la, lb, M, N, kBegin, kEnd, sp, As, Bs, TcExtra);
}

// gemm.cu's tile configurations (the same names would collide only inside one file; each .cu is
// its own translation unit / emulator namespace).
typedef GtCfg<128, 128, 8, 8> GemmCatL;
typedef GtCfg<64, 128, 4, 8> GemmCatM;
typedef GtCfg<32, 256, 4, 8> GemmCatS;
typedef GtCfg<128, 128, 8, 8> GemmCatW128x128;
typedef GtCfg<128, 32, 8, 4> GemmCatW128x32;
typedef GtCfg<32, 128, 4, 8> GemmCatW32x128;
typedef GtCfg<64, 64, 4, 8> GemmCatW64x64;
typedef GtCfg<32, 32, 4, 4> GemmCatW32x32;
static_assert(GemmCatL::BM == GT_L_BM && GemmCatL::BN == GT_L_BN && GemmCatM::BM == GT_M_BM && GemmCatM::BN == GT_M_BN &&
                  GemmCatS::BM == GT_S_BM && GemmCatS::BN == GT_S_BN && GemmCatL::THREADS == GT_THREADS &&
                  GemmCatM::THREADS == GT_THREADS && GemmCatS::THREADS == GT_THREADS,
              "LinearCatOps sizes the grid from geometry.h's tiles, as LinearOps does for gemm.cu");
static_assert(GemmCatW128x128::THREADS == GW_THREADS_128X128 && GemmCatW128x32::THREADS == GW_THREADS_128X32 &&
                  GemmCatW32x128::THREADS == GW_THREADS_32X128 && GemmCatW64x64::THREADS == GW_THREADS_64X64 &&
                  GemmCatW32x32::THREADS == GW_THREADS_32X32,
              "weight tiles launch with geometry.h's thread counts");

// ---------------------------------------------------------------- fp32 (CUDA cores)

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm128(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_k<GemmCatL>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm128(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_k<GemmCatL>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm64(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_k<GemmCatM>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm64(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_k<GemmCatM>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm32(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_k<GemmCatS>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm32(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_k<GemmCatS>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_weight_part_128x128(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_k<GemmCatW128x128>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_128x32(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_k<GemmCatW128x32>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_32x128(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_k<GemmCatW32x128>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_64x64(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_k<GemmCatW64x64>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(64, 8) gemm_cat_backward_weight_part_32x32(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_k<GemmCatW32x32>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

// ---------------------------------------------------------------- tf32 (tensor cores)

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm128_tf32(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_tc<GemmCatL, TcTf32>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm128_tf32(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_tc<GemmCatL, TcTf32>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm64_tf32(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_tc<GemmCatM, TcTf32>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm64_tf32(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_tc<GemmCatM, TcTf32>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm32_tf32(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_tc<GemmCatS, TcTf32>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm32_tf32(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_tc<GemmCatS, TcTf32>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_weight_part_128x128_tf32(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW128x128, TcTf32>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_128x32_tf32(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW128x32, TcTf32>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_32x128_tf32(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW32x128, TcTf32>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_64x64_tf32(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW64x64, TcTf32>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(64, 8) gemm_cat_backward_weight_part_32x32_tf32(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW32x32, TcTf32>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

// ---------------------------------------------------------------- bf16 (tensor cores)

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm128_bf16(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_tc<GemmCatL, TcBf16>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm128_bf16(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_tc<GemmCatL, TcBf16>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm64_bf16(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_tc<GemmCatM, TcBf16>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm64_bf16(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_tc<GemmCatM, TcBf16>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_forward_bm32_bf16(
    const float* A, const float* B0, const float* B1, const float* bias, float* C, int M, int N, int K, int split,
    long long strideB0, long long strideB1, long long strideC, int tpb) {
    gemm_cat_fw_tc<GemmCatS, TcBf16>(A, B0, B1, bias, C, M, N, K, split, strideB0, strideB1, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_data_bm32_bf16(
    const float* A, const float* B, float* D0, float* D1, int M, int N, int K, int split, long long strideB,
    long long strideD0, long long strideD1, int tpb, int acc0, int acc1) {
    gemm_cat_bd_tc<GemmCatS, TcBf16>(A, B, D0, D1, M, N, K, split, strideB, strideD0, strideD1, tpb, acc0, acc1);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_cat_backward_weight_part_128x128_bf16(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW128x128, TcBf16>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_128x32_bf16(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW128x32, TcBf16>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_32x128_bf16(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW32x128, TcBf16>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_cat_backward_weight_part_64x64_bf16(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW64x64, TcBf16>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(64, 8) gemm_cat_backward_weight_part_32x32_bf16(
    const float* A, const float* B0, const float* B1, float* ws, float* dw, float* db, unsigned* tickets, int M,
    int N, int K, int split, long long strideA, long long strideB0, long long strideB1, int cpi, int L, long long SS,
    int G, int accumulate) {
    gemm_cat_bw_part_tc<GemmCatW32x32, TcBf16>(A, B0, B1, ws, dw, db, tickets, M, N, K, split, strideA, strideB0, strideB1, cpi, L, SS, G, accumulate);
}
