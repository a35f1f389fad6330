// gemm_tile.cuh — the shared-memory SGEMM engine behind gemm.cu (Linear / 1x1 conv, forward, data
// and weight gradients) and conv2d.cu's implicit GEMMs. Included, never compiled alone.
//
// Math: acc (BM x BN, in registers) += A (BM x BK slice) . B (BK x BN slice), slice after slice
//   over a K range. A(m, k) and B(k, n) come from loader objects (strided matrices here, an
//   implicit im2col in conv2d.cu); everything outside the matrices reads as 0, so no size needs to
//   be a multiple of the tile.
// Layout in shared memory: two stages of As[BK][BM+PAD] and Bs[BK][BN+PAD], k-major: each k row
//   holds the slice's BM (BN) operand values contiguously, so a thread reads its TM (TN) values
//   with TM/4 (TN/4) 128-bit loads. PAD = 4 floats keeps rows 16-byte aligned.
// Threads: THREADS = (BM/TM)(BN/TN). Thread (rg, cg) owns the TM x TN outputs rows rg*TM.. and
//   columns cg*TN.. (contiguous: its stores are 128-bit). Warps cover 4 x 8 (or 8 x 4) thread
//   groups; each quarter-warp (the 8 lanes of one 128-bit shared wavefront) is 2 row groups x 4
//   column groups, so its reads hit distinct banks (addresses 32 B apart) or broadcast. Per k and
//   thread: TM*TN FFMA for (TM+TN)/4 LDS.128 (8x8: 64 per 4).
// Pipeline: one barrier per BK slice. At the top of slice t every thread waits for slice t's
//   stage (cp.async.wait_all, then __syncthreads), issues the global loads of slice t+1 into the
//   other stage, multiplies slice t, then stores the register-held part of slice t+1. Loads that
//   need no transpose and are 16-byte aligned go by cp.async (sm_80+) straight into shared
//   memory; transposed or unaligned ones go through registers (float4 when aligned, else 4
//   bounded scalars). The other stage was last read before this slice's barrier, so writing it
//   early is safe. On the emulator (no __CUDA_ARCH__) the cp.async pieces are plain copies made
//   at the same point of the schedule.
// Several tiles per block (gt_run_tiles): the slice sequence runs on across tile boundaries, so the
//   next tile's first slice loads while this tile's last slice multiplies and its epilogue
//   stores. Used when K is short (K <= 128: 2-8 slices per tile), where a block's prologue and
//   epilogue would otherwise stand alone.
#pragma once
#include "common.cuh"

// GT_BK and the tile/thread constants the launchers read too: kernels/geometry.h.
#define GT_PAD 4
static_assert(GT_BK == 16, "loaders: KSTEP/OSTEP arithmetic and the 16-deep slice of every tile configuration");

// ---------------------------------------------------------------- cp.async (sm_80+) or a copy
// 16 bytes, global -> shared, both 16-byte aligned.
static __device__ inline void gt_cp16(float* dst, const float* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(src));
#else
    *reinterpret_cast<float4*>(dst) = *reinterpret_cast<const float4*>(src);
#endif
}

// One float, global -> shared, or 0 when !valid (src is then not read).
static __device__ inline void gt_cp4(float* dst, const float* src, bool valid) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(d), "l"(src), "r"(valid ? 4 : 0));
#else
    *dst = valid ? *src : 0.0f;
#endif
}

static __device__ inline void gt_cp_wait_all() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_all;\n" ::);
#endif
}

// n / d for 0 <= n < 2^31 by a multiply and a shift (Granlund & Montgomery 1994, thm 4.2 with
// N = 31): m = ceil(2^(31+l) / d), s = 31 + l, l = ceil(log2 d); the host computes m and s
// (Launcher.fastDiv) so that per-element index math needs no integer division.
struct CuFastDiv {
    unsigned m; int s;
    __device__ int div(int n) const { return (int)(((unsigned long long)(unsigned)n * m) >> s); }
};

// Whether p + i*ld (i any row) is always 16-byte aligned: the 4-wide paths need it.
static __device__ inline bool gt_aligned(const float* p, long long ld) {
    return ((reinterpret_cast<unsigned long long>(p) & 15ull) == 0) && ((ld & 3) == 0);
}

// ---------------------------------------------------------------- tile configuration
template <int BM_, int BN_, int TM_, int TN_>
struct GtCfg {
    static constexpr int BM = BM_, BN = BN_, TM = TM_, TN = TN_;
    static constexpr int RG = BM / TM, CG = BN / TN;            // row / column thread groups
    static constexpr int THREADS = RG * CG;
    static constexpr int WC = CG >= 8 ? 8 : 4, WR = 32 / WC;    // thread groups per warp
    static constexpr int LDA = BM + GT_PAD, LDB = BN + GT_PAD;  // shared row strides (floats)
    static constexpr int STAGE_A = GT_BK * LDA, STAGE_B = GT_BK * LDB;
    static_assert(TM % 4 == 0 && TN % 4 == 0, "128-bit fragments");
    static_assert(RG % WR == 0 && CG % WC == 0, "warps must tile the block");
};

// Shared memory of a kernel using configuration C: two stages of A and B (16-byte aligned rows).
#define GT_SMEM(C)                                        \
    __shared__ __align__(16) float As[2 * (C::STAGE_A)]; \
    __shared__ __align__(16) float Bs[2 * (C::STAGE_B)];

// This thread's row group rg and column group cg (see the header for the warp layout).
template <class C>
static __device__ inline void gt_thread_groups(int& rg, int& cg) {
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int wcol = warp % (C::CG / C::WC), wrow = warp / (C::CG / C::WC);
    int q = lane >> 3;
    int c = lane & 3, r = (lane >> 2) & 1;
    if (C::WC == 8) { c += 4 * (q & 1); r += 2 * (q >> 1); }
    else { r += 2 * q; }
    rg = wrow * C::WR + r;
    cg = wcol * C::WC + c;
}

// ---------------------------------------------------------------- operand loaders
// A loader puts one operand slice into a stage S[GT_BK][R + GT_PAD] (k-major) with fetch(o0, k0, S):
// outer indices o0.. (m of A, n of B), k indices k0..k0+GT_BK-1, zeros outside the matrix. The
// loaders here issue asynchronous copies (cp.async; plain copies on the emulator), so no register
// holds operand data between slices and their commit(S) does nothing; the weight-gradient loop
// also takes GtStridedKV, whose fetch loads registers and whose commit(S), called after the
// slice's multiply, stores them (see gt_mainloop).
//
// GtStrided: element (o, k) of a strided matrix,
//   KC = false: p[k*ld + o] (outer index contiguous: x [K, P] as B, W^T as A)
//   KC = true:  p[o*ld + k] (k contiguous: W [M, K] as A, X^T and dY as the dW operands)
// valid for o < oEnd, k < kEnd. Untransposed slices of an aligned launch (vec) move in 16-byte
// pieces (4 consecutive o at one k; piece v to thread v % NT, so a warp reads 512 contiguous
// bytes); everything else moves float by float (element e to thread e % NT, consecutive threads
// on the contiguous index), which also transposes a k-contiguous source into the k-major stage.
template <int R, int NT, bool KC>
struct GtStrided {
    static constexpr int LD = R + GT_PAD;
    static constexpr int NE = R * GT_BK;              // elements per slice
    static constexpr int EPT = (NE + NT - 1) / NT;    // elements per thread
    static constexpr int NV = NE / 4;                 // 16-byte pieces per slice
    static constexpr int PPT = (NV + NT - 1) / NT;    // pieces per thread
    const float* p;
    long long ld;
    int oEnd, kEnd;
    bool vec;

    __device__ GtStrided(const float* p_, long long ld_, int oEnd_, int kEnd_)
        : p(p_), ld(ld_), oEnd(oEnd_), kEnd(kEnd_), vec(!KC && gt_aligned(p_, ld_)) {}

    // Thread t's pieces (elements) are t, t + NT, ...: for every R and NT used here NT is a
    // multiple of the pieces (elements) per k row, so the outer index stays fixed and k steps by
    // a constant (KC: the k index stays fixed and the outer index steps), and each address is one
    // base plus a multiple of one stride.
    __device__ void fetch(int o0, int k0, float* S) const {
        if (vec) {
            static_assert(NT % (R / 4) == 0, "pieces: fixed outer index per thread");
            constexpr int KSTEP = NT / (R / 4);
            int oo = 4 * (threadIdx.x % (R / 4)), kk = threadIdx.x / (R / 4);
            int o = o0 + oo, k = k0 + kk;
            const float* src = p + (long long)k * ld + o;
            float* dst = S + kk * LD + oo;
            long long step = KSTEP * ld;
CU_UNROLL
            for (int i = 0; i < PPT; i++) {
                if (NV % NT != 0 && (int)threadIdx.x + NT * i >= NV) break;
                int ki = k + KSTEP * i;
                if (ki < kEnd && o + 3 < oEnd) {
                    gt_cp16(dst + i * KSTEP * LD, src + i * step);
                } else {
CU_UNROLL
                    for (int j = 0; j < 4; j++) {
                        bool ok = ki < kEnd && o + j < oEnd;
                        gt_cp4(dst + i * KSTEP * LD + j, ok ? src + i * step + j : p, ok);
                    }
                }
            }
            return;
        }
        if (KC) {
            static_assert(NT % GT_BK == 0, "elements: fixed k index per thread");
            constexpr int OSTEP = NT / GT_BK;
            int oo = threadIdx.x / GT_BK, kk = threadIdx.x % GT_BK;
            int o = o0 + oo, k = k0 + kk;
            const float* src = p + (long long)o * ld + k;
            float* dst = S + kk * LD + oo;
            long long step = OSTEP * ld;
            bool kok = k < kEnd;
CU_UNROLL
            for (int i = 0; i < EPT; i++) {
                if (NE % NT != 0 && (int)threadIdx.x + NT * i >= NE) break;
                bool ok = kok && o + OSTEP * i < oEnd;
                gt_cp4(dst + i * OSTEP, ok ? src + i * step : p, ok);
            }
        } else {
            static_assert(NT % R == 0, "elements: fixed outer index per thread");
            constexpr int KSTEP = NT / R;
            int oo = threadIdx.x % R, kk = threadIdx.x / R;
            int o = o0 + oo, k = k0 + kk;
            const float* src = p + (long long)k * ld + o;
            float* dst = S + kk * LD + oo;
            long long step = KSTEP * ld;
            bool ook = o < oEnd;
CU_UNROLL
            for (int i = 0; i < EPT; i++) {
                if (NE % NT != 0 && (int)threadIdx.x + NT * i >= NE) break;
                bool ok = ook && k + KSTEP * i < kEnd;
                gt_cp4(dst + i * KSTEP * LD, ok ? src + i * step : p, ok);
            }
        }
    }
    __device__ void commit(float*) const {}
};

// GtStridedKV: a k-contiguous operand (element (o, k) at p[o*ld + k]: dY and X^T of a weight
// gradient) moved in pieces of 4 consecutive k at one o, piece v = t + NT*i to thread t (o =
// v / 4, k = k0 + 4 (v % 4): 4 threads read a row's 64 bytes of the slice). fetch issues a
// 128-bit global load per piece when the launch is aligned (p 16-byte aligned, ld % 4 == 0; k0 is a
// multiple of 4 in every weight-gradient launch) and the piece lies inside the matrix, else 4
// bounded scalar loads (0 outside); the values wait in registers (4 per piece) until commit(S)
// writes them k-major, after the slice's multiply, so the loads' latency hides behind it (the
// store then transposes, which cp.async, a straight 16-byte copy, cannot).
template <int R, int NT>
struct GtStridedKV {
    static constexpr int LD = R + GT_PAD;
    static constexpr int NV = R * GT_BK / 4;   // pieces per slice
    static constexpr int PPT = NV / NT;        // pieces per thread
    static constexpr int OSTEP = NT / 4;       // outer rows between a thread's pieces
    static_assert(NV % NT == 0 && NT % 4 == 0, "whole pieces per thread, fixed k per thread");
    const float* p;
    long long ld;
    int oEnd, kEnd;
    bool vec;
    float r[PPT][4];

    __device__ GtStridedKV(const float* p_, long long ld_, int oEnd_, int kEnd_)
        : p(p_), ld(ld_), oEnd(oEnd_), kEnd(kEnd_), vec(gt_aligned(p_, ld_)) {}

    __device__ void fetch(int o0, int k0, float*) {
        int o = o0 + (int)threadIdx.x / 4, k = k0 + 4 * ((int)threadIdx.x % 4);
CU_UNROLL
        for (int i = 0; i < PPT; i++) {
            int oi = o + OSTEP * i;
            bool oin = oi < oEnd;
            long long off = (long long)oi * ld + k;
            if (vec && oin && k + 3 < kEnd) {
                float4 v = *reinterpret_cast<const float4*>(p + off);
                r[i][0] = v.x; r[i][1] = v.y; r[i][2] = v.z; r[i][3] = v.w;
            } else {
CU_UNROLL
                for (int j = 0; j < 4; j++) r[i][j] = oin && k + j < kEnd ? p[off + j] : 0.0f;
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

// ---------------------------------------------------------------- the multiply of one slice
template <class C>
static __device__ inline void gt_compute(const float* as, const float* bs, float (&acc)[C::TM][C::TN],
                                         int rg, int cg) {
CU_UNROLL
    for (int kk = 0; kk < GT_BK; kk++) {
        float a[C::TM], b[C::TN];
        const float4* ap = reinterpret_cast<const float4*>(as + kk * C::LDA + rg * C::TM);
        const float4* bp = reinterpret_cast<const float4*>(bs + kk * C::LDB + cg * C::TN);
CU_UNROLL
        for (int i = 0; i < C::TM / 4; i++) {
            float4 v = ap[i];
            a[4 * i] = v.x; a[4 * i + 1] = v.y; a[4 * i + 2] = v.z; a[4 * i + 3] = v.w;
        }
CU_UNROLL
        for (int j = 0; j < C::TN / 4; j++) {
            float4 v = bp[j];
            b[4 * j] = v.x; b[4 * j + 1] = v.y; b[4 * j + 2] = v.z; b[4 * j + 3] = v.w;
        }
CU_UNROLL
        for (int i = 0; i < C::TM; i++)
CU_UNROLL
            for (int j = 0; j < C::TN; j++) acc[i][j] += a[i] * b[j];
    }
}

template <class C>
static __device__ inline void gt_zero(float (&acc)[C::TM][C::TN]) {
CU_UNROLL
    for (int i = 0; i < C::TM; i++)
CU_UNROLL
        for (int j = 0; j < C::TN; j++) acc[i][j] = 0.0f;
}

// Optional hook run on every slice once it is in shared memory (before the multiply): conv2d.cu
// and the weight gradient use it for the bias-gradient row sums. The default does nothing.
struct GtNoSliceHook {
    __device__ void operator()(const float*, const float*, int) {}
};

// ---------------------------------------------------------------- epilogue
// Calls epi.row(m) once per in-range row, then epi.put4(m, n, v) for each in-range 4-wide run of
// columns when epi.vec (every pointer it writes is 16-byte aligned with row strides that are
// multiples of 4) and the run is whole, else epi.put(m, n, v) per element.
template <class C, class Epi>
static __device__ inline void gt_epilogue(int M, int N, int m0, int n0, float (&acc)[C::TM][C::TN],
                                          int rg, int cg, Epi& epi) {
CU_UNROLL
    for (int i = 0; i < C::TM; i++) {
        int m = m0 + rg * C::TM + i;
        if (m >= M) break;
        epi.row(m);
CU_UNROLL
        for (int j = 0; j < C::TN; j += 4) {
            int n = n0 + cg * C::TN + j;
            if (epi.vec && n + 3 < N) {
                epi.put4(m, n, make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]));
            } else {
CU_UNROLL
                for (int e = 0; e < 4; e++)
                    if (n + e < N) epi.put(m, n + e, acc[i][j + e]);
            }
        }
    }
}

// C(m, n) = acc + bias[m] (bias may be null), row stride ldc.
struct GtStoreBias {
    float* C; long long ldc; const float* bias; float bv; bool vec;
    __device__ GtStoreBias(float* c, long long l, const float* b)
        : C(c), ldc(l), bias(b), bv(0.0f), vec(gt_aligned(c, l)) {}
    __device__ void row(int m) { bv = bias ? bias[m] : 0.0f; }
    __device__ void put(int m, int n, float v) { C[(long long)m * ldc + n] = v + bv; }
    __device__ void put4(int m, int n, float4 v) {
        *reinterpret_cast<float4*>(C + (long long)m * ldc + n) = make_float4(v.x + bv, v.y + bv, v.z + bv, v.w + bv);
    }
};

// C(m, n) = acc, or C(m, n) + acc when accumulate (a gradient added where it is produced).
struct GtStoreAcc {
    float* C; long long ldc; bool accumulate; bool vec;
    __device__ GtStoreAcc(float* c, long long l, bool a) : C(c), ldc(l), accumulate(a), vec(gt_aligned(c, l)) {}
    __device__ void row(int) {}
    __device__ void put(int m, int n, float v) {
        float* p = C + (long long)m * ldc + n;
        *p = accumulate ? *p + v : v;
    }
    __device__ void put4(int m, int n, float4 v) {
        float4* p = reinterpret_cast<float4*>(C + (long long)m * ldc + n);
        if (accumulate) {
            float4 o = *p;
            v = make_float4(o.x + v.x, o.y + v.y, o.z + v.z, o.w + v.w);
        }
        *p = v;
    }
};

// ---------------------------------------------------------------- the slice loop
// acc += A . B over k in [kBegin, kEnd) for the block tile (m0, n0); la / lb are the loaders.
template <class C, class LA, class LB, class Hook>
static __device__ inline void gt_mainloop(LA& la, LB& lb, int m0, int n0, int kBegin, int kEnd,
                                          float* As, float* Bs, float (&acc)[C::TM][C::TN], int rg,
                                          int cg, Hook& hook) {
    int nk = kEnd > kBegin ? (kEnd - kBegin + GT_BK - 1) / GT_BK : 0;
    if (nk == 0) return;
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
        hook(As + cur * C::STAGE_A, Bs + cur * C::STAGE_B, kBegin + t * GT_BK);
        gt_compute<C>(As + cur * C::STAGE_A, Bs + cur * C::STAGE_B, acc, rg, cg);
        if (more) {   // registers of a GtStridedKV into the other stage, last read before this slice's barrier
            la.commit(As + nxt * C::STAGE_A);
            lb.commit(Bs + nxt * C::STAGE_B);
        }
    }
    __syncthreads();   // the stages may be refilled right after (next call, next tile)
}

// Tiles [t0, t1) of one block row: tile t is columns n0 = t*BN.., all of K. The slice sequence
// runs on across tiles (the next tile's first slice is fetched during this tile's last multiply),
// and epi(n0, acc) stores each finished tile. M, N bound the matrix; m0 is the block row.
template <class C, class LA, class LB, class EpiFn>
static __device__ inline void gt_run_tiles(LA& la, LB& lb, int m0, int t0, int t1, int K, float* As,
                                           float* Bs, int rg, int cg, EpiFn& epi) {
    int nk = (K + GT_BK - 1) / GT_BK;
    float acc[C::TM][C::TN];
    gt_zero<C>(acc);
    if (t0 >= t1) return;
    if (nk == 0) {   // K = 0: every tile is the epilogue of zeros
        for (int t = t0; t < t1; t++) epi(t * C::BN, acc);
        return;
    }
    la.fetch(m0, 0, As);
    lb.fetch(t0 * C::BN, 0, Bs);
    int u = 0;   // slices multiplied so far: stage u & 1 holds the next one
    for (int tile = t0; tile < t1; tile++) {
        for (int slice = 0; slice < nk; slice++, u++) {
            gt_cp_wait_all();
            __syncthreads();
            int cur = u & 1, nxt = cur ^ 1;
            bool inTile = slice + 1 < nk;   // else the next tile's first slice, if any
            if (inTile || tile + 1 < t1) {
                int fk = inTile ? (slice + 1) * GT_BK : 0, fn = (inTile ? tile : tile + 1) * C::BN;
                la.fetch(m0, fk, As + nxt * C::STAGE_A);
                lb.fetch(fn, fk, Bs + nxt * C::STAGE_B);
            }
            gt_compute<C>(As + cur * C::STAGE_A, Bs + cur * C::STAGE_B, acc, rg, cg);
        }
        epi(tile * C::BN, acc);
        gt_zero<C>(acc);
    }
}
