// The shared-memory SGEMM tile used by gemm.cu (linear, 1x1 conv) and conv2d.cu (implicit
// im2col). Included, never compiled alone.
//
// One block of 256 threads computes a BM x 64 tile of C (BM = 64 or 32) over a K range, staging
// BK = 16 deep slices of A (BM x BK) and B (BK x 64) in shared memory. Thread (tx = tid % 16,
// ty = tid / 16) owns rows ty + 16*i (i < BM/16) and columns tx + 16*j (j < 4): strided ownership
// keeps the shared reads conflict-free and the global stores of a warp contiguous.
// The next slice is loaded into registers while the current one is multiplied (software
// pipelining); operands are read through loader objects (plain strided matrices, or an implicit
// im2col for convolutions), element by element with bounds checks, so no size need be a
// multiple of the tile.
#pragma once
#include "common.cuh"

// GT_BN, GT_BK, GT_BM, GT_BM_SMALL, GT_THREADS: kernels/geometry.h (the launchers read them too).
#define GT_PAD 4
static_assert(GT_THREADS == 256 && GT_BN == 64 && GT_BK == 16,
              "gt_load/gt_mainloop: thread (tid % 16, tid / 16) owns 4 columns of the 64-wide tile, 16-deep slices");
static_assert(GT_BM == 64 && GT_BM_SMALL == 32, "gemm.cu/conv2d.cu instantiate the tile for BM 64 and 32");
static_assert(GT_THREADS == CU_THREADS, "the GEMM and 1-D kernels share the launchers' 256-thread block");

// Element (r, c) at p[r * ld + c]: row-major with leading dimension ld.
struct GtRowMajor {
    const float* p; long long ld;
    __device__ float at(int r, int c) const { return p[(long long)r * ld + c]; }
};

// Element (r, c) at p[c * ld + r]: the transpose of a row-major matrix.
struct GtColMajor {
    const float* p; long long ld;
    __device__ float at(int r, int c) const { return p[(long long)c * ld + r]; }
};

// Loads this thread's share of the A slice (BM x BK) and the B slice (BK x BN) starting at k0.
// A_KFAST / B_NFAST choose which index varies fastest across threads (the contiguous one in
// memory), so that the global loads coalesce.
template <int BM, bool A_KFAST, bool B_NFAST, class LA, class LB>
static __device__ inline void gt_load(const LA& la, const LB& lb, int M, int N, int m0, int n0,
                                      int k0, int kEnd, float* ra, float* rb) {
    const int tid = threadIdx.x;
CU_UNROLL
    for (int r = 0; r < BM / 16; r++) {
        int e = tid + GT_THREADS * r;
        int kk = A_KFAST ? (e % GT_BK) : (e / BM);
        int mm = A_KFAST ? (e / GT_BK) : (e % BM);
        int gm = m0 + mm, gk = k0 + kk;
        ra[r] = (gm < M && gk < kEnd) ? la.at(gm, gk) : 0.0f;
    }
CU_UNROLL
    for (int r = 0; r < 4; r++) {
        int e = tid + GT_THREADS * r;
        int kk = B_NFAST ? (e / GT_BN) : (e % GT_BK);
        int nn = B_NFAST ? (e % GT_BN) : (e / GT_BK);
        int gn = n0 + nn, gk = k0 + kk;
        rb[r] = (gn < N && gk < kEnd) ? lb.at(gk, gn) : 0.0f;
    }
}

template <int BM, bool A_KFAST, bool B_NFAST>
static __device__ inline void gt_store_smem(const float* ra, const float* rb,
                                            float (*As)[BM + GT_PAD], float (*Bs)[GT_BN + GT_PAD]) {
    const int tid = threadIdx.x;
CU_UNROLL
    for (int r = 0; r < BM / 16; r++) {
        int e = tid + GT_THREADS * r;
        int kk = A_KFAST ? (e % GT_BK) : (e / BM);
        int mm = A_KFAST ? (e / GT_BK) : (e % BM);
        As[kk][mm] = ra[r];
    }
CU_UNROLL
    for (int r = 0; r < 4; r++) {
        int e = tid + GT_THREADS * r;
        int kk = B_NFAST ? (e / GT_BN) : (e % GT_BK);
        int nn = B_NFAST ? (e % GT_BN) : (e / GT_BK);
        Bs[kk][nn] = rb[r];
    }
}

// acc[i][j] += sum over k in [kBegin, kEnd) of A(m0+ty+16i, k) * B(k, n0+tx+16j).
template <int BM, bool A_KFAST, bool B_NFAST, class LA, class LB>
static __device__ inline void gt_mainloop(const LA& la, const LB& lb, int M, int N, int m0, int n0,
                                          int kBegin, int kEnd, float (*As)[BM + GT_PAD],
                                          float (*Bs)[GT_BN + GT_PAD], float (*acc)[4]) {
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float ra[BM / 16], rb[4];
    if (kBegin < kEnd) gt_load<BM, A_KFAST, B_NFAST>(la, lb, M, N, m0, n0, kBegin, kEnd, ra, rb);
    for (int k0 = kBegin; k0 < kEnd; k0 += GT_BK) {
        gt_store_smem<BM, A_KFAST, B_NFAST>(ra, rb, As, Bs);
        __syncthreads();
        if (k0 + GT_BK < kEnd)
            gt_load<BM, A_KFAST, B_NFAST>(la, lb, M, N, m0, n0, k0 + GT_BK, kEnd, ra, rb);
CU_UNROLL
        for (int kk = 0; kk < GT_BK; kk++) {
            float a[BM / 16], b[4];
CU_UNROLL
            for (int i = 0; i < BM / 16; i++) a[i] = As[kk][ty + 16 * i];
CU_UNROLL
            for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
CU_UNROLL
            for (int i = 0; i < BM / 16; i++)
CU_UNROLL
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
}

// The epilogue: for each in-range element (m, n) of this thread's part of the tile, in row order,
// calls epi.row(m) once per row, then epi(m, n, acc) per element. gt_store_c and gemm.cu's fused
// GELU epilogues are such functors, so they share the tile's ownership pattern and bounds checks.
template <int BM, class Epi>
static __device__ inline void gt_epilogue(int M, int N, int m0, int n0, float (*acc)[4], Epi& epi) {
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
CU_UNROLL
    for (int i = 0; i < BM / 16; i++) {
        int m = m0 + ty + 16 * i;
        if (m >= M) continue;
        epi.row(m);
CU_UNROLL
        for (int j = 0; j < 4; j++) {
            int n = n0 + tx + 16 * j;
            if (n < N) epi(m, n, acc[i][j]);
        }
    }
}

// C(m, n) = acc + bias[m] (bias may be null); ldc = row stride.
struct GtStoreBias {
    float* C; long long ldc; const float* bias; float bv;
    __device__ void row(int m) { bv = bias ? bias[m] : 0.0f; }
    __device__ void operator()(int m, int n, float v) { C[(long long)m * ldc + n] = v + bv; }
};

template <int BM>
static __device__ inline void gt_store_c(float* C, long long ldc, const float* bias, int M, int N,
                                         int m0, int n0, float (*acc)[4]) {
    GtStoreBias st{C, ldc, bias, 0.0f};
    gt_epilogue<BM>(M, N, m0, n0, acc, st);
}

template <int BM>
static __device__ inline void gt_zero(float (*acc)[4]) {
CU_UNROLL
    for (int i = 0; i < BM / 16; i++)
CU_UNROLL
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
}
