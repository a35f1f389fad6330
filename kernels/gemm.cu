// gemm.cu — tiled shared-memory SGEMM for Linear over channels and 1x1 convolutions.
//
// Math (per image z of a batch, all matrices row-major float32):
//   gemm_forward:              C[z] (MxN) = A (MxK) . B[z] (KxN) + bias (per row, may be null)
//                              Linear: A = W [Co,Ci], B[z] = x[z] viewed [Ci, H*W], C[z] = y[z].
//   gemm_backward_data:        C[z] (MxN) = A^T . B[z], A stored KxM (W [Co,Ci]: M=Ci, K=Co),
//                              B[z] = dy[z] [Co, H*W]  ->  C[z] = dx[z] [Ci, H*W].
//   gemm_backward_weight_part: split-K partial of dW = sum_z dY[z] (MxK) . X[z]^T (KxN),
//                              M=Co, N=Ci, K=H*W (long). Block z' = z*cpi + chunk covers pixels
//                              [chunk*L, min(K,(chunk+1)*L)) of image z and writes ws[z'] (MxN).
//   gemm_backward_weight_reduce: out[e] = sum_{s<S} ws[s*MN + e] in a fixed order
//                              (deterministic; also used by conv2d's weight gradient).
// Layout: NCHW, so image z of x is a [C, H*W] row-major matrix at x + z*C*H*W (strides passed).
// Launch: 256 threads; grid (ceil(N/64), ceil(M/BM), batch) [weight_part: batch*cpi];
//   BM = 64, or 32 for the *_bm32 variants (chosen when M <= 32, so no half-empty tiles).
//   reduce: 1-D grid, 256 threads, one thread per output element.
// See gemm_tile.cuh for the tile (64x64x16, 4x4 outputs per thread, register prefetch).
#include "gemm_tile.cuh"

template <int BM>
static __device__ inline void gemm_fw_body(const float* A, const float* B, const float* bias,
                                           float* C, int M, int N, int K, long long strideB,
                                           long long strideC, float (*As)[BM + GT_PAD],
                                           float (*Bs)[GT_BN + GT_PAD]) {
    int z = blockIdx.z, m0 = blockIdx.y * BM, n0 = blockIdx.x * GT_BN;
    GtRowMajor la{A, K};
    GtRowMajor lb{B + z * strideB, N};
    float acc[BM / 16][4];
    gt_zero<BM>(acc);
    gt_mainloop<BM, true, true>(la, lb, M, N, m0, n0, 0, K, As, Bs, acc);
    gt_store_c<BM>(C + z * strideC, N, bias, M, N, m0, n0, acc);
}

template <int BM>
static __device__ inline void gemm_bd_body(const float* A, const float* B, float* C, int M, int N,
                                           int K, long long strideB, long long strideC,
                                           float (*As)[BM + GT_PAD], float (*Bs)[GT_BN + GT_PAD]) {
    int z = blockIdx.z, m0 = blockIdx.y * BM, n0 = blockIdx.x * GT_BN;
    GtColMajor la{A, M};                 // A(m,k) = W[k][m]
    GtRowMajor lb{B + z * strideB, N};
    float acc[BM / 16][4];
    gt_zero<BM>(acc);
    gt_mainloop<BM, false, true>(la, lb, M, N, m0, n0, 0, K, As, Bs, acc);
    gt_store_c<BM>(C + z * strideC, N, (const float*)0, M, N, m0, n0, acc);
}

template <int BM>
static __device__ inline void gemm_bw_body(const float* A, const float* B, float* ws, int M, int N,
                                           int K, long long strideA, long long strideB, int cpi,
                                           int L, float (*As)[BM + GT_PAD],
                                           float (*Bs)[GT_BN + GT_PAD]) {
    int zz = blockIdx.z, z = zz / cpi, chunk = zz - z * cpi;
    int m0 = blockIdx.y * BM, n0 = blockIdx.x * GT_BN;
    int kBegin = chunk * L, kEnd = cu_min(K, kBegin + L);
    GtRowMajor la{A + z * strideA, K};   // dY[z] (M x K)
    GtColMajor lb{B + z * strideB, K};   // B(k, n) = X[z][n][k]
    float acc[BM / 16][4];
    gt_zero<BM>(acc);
    gt_mainloop<BM, true, false>(la, lb, M, N, m0, n0, kBegin, kEnd, As, Bs, acc);
    gt_store_c<BM>(ws + (long long)zz * M * N, N, (const float*)0, M, N, m0, n0, acc);
}

#define GEMM_SMEM(BM) \
    __shared__ float As[GT_BK][(BM) + GT_PAD]; \
    __shared__ float Bs[GT_BK][GT_BN + GT_PAD];

extern "C" __global__ void gemm_forward(const float* A, const float* B, const float* bias, float* C,
                                        int M, int N, int K, long long strideB, long long strideC) {
    GEMM_SMEM(64)
    gemm_fw_body<64>(A, B, bias, C, M, N, K, strideB, strideC, As, Bs);
}

extern "C" __global__ void gemm_forward_bm32(const float* A, const float* B, const float* bias,
                                             float* C, int M, int N, int K, long long strideB,
                                             long long strideC) {
    GEMM_SMEM(32)
    gemm_fw_body<32>(A, B, bias, C, M, N, K, strideB, strideC, As, Bs);
}

extern "C" __global__ void gemm_backward_data(const float* A, const float* B, float* C, int M,
                                              int N, int K, long long strideB, long long strideC) {
    GEMM_SMEM(64)
    gemm_bd_body<64>(A, B, C, M, N, K, strideB, strideC, As, Bs);
}

extern "C" __global__ void gemm_backward_data_bm32(const float* A, const float* B, float* C, int M,
                                                   int N, int K, long long strideB,
                                                   long long strideC) {
    GEMM_SMEM(32)
    gemm_bd_body<32>(A, B, C, M, N, K, strideB, strideC, As, Bs);
}

extern "C" __global__ void gemm_backward_weight_part(const float* A, const float* B, float* ws,
                                                     int M, int N, int K, long long strideA,
                                                     long long strideB, int cpi, int L) {
    GEMM_SMEM(64)
    gemm_bw_body<64>(A, B, ws, M, N, K, strideA, strideB, cpi, L, As, Bs);
}

extern "C" __global__ void gemm_backward_weight_part_bm32(const float* A, const float* B,
                                                          float* ws, int M, int N, int K,
                                                          long long strideA, long long strideB,
                                                          int cpi, int L) {
    GEMM_SMEM(32)
    gemm_bw_body<32>(A, B, ws, M, N, K, strideA, strideB, cpi, L, As, Bs);
}

extern "C" __global__ void gemm_backward_weight_reduce(const float* ws, float* out, long long MN,
                                                       int S) {
    long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= MN) return;
    float s = 0.0f;
    for (int i = 0; i < S; i++) s += ws[(long long)i * MN + e];
    out[e] = s;
}
