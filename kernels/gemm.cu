// gemm.cu — tiled shared-memory SGEMM for Linear over channels and 1x1 convolutions, with optional
// exact-GELU epilogues (ConvNeXt's pwconv1 -> GELU and its backward, without a pass of their own).
//
// Math (per image z of a batch, all matrices row-major float32):
//   gemm_forward:              C[z] (MxN) = A (MxK) . B[z] (KxN) + bias (per row, may be null)
//                              Linear: A = W [Co,Ci], B[z] = x[z] viewed [Ci, H*W], C[z] = y[z].
//   gemm_forward_gelu:         the same C[z], then h[z] = gelu(C[z]) and, when pre is non-null,
//                              pre[z] = C[z] (training keeps it for the backward); C itself is
//                              never stored otherwise. Backend.linearGelu.
//   gemm_backward_data:        C[z] (MxN) = A^T . B[z], A stored KxM (W [Co,Ci]: M=Ci, K=Co),
//                              B[z] = dy[z] [Co, H*W]  ->  C[z] = dx[z] [Ci, H*W].
//   gemm_backward_data_gelu:   C[z] = (A^T . B[z]) * gelu'(pre[z]), pre read at the index written
//                              (pre [Ci, H*W] per image, strideC apart): dpre of
//                              Backend.linearBackwardDataGelu.
//   gemm_backward_weight_part: split-K partial of dW = sum_z dY[z] (MxK) . X[z]^T (KxN),
//                              M=Co, N=Ci, K=H*W (long). Block z' = z*cpi + chunk covers pixels
//                              [chunk*L, min(K,(chunk+1)*L)) of image z and writes ws[z'] (MxN).
//   gemm_backward_weight_reduce: out[e] = sum_{s<S} ws[s*MN + e] in a fixed order
//                              (deterministic; also used by conv2d's weight gradient).
//   gelu / gelu' are gelu.cuh's, the same functions gelu.cu applies (fused == unfused math).
// Layout: NCHW, so image z of x is a [C, H*W] row-major matrix at x + z*C*H*W (strides passed);
//   h, pre and C share one layout (strideC per image, row stride N).
// Launch: 256 threads; grid (ceil(N/64), ceil(M/BM), batch) [weight_part: batch*cpi];
//   BM = 64, or 32 for the *_bm32 variants (chosen when M <= 32, so no half-empty tiles).
//   reduce: 1-D grid, 256 threads, one thread per output element.
// See gemm_tile.cuh for the tile (64x64x16, 4x4 outputs per thread, register prefetch) and
// gt_epilogue, through which every kernel here stores its tile.
#include "gemm_tile.cuh"
#include "gelu.cuh"

// h = gelu(acc + bias[m]); pre = acc + bias[m] too when pre is non-null.
struct GemmEpiGelu {
    float* h; float* pre; long long ldc; const float* bias; float bv;
    __device__ void row(int m) { bv = bias ? bias[m] : 0.0f; }
    __device__ void operator()(int m, int n, float v) {
        long long e = (long long)m * ldc + n;
        float c = v + bv;
        if (pre) pre[e] = c;
        h[e] = cu_gelu(c);
    }
};

// C = acc * gelu'(pre) at the same index.
struct GemmEpiGeluGrad {
    float* C; const float* pre; long long ldc;
    __device__ void row(int) {}
    __device__ void operator()(int m, int n, float v) {
        long long e = (long long)m * ldc + n;
        C[e] = v * cu_gelu_grad(pre[e]);
    }
};

// C-tile of A . B[z] (A row-major MxK) through the epilogue epi (already offset to image z).
template <int BM, class Epi>
static __device__ inline void gemm_fw_body(const float* A, const float* B, int M, int N, int K,
                                           long long strideB, Epi& epi, float (*As)[BM + GT_PAD],
                                           float (*Bs)[GT_BN + GT_PAD]) {
    int z = blockIdx.z, m0 = blockIdx.y * BM, n0 = blockIdx.x * GT_BN;
    GtRowMajor la{A, K};
    GtRowMajor lb{B + z * strideB, N};
    float acc[BM / 16][4];
    gt_zero<BM>(acc);
    gt_mainloop<BM, true, true>(la, lb, M, N, m0, n0, 0, K, As, Bs, acc);
    gt_epilogue<BM>(M, N, m0, n0, acc, epi);
}

// C-tile of A^T . B[z] (A stored KxM) through the epilogue epi (already offset to image z).
template <int BM, class Epi>
static __device__ inline void gemm_bd_body(const float* A, const float* B, int M, int N, int K,
                                           long long strideB, Epi& epi, float (*As)[BM + GT_PAD],
                                           float (*Bs)[GT_BN + GT_PAD]) {
    int z = blockIdx.z, m0 = blockIdx.y * BM, n0 = blockIdx.x * GT_BN;
    GtColMajor la{A, M};                 // A(m,k) = W[k][m]
    GtRowMajor lb{B + z * strideB, N};
    float acc[BM / 16][4];
    gt_zero<BM>(acc);
    gt_mainloop<BM, false, true>(la, lb, M, N, m0, n0, 0, K, As, Bs, acc);
    gt_epilogue<BM>(M, N, m0, n0, acc, epi);
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

// Image z's output (or pre / h) matrix: base + z * strideC.
static __device__ inline long long gemm_zoff(long long strideC) { return blockIdx.z * strideC; }

extern "C" __global__ void gemm_forward(const float* A, const float* B, const float* bias, float* C,
                                        int M, int N, int K, long long strideB, long long strideC) {
    GEMM_SMEM(64)
    GtStoreBias epi{C + gemm_zoff(strideC), N, bias, 0.0f};
    gemm_fw_body<64>(A, B, M, N, K, strideB, epi, As, Bs);
}

extern "C" __global__ void gemm_forward_bm32(const float* A, const float* B, const float* bias,
                                             float* C, int M, int N, int K, long long strideB,
                                             long long strideC) {
    GEMM_SMEM(32)
    GtStoreBias epi{C + gemm_zoff(strideC), N, bias, 0.0f};
    gemm_fw_body<32>(A, B, M, N, K, strideB, epi, As, Bs);
}

// pre may be null (inference: only h is written).
extern "C" __global__ void gemm_forward_gelu(const float* A, const float* B, const float* bias,
                                             float* h, float* pre, int M, int N, int K,
                                             long long strideB, long long strideC) {
    GEMM_SMEM(64)
    long long off = gemm_zoff(strideC);
    GemmEpiGelu epi{h + off, pre ? pre + off : (float*)0, N, bias, 0.0f};
    gemm_fw_body<64>(A, B, M, N, K, strideB, epi, As, Bs);
}

extern "C" __global__ void gemm_forward_gelu_bm32(const float* A, const float* B, const float* bias,
                                                  float* h, float* pre, int M, int N, int K,
                                                  long long strideB, long long strideC) {
    GEMM_SMEM(32)
    long long off = gemm_zoff(strideC);
    GemmEpiGelu epi{h + off, pre ? pre + off : (float*)0, N, bias, 0.0f};
    gemm_fw_body<32>(A, B, M, N, K, strideB, epi, As, Bs);
}

extern "C" __global__ void gemm_backward_data(const float* A, const float* B, float* C, int M,
                                              int N, int K, long long strideB, long long strideC) {
    GEMM_SMEM(64)
    GtStoreBias epi{C + gemm_zoff(strideC), N, (const float*)0, 0.0f};
    gemm_bd_body<64>(A, B, M, N, K, strideB, epi, As, Bs);
}

extern "C" __global__ void gemm_backward_data_bm32(const float* A, const float* B, float* C, int M,
                                                   int N, int K, long long strideB,
                                                   long long strideC) {
    GEMM_SMEM(32)
    GtStoreBias epi{C + gemm_zoff(strideC), N, (const float*)0, 0.0f};
    gemm_bd_body<32>(A, B, M, N, K, strideB, epi, As, Bs);
}

extern "C" __global__ void gemm_backward_data_gelu(const float* A, const float* B, const float* pre,
                                                   float* C, int M, int N, int K, long long strideB,
                                                   long long strideC) {
    GEMM_SMEM(64)
    long long off = gemm_zoff(strideC);
    GemmEpiGeluGrad epi{C + off, pre + off, N};
    gemm_bd_body<64>(A, B, M, N, K, strideB, epi, As, Bs);
}

extern "C" __global__ void gemm_backward_data_gelu_bm32(const float* A, const float* B,
                                                        const float* pre, float* C, int M, int N,
                                                        int K, long long strideB,
                                                        long long strideC) {
    GEMM_SMEM(32)
    long long off = gemm_zoff(strideC);
    GemmEpiGeluGrad epi{C + off, pre + off, N};
    gemm_bd_body<32>(A, B, M, N, K, strideB, epi, As, Bs);
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
