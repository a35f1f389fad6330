// gemm.cu — SGEMM for Linear over channels and 1x1 convolutions, with the exact-GELU epilogues of
// ConvNeXt's MLP (pwconv1 -> GELU and its backward) and a split-K weight gradient whose
// fixed-order finish (in the same launch) also yields the bias gradient and can accumulate into
// the flat gradient.
//
// Math (per image z of a batch, all matrices row-major float32):
//   gemm_forward_*:            C[z] (MxN) = A (MxK) . B[z] (KxN) + bias (per row, may be null)
//                              Linear: A = W [Co,Ci], B[z] = x[z] viewed [Ci, H*W], C[z] = y[z].
//   gemm_forward_gelu_*:       the same C[z], then h[z] = gelu(C[z]) and, when pre is non-null,
//                              pre[z] = C[z] (training keeps it for the backward). Backend.linearGelu.
//   gemm_backward_data_*:      C[z] (MxN) = A^T . B[z], A stored KxM (W [Co,Ci]: M=Ci, K=Co),
//                              B[z] = dy[z] [Co, H*W]  ->  C[z] = dx[z] [Ci, H*W]; added to C
//                              when accumulate != 0 (a gradient already held).
//   gemm_backward_data_gelu_*: C[z] = (A^T . B[z]) * gelu'(pre[z]) (dpre of
//                              Backend.linearBackwardDataGelu).
//   gemm_backward_weight_part_<BM>x<BN>: dW = sum_z dY[z] (MxK) . X[z]^T (KxN), M=Co, N=Ci, K=H*W,
//                              split over K: block z' = z*cpi + chunk covers pixels
//                              [chunk*L, min(K,(chunk+1)*L)) of image z and writes ws[z'*SS ..]:
//                              its MxN partial, then (blocks of the first column tile, when db is
//                              non-null) the M row sums of dY over the chunk = the partial of db.
//                              The blocks that finish last sum the S = gridDim.z partials in a
//                              fixed order (groups of G splits, then the groups) straight into dw
//                              and db (gemm_splitk.cuh), which become the sums, or get them added
//                              when accumulate has bit 0 (dw) / bit 1 (db) set (a parameter's
//                              slice of the zeroed flat gradient: no separate add pass). tickets:
//                              ceil(N/BN)*ceil(M/BM)*(ceil(S/G)+1) counters, zero before and after.
//   gelu / gelu' are gelu.cuh's, the same functions gelu.cu applies (fused == unfused math).
// Layout: NCHW, so image z of x is a [C, H*W] row-major matrix at x + z*C*H*W (strides passed);
//   h, pre and C share one layout (strideC per image, row stride N).
// Tensor cores (--precision tf32 / bf16): every kernel above has a K_tf32 and a
//   K_bf16 form with K's signature (gemm_tc.cuh: operands rounded to TF32 / bf16, float
//   accumulation, the same geometry and epilogues); the launcher substitutes them.
// Launch (gemm_tile.cuh has the tile): 256 threads; grid (ceil(ceil(N/BN)/tpb), ceil(M/BM), batch)
//   for forward / data kernels, each block doing tpb consecutive column tiles (tpb > 1 only when
//   K <= 128, see gt_run_tiles); tiles BM x BN = 128x128 (8x8 per thread), 64x128 (4x8) or
//   32x256 (4x8), chosen by M (LinearOps.tile: least padding, then the larger tile).
//   weight_part: THREADS = BM*BN/(TM*TN) threads (64..256); grid (ceil(N/BN), ceil(M/BM), batch*cpi);
//   tiles 128x128, 128x32, 32x128, 64x64, 32x32 chosen by (M, N) the same way. Its operands are
//   k-contiguous and move 4 k at a time (128-bit loads when aligned, GtStridedKV); the finishing
//   blocks sum 16-byte runs of the partials (no separate reduce launch).
#include "gemm_tc.cuh"
#include "gelu.cuh"

// h = gelu(acc + bias[m]); pre = acc + bias[m] too when pre is non-null.
struct GemmEpiGelu {
    float* h; float* pre; long long ldc; const float* bias; float bv; bool vec;
    __device__ GemmEpiGelu(float* h_, float* pre_, long long l, const float* b)
        : h(h_), pre(pre_), ldc(l), bias(b), bv(0.0f), vec(gt_aligned(h_, l) && (!pre_ || gt_aligned(pre_, l))) {}
    __device__ void row(int m) { bv = bias ? bias[m] : 0.0f; }
    __device__ void put(int m, int n, float v) {
        long long e = (long long)m * ldc + n;
        float c = v + bv;
        if (pre) pre[e] = c;
        h[e] = cu_gelu(c);
    }
    __device__ void put4(int m, int n, float4 v) {
        long long e = (long long)m * ldc + n;
        float4 c = make_float4(v.x + bv, v.y + bv, v.z + bv, v.w + bv);
        if (pre) *reinterpret_cast<float4*>(pre + e) = c;
        *reinterpret_cast<float4*>(h + e) = make_float4(cu_gelu(c.x), cu_gelu(c.y), cu_gelu(c.z), cu_gelu(c.w));
    }
};

// C = acc * gelu'(pre) at the same index.
struct GemmEpiGeluGrad {
    float* C; const float* pre; long long ldc; bool vec;
    __device__ GemmEpiGeluGrad(float* c, const float* p, long long l)
        : C(c), pre(p), ldc(l), vec(gt_aligned(c, l) && gt_aligned(p, l)) {}
    __device__ void row(int) {}
    __device__ void put(int m, int n, float v) {
        long long e = (long long)m * ldc + n;
        C[e] = v * cu_gelu_grad(pre[e]);
    }
    __device__ void put4(int m, int n, float4 v) {
        long long e = (long long)m * ldc + n;
        float4 p = *reinterpret_cast<const float4*>(pre + e);
        *reinterpret_cast<float4*>(C + e) = make_float4(v.x * cu_gelu_grad(p.x), v.y * cu_gelu_grad(p.y),
                                                         v.z * cu_gelu_grad(p.z), v.w * cu_gelu_grad(p.w));
    }
};

// Hands each finished column tile of block row m0 to the store functor.
template <class C, class Store>
struct GemmTileEpi {
    Store& st; int M, N, m0, rg, cg;
    __device__ void operator()(int n0, float (&acc)[C::TM][C::TN]) {
        gt_epilogue<C>(M, N, m0, n0, acc, rg, cg, st);
    }
};

// Column tiles [bx*tpb, min(tiles, (bx+1)*tpb)) of C = op(A) . B[z], op(A) = A (A_T false, A [M,K])
// or A^T (A_T true, A stored [K,M]), through the store functor st (already offset to image z).
template <class C, bool A_T, class Store>
static __device__ inline void gemm_tiles(const float* A, const float* B, int M, int N, int K,
                                         long long strideB, int tpb, Store& st, float* As, float* Bs) {
    int rg, cg;
    gt_thread_groups<C>(rg, cg);
    int m0 = blockIdx.y * C::BM;
    int tiles = (N + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    // A(m, k): W[m][k] (k contiguous) for the forward, W[k][m] (m contiguous) for the data gradient.
    GtStrided<C::BM, C::THREADS, !A_T> la(A, A_T ? M : K, M, K);
    GtStrided<C::BN, C::THREADS, false> lb(B + blockIdx.z * strideB, N, N, K);
    GemmTileEpi<C, Store> epi{st, M, N, m0, rg, cg};
    gt_run_tiles<C>(la, lb, m0, t0, t1, K, As, Bs, rg, cg, epi);
}

static __device__ inline long long gemm_zoff(long long strideC) { return blockIdx.z * strideC; }

// The bodies of the forward / data-gradient kernels of tile configuration C (shared memory here).
template <class C>
static __device__ inline void gemm_fw_k(const float* A, const float* B, const float* bias, float* Cm,
                                        int M, int N, int K, long long strideB, long long strideC, int tpb) {
    GT_SMEM(C)
    GtStoreBias st(Cm + gemm_zoff(strideC), N, bias);
    gemm_tiles<C, false>(A, B, M, N, K, strideB, tpb, st, As, Bs);
}

template <class C>
static __device__ inline void gemm_fw_gelu_k(const float* A, const float* B, const float* bias, float* h,
                                             float* pre, int M, int N, int K, long long strideB,
                                             long long strideC, int tpb) {
    GT_SMEM(C)
    long long off = gemm_zoff(strideC);
    GemmEpiGelu st(h + off, pre ? pre + off : (float*)0, N, bias);
    gemm_tiles<C, false>(A, B, M, N, K, strideB, tpb, st, As, Bs);
}

template <class C>
static __device__ inline void gemm_bd_k(const float* A, const float* B, float* Cm, int M, int N, int K,
                                        long long strideB, long long strideC, int tpb, int accumulate) {
    GT_SMEM(C)
    GtStoreAcc st(Cm + gemm_zoff(strideC), N, accumulate != 0);
    gemm_tiles<C, true>(A, B, M, N, K, strideB, tpb, st, As, Bs);
}

template <class C>
static __device__ inline void gemm_bd_gelu_k(const float* A, const float* B, const float* pre, float* Cm,
                                             int M, int N, int K, long long strideB, long long strideC,
                                             int tpb) {
    GT_SMEM(C)
    long long off = gemm_zoff(strideC);
    GemmEpiGeluGrad st(Cm + off, pre + off, N);
    gemm_tiles<C, true>(A, B, M, N, K, strideB, tpb, st, As, Bs);
}

typedef GtCfg<128, 128, 8, 8> GemmL;   // M > 64
typedef GtCfg<64, 128, 4, 8> GemmM;    // 32 < M <= 64
typedef GtCfg<32, 256, 4, 8> GemmS;    // M <= 32
static_assert(GemmL::BM == GT_L_BM && GemmL::BN == GT_L_BN && GemmM::BM == GT_M_BM && GemmM::BN == GT_M_BN &&
                  GemmS::BM == GT_S_BM && GemmS::BN == GT_S_BN,
              "LinearOps picks the kernel and sizes the grid from geometry.h's tiles");
static_assert(GemmL::THREADS == GT_THREADS && GemmM::THREADS == GT_THREADS && GemmS::THREADS == GT_THREADS,
              "forward / data kernels are launched with GT_THREADS threads (and __launch_bounds__(256))");

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm128(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_k<GemmL>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm128(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_k<GemmL>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm128(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_k<GemmL>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm128(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_k<GemmL>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm64(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_k<GemmM>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm64(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_k<GemmM>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm64(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_k<GemmM>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm64(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_k<GemmM>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm32(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_k<GemmS>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm32(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_k<GemmS>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm32(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_k<GemmS>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm32(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_k<GemmS>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

// ---------------------------------------------------------------- weight gradient
// Chunk blockIdx.z of the split: dY[z] (M x K) and X[z] (B(k, n) = X[z][n][k]) over its k range,
// then gemm_splitk.cuh's finish into dw / db.
template <class C>
static __device__ inline void gemm_bw_part_k(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    GT_SMEM(C)
    int zz = blockIdx.z, z = zz / cpi, chunk = zz - z * cpi;
    int kBegin = chunk * L, kEnd = cu_min(K, kBegin + L);
    GtStridedKV<C::BM, C::THREADS> la(A + z * strideA, K, M, kEnd);   // dY[z] (M x K)
    GtStridedKV<C::BN, C::THREADS> lb(B + z * strideB, K, N, kEnd);   // B(k,n) = X[z][n][k]
    GtSplitK sp{ws, SS, (int)gridDim.z, G, dw, db, tickets, accumulate};
    gt_weight_part<C, true>(la, lb, M, N, kBegin, kEnd, sp, As, Bs);
}

typedef GtCfg<128, 128, 8, 8> GemmW128x128;   // 256 threads
typedef GtCfg<128, 32, 8, 4> GemmW128x32;     // 128 threads
typedef GtCfg<32, 128, 4, 8> GemmW32x128;     // 128 threads
typedef GtCfg<64, 64, 4, 8> GemmW64x64;       // 128 threads
typedef GtCfg<32, 32, 4, 4> GemmW32x32;       // 64 threads
static_assert(GemmW128x128::THREADS == GW_THREADS_128X128 && GemmW128x32::THREADS == GW_THREADS_128X32 &&
                  GemmW32x128::THREADS == GW_THREADS_32X128 && GemmW64x64::THREADS == GW_THREADS_64X64 &&
                  GemmW32x32::THREADS == GW_THREADS_32X32,
              "LinearOps.WEIGHT_TILES launches each weight tile with geometry.h's thread count");

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_weight_part_128x128(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_k<GemmW128x128>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_128x32(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_k<GemmW128x32>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_32x128(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_k<GemmW32x128>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_64x64(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_k<GemmW64x64>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(64, 8) gemm_backward_weight_part_32x32(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_k<GemmW32x32>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

// ---------------------------------------------------------------- tensor-core forms (--precision tf32 / bf16)
// K_tf32 / K_bf16 have exactly K's signature and math; operands rounded to TF32 / bf16 on the way
// into the tensor cores, float accumulation, the same epilogues (gemm_tc.cuh).
template <class C, class TP, bool A_T, class Store>
static __device__ inline void gemm_tiles_tc(const float* A, const float* B, int M, int N, int K, long long strideB,
                                            int tpb, Store& st) {
    GTC_SMEM(C, TP)
    int m0 = blockIdx.y * C::BM;
    int tiles = (N + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    GtStrided<C::BM, C::THREADS, !A_T> la(A, A_T ? M : K, M, K);
    GtStrided<C::BN, C::THREADS, false> lb(B + blockIdx.z * strideB, N, N, K);
    gtc_run_tiles<C, TP>(la, lb, M, N, m0, t0, t1, K, As, Bs, TcExtra, st);
}

template <class C, class TP>
static __device__ inline void gemm_fw_tc(const float* A, const float* B, const float* bias, float* Cm, int M, int N,
                                         int K, long long strideB, long long strideC, int tpb) {
    GtStoreBias st(Cm + gemm_zoff(strideC), N, bias);
    gemm_tiles_tc<C, TP, false>(A, B, M, N, K, strideB, tpb, st);
}

template <class C, class TP>
static __device__ inline void gemm_fw_gelu_tc(const float* A, const float* B, const float* bias, float* h, float* pre,
                                              int M, int N, int K, long long strideB, long long strideC, int tpb) {
    long long off = gemm_zoff(strideC);
    GemmEpiGelu st(h + off, pre ? pre + off : (float*)0, N, bias);
    gemm_tiles_tc<C, TP, false>(A, B, M, N, K, strideB, tpb, st);
}

template <class C, class TP>
static __device__ inline void gemm_bd_tc(const float* A, const float* B, float* Cm, int M, int N, int K,
                                         long long strideB, long long strideC, int tpb, int accumulate) {
    GtStoreAcc st(Cm + gemm_zoff(strideC), N, accumulate != 0);
    gemm_tiles_tc<C, TP, true>(A, B, M, N, K, strideB, tpb, st);
}

template <class C, class TP>
static __device__ inline void gemm_bd_gelu_tc(const float* A, const float* B, const float* pre, float* Cm, int M,
                                              int N, int K, long long strideB, long long strideC, int tpb) {
    long long off = gemm_zoff(strideC);
    GemmEpiGeluGrad st(Cm + off, pre + off, N);
    gemm_tiles_tc<C, TP, true>(A, B, M, N, K, strideB, tpb, st);
}

template <class C, class TP>
static __device__ inline void gemm_bw_part_tc(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    GTC_SMEM(C, TP)
    int zz = blockIdx.z, z = zz / cpi, chunk = zz - z * cpi;
    int kBegin = chunk * L, kEnd = cu_min(K, kBegin + L);
    GtStridedKV<C::BM, C::THREADS> la(A + z * strideA, K, M, kEnd);
    GtStridedKV<C::BN, C::THREADS> lb(B + z * strideB, K, N, kEnd);
    GtSplitK sp{ws, SS, (int)gridDim.z, G, dw, db, tickets, accumulate};
    gtc_weight_part<C, TP, true>(la, lb, M, N, kBegin, kEnd, sp, As, Bs, TcExtra);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm128_bf16(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_tc<GemmL, TcBf16>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm128_bf16(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_tc<GemmL, TcBf16>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm128_bf16(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_tc<GemmL, TcBf16>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm128_bf16(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_tc<GemmL, TcBf16>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm64_bf16(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_tc<GemmM, TcBf16>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm64_bf16(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_tc<GemmM, TcBf16>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm64_bf16(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_tc<GemmM, TcBf16>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm64_bf16(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_tc<GemmM, TcBf16>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm32_bf16(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_tc<GemmS, TcBf16>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm32_bf16(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_tc<GemmS, TcBf16>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm32_bf16(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_tc<GemmS, TcBf16>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm32_bf16(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_tc<GemmS, TcBf16>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_weight_part_128x128_bf16(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW128x128, TcBf16>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_128x32_bf16(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW128x32, TcBf16>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_32x128_bf16(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW32x128, TcBf16>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_64x64_bf16(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW64x64, TcBf16>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(64, 8) gemm_backward_weight_part_32x32_bf16(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW32x32, TcBf16>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm128_tf32(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_tc<GemmL, TcTf32>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm128_tf32(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_tc<GemmL, TcTf32>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm128_tf32(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_tc<GemmL, TcTf32>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm128_tf32(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_tc<GemmL, TcTf32>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm64_tf32(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_tc<GemmM, TcTf32>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm64_tf32(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_tc<GemmM, TcTf32>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm64_tf32(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_tc<GemmM, TcTf32>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm64_tf32(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_tc<GemmM, TcTf32>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_bm32_tf32(
    const float* A, const float* B, const float* bias, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_fw_tc<GemmS, TcTf32>(A, B, bias, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_forward_gelu_bm32_tf32(
    const float* A, const float* B, const float* bias, float* h, float* pre, int M, int N, int K,
    long long strideB, long long strideC, int tpb) {
    gemm_fw_gelu_tc<GemmS, TcTf32>(A, B, bias, h, pre, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_bm32_tf32(
    const float* A, const float* B, float* C, int M, int N, int K, long long strideB, long long strideC,
    int tpb, int accumulate) {
    gemm_bd_tc<GemmS, TcTf32>(A, B, C, M, N, K, strideB, strideC, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_data_gelu_bm32_tf32(
    const float* A, const float* B, const float* pre, float* C, int M, int N, int K, long long strideB,
    long long strideC, int tpb) {
    gemm_bd_gelu_tc<GemmS, TcTf32>(A, B, pre, C, M, N, K, strideB, strideC, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) gemm_backward_weight_part_128x128_tf32(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW128x128, TcTf32>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_128x32_tf32(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW128x32, TcTf32>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_32x128_tf32(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW32x128, TcTf32>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(128, 4) gemm_backward_weight_part_64x64_tf32(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW64x64, TcTf32>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}

extern "C" __global__ void __launch_bounds__(64, 8) gemm_backward_weight_part_32x32_tf32(
    const float* A, const float* B, float* ws, float* dw, float* db, unsigned* tickets, int M, int N, int K,
    long long strideA, long long strideB, int cpi, int L, long long SS, int G, int accumulate) {
    gemm_bw_part_tc<GemmW32x32, TcTf32>(A, B, ws, dw, db, tickets, M, N, K, strideA, strideB, cpi, L, SS, G, accumulate);
}
