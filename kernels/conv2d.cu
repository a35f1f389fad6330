// conv2d.cu — dense 2-D convolution (PyTorch Conv2d, cross-correlation), any k, stride, pad,
// zero or reflect padding (reflect needs pad < H, W). ConvUNeXt uses two shapes, which get
// kernels with the shape fixed at compile time (index math by constants, no integer division per
// element): the 7x7 stride-1 reflect-3 stem (suffix k7s1p3r) and the 2x2 stride-2 unpadded
// downsampling (k2s2p0). Every other shape runs the same code with runtime values (suffix any).
// A 1x1 stride-1 unpadded convolution goes to gemm.cu instead.
//
// Math: x [N,Ci,H,W], w [Co,Ci,k,k], b [Co]; OH = (H+2p-k)/s+1, OW likewise; P = OH*OW;
//   y[n,o,oy,ox] = b[o] + sum_{i,ky,kx} w[o,i,ky,kx] * xpad[n,i,oy*s+ky-p, ox*s+kx-p]
//   where xpad reflects (x[refl(.)]) or is zero outside. im2col(x[n]) is the (Ci*k*k) x P matrix
//   with element (j = (i*k + ky)*k + kx, q = oy*OW + ox) = xpad[n,i,oy*s+ky-p,ox*s+kx-p].
// Layout: NCHW float32, dense; the weight is a row-major [Co, Ci*k*k] matrix.
//
// conv2d_forward_<shape>_bm<BM>: implicit GEMM Y[n] (Co x P) = W . im2col(x[n]) + b with
//   gemm_tile.cuh's engine (tiles 32x256 for Co <= 32, else 64x128: the 128-row tile spills with
//   this loader; tpb column tiles per block). The im2col loader reads x float by float with cp.async (zero-fill outside a
//   zero padding). grid (ceil(ceil(P/BN)/tpb), ceil(Co/BM), N), 256 threads.
// conv2d_backward_weight_part_<shape>_<BM>x<BN>: split-K partial of dW = sum_n dY[n] (Co x P) .
//   im2col(x[n])^T and of db = row sums of dY (blocks of the first column tile, when db != 0);
//   block z = n*cpi + chunk covers output pixels [chunk*L, (chunk+1)*L) and writes ws + z*SS
//   (gemm.cu's layout); the blocks that finish last sum the partials in a fixed order into dw / db
//   (gemm_splitk.cuh's finish: tickets, groups of G splits, accumulate bits as gemm.cu's).
//   grid (ceil(Ci*k*k/BN), ceil(Co/BM), N*cpi), BM*BN/(TM*TN) threads; tiles 32x32 (stem),
//   64x64 / 128x128 (k2s2p0), 64x64 (any), chosen by least padding (Conv2dOps.weightTile).
// conv2d_backward_data_k2s2p0_bm<BM>: the 2x2 stride-2 data gradient as a GEMM per (image, kernel
//   row) (see its comment below): grid (ceil(ceil(P'/BN)/tpb), ceil(2Ci/BM), 2N), 256 threads.
// conv2d_backward_data: gradient w.r.t. the PADDED input for any other shape, a gather:
//   dxp[n,i,py,px] = sum_{o,ky,kx: py-ky = oy*s, px-kx = ox*s in range} w[o,i,ky,kx]*dy[n,o,oy,ox]
//   [N,Ci,Hp,Wp], Hp = H+2p. One thread per padded pixel and group of 8 input channels; the
//   weights of `occ` output channels x 8 input channels sit in dynamic shared memory
//   (occ*8*k*k floats). grid (ceil(Hp*Wp/256), ceil(Ci/8), N), 256 threads.
// conv2d_backward_fold: adjoint of the padding: dx[q] = sum of dxp over every padded position
//   that maps to q (reflect: q itself, its mirror below 0 and its mirror past the end; zero: the
//   shifted position only). grid (ceil(H*W/256), N*Ci), 256 threads. (With p = 0 the data
//   kernel writes dx directly and no fold runs.)
// Pixel rows: q / OW by CuFastDiv (owM, owS from the host), once per tile or slice and thread.
// Tensor cores (--precision tf32 / bf16): the k7s1p3r / k2s2p0 kernels have K_tf32 / K_bf16 forms
//   with K's signature (gemm_tc.cuh); the "any" shapes and the gather stay fp32.
#include <type_traits>
#include "gemm_tc.cuh"

// The convolution's shape: compile-time when KS > 0 (then ST, PD, RF are the stride, the pad and
// reflect), else the runtime values k, s, pad, reflect.
template <int KS, int ST, int PD, int RF>
struct ConvShape {
    int H, W, OW, Kd, P;
    CuFastDiv ow;
    int k_, s_, pad_, reflect_;
    __device__ int k() const { return KS > 0 ? KS : k_; }
    __device__ int s() const { return KS > 0 ? ST : s_; }
    __device__ int pad() const { return KS > 0 ? PD : pad_; }
    __device__ bool reflect() const { return KS > 0 ? RF != 0 : reflect_ != 0; }
    // Offset of im2col element (j, q) in image n's x, given q's (oy, ox); false when it lies in a
    // zero padding.
    __device__ bool tap(int j, int oy, int ox, long long& off) const {
        int kk = k() * k();
        int i = j / kk, r = j - i * kk;
        int ky = r / k(), kx = r - ky * k();
        int yy = oy * s() + ky - pad(), xx = ox * s() + kx - pad();
        if (reflect()) {
            yy = yy < 0 ? -yy : (yy >= H ? 2 * (H - 1) - yy : yy);
            xx = xx < 0 ? -xx : (xx >= W ? 2 * (W - 1) - xx : xx);
        } else if (PD != 0 || KS == 0) {
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) return false;
        }
        off = ((long long)i * H + yy) * W + xx;
        return true;
    }
};

// The forward's B operand: element (o = pixel q, k = tap j) of im2col(x[n]) into the k-major
// stage. Thread t loads pixel o0 + t % R of taps k0 + t / R + i * (NT / R): its pixel's (oy, ox)
// are computed once per tile.
template <int R, int NT, class G>
struct ConvCols {
    static constexpr int LD = R + GT_PAD, KSTEP = NT / R, EPT = R * GT_BK / NT;
    static_assert(NT % R == 0 && EPT * KSTEP == GT_BK, "fixed pixel per thread");
    const float* x;
    G g;
    int tileO0, oy, ox;
    bool qok;
    __device__ ConvCols(const float* x_, const G& g_) : x(x_), g(g_), tileO0(-1), oy(0), ox(0), qok(false) {}
    __device__ void fetch(int o0, int k0, float* S) {
        int oo = threadIdx.x % R, kk0 = threadIdx.x / R;
        if (o0 != tileO0) {
            tileO0 = o0;
            int q = o0 + oo;
            qok = q < g.P;
            oy = qok ? g.ow.div(q) : 0;
            ox = q - oy * g.OW;
        }
CU_UNROLL
        for (int i = 0; i < EPT; i++) {
            int kk = kk0 + KSTEP * i, j = k0 + kk;
            long long off = 0;
            bool ok = qok && j < g.Kd && g.tap(j, oy, ox, off);
            gt_cp4(S + kk * LD + oo, x + (ok ? off : 0), ok);
        }
    }
};

// The weight gradient's B operand: element (o = tap j, k = pixel q) of im2col(x[n])^T. Thread t
// loads pixel k0 + t % BK (one fast division per slice) for taps o0 + t / BK + i * (NT / BK).
template <int R, int NT, class G>
struct ConvColsT {
    static constexpr int LD = R + GT_PAD, OSTEP = NT / GT_BK, EPT = R * GT_BK / NT;
    static_assert(NT % GT_BK == 0 && EPT * OSTEP == R, "fixed pixel per thread");
    const float* x;
    G g;
    int kEnd;
    __device__ ConvColsT(const float* x_, const G& g_, int kEnd_) : x(x_), g(g_), kEnd(kEnd_) {}
    __device__ void fetch(int o0, int k0, float* S) const {
        int kk = threadIdx.x % GT_BK, oo0 = threadIdx.x / GT_BK;
        int q = k0 + kk;
        bool qok = q < kEnd;
        int oy = qok ? g.ow.div(q) : 0, ox = q - oy * g.OW;
CU_UNROLL
        for (int i = 0; i < EPT; i++) {
            int oo = oo0 + OSTEP * i, j = o0 + oo;
            long long off = 0;
            bool ok = qok && j < g.Kd && g.tap(j, oy, ox, off);
            gt_cp4(S + kk * LD + oo, x + (ok ? off : 0), ok);
        }
    }
    __device__ void commit(float*) const {}
};

template <class C, class G>
struct ConvTileEpi {
    GtStoreBias& st; int M, N, m0, rg, cg;
    __device__ void operator()(int n0, float (&acc)[C::TM][C::TN]) { gt_epilogue<C>(M, N, m0, n0, acc, rg, cg, st); }
};

template <class C, int KS, int ST, int PD, int RF>
static __device__ inline void conv_fw_k(const float* x, const float* w, const float* b, float* y, int Ci,
                                        int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
                                        int k, int s, int pad, int reflect, int tpb) {
    GT_SMEM(C)
    typedef ConvShape<KS, ST, PD, RF> G;
    int kr = KS > 0 ? KS : k;
    G g{H, W, OW, Ci * kr * kr, OH * OW, {owM, owS}, k, s, pad, reflect};
    int n = blockIdx.z, m0 = blockIdx.y * C::BM;
    int rg, cg;
    gt_thread_groups<C>(rg, cg);
    int tiles = (g.P + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    GtStrided<C::BM, C::THREADS, true> la(w, g.Kd, Co, g.Kd);
    ConvCols<C::BN, C::THREADS, G> lb(x + (long long)n * Ci * H * W, g);
    GtStoreBias st(y + (long long)n * Co * g.P, g.P, b);
    ConvTileEpi<C, G> epi{st, Co, g.P, m0, rg, cg};
    gt_run_tiles<C>(la, lb, m0, t0, t1, g.Kd, As, Bs, rg, cg, epi);
}

// The weight-gradient kernels' arguments, passed on whole to conv_bw_k.
#define CONV_BW_ARGS \
    x, dy, ws, dw, db, tickets, Ci, H, W, Co, OH, OW, owM, owS, k, s, pad, reflect, cpi, L, SS, G, accumulate
// Chunk blockIdx.z of the weight gradient's split on the SIMT engine (TP void) or the tensor cores
// (TP = TcBf16 / TcTf32), then gemm_splitk.cuh's finish (scalar loads, as the im2col operand's).
template <class C, class TP, int KS, int ST, int PD, int RF>
static __device__ inline void conv_bw_k(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    typedef ConvShape<KS, ST, PD, RF> G_;
    int kr = KS > 0 ? KS : k;
    G_ g{H, W, OW, Ci * kr * kr, OH * OW, {owM, owS}, k, s, pad, reflect};
    int zz = blockIdx.z, n = zz / cpi, chunk = zz - n * cpi;
    int kBegin = chunk * L, kEnd = cu_min(g.P, kBegin + L);
    GtStrided<C::BM, C::THREADS, true> la(dy + (long long)n * Co * g.P, g.P, Co, kEnd);
    ConvColsT<C::BN, C::THREADS, G_> lb(x + (long long)n * Ci * H * W, g, kEnd);
    GtSplitK sp{ws, SS, (int)gridDim.z, G, dw, db, tickets, accumulate};
    if constexpr (std::is_void<TP>::value) {
        GT_SMEM(C)
        gt_weight_part<C, false>(la, lb, Co, g.Kd, kBegin, kEnd, sp, As, Bs);
    } else {
        GTC_SMEM(C, TP)
        gtc_weight_part<C, TP, false>(la, lb, Co, g.Kd, kBegin, kEnd, sp, As, Bs, TcExtra);
    }
}

typedef GtCfg<64, 128, 4, 8> ConvM;
typedef GtCfg<32, 256, 4, 8> ConvS;
typedef GtCfg<128, 128, 8, 8> ConvW128x128;
typedef GtCfg<64, 64, 4, 8> ConvW64x64;
typedef GtCfg<32, 32, 4, 4> ConvW32x32;
static_assert(ConvM::BM == GT_M_BM && ConvM::BN == GT_M_BN && ConvS::BM == GT_S_BM && ConvS::BN == GT_S_BN &&
                  ConvM::THREADS == GT_THREADS && ConvS::THREADS == GT_THREADS,
              "Conv2dOps sizes the forward grid from geometry.h's tiles, GT_THREADS threads");
static_assert(ConvW128x128::THREADS == GW_THREADS_128X128 && ConvW64x64::THREADS == GW_THREADS_64X64 &&
                  ConvW32x32::THREADS == GW_THREADS_32X32,
              "Conv2dOps' weight tiles use geometry.h's thread counts");

// ---- forward: the stem (7x7, stride 1, reflect 3)
extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k7s1p3r_bm64(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_k<ConvM, 7, 1, 3, 1>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, k, s, pad, reflect, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k7s1p3r_bm32(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_k<ConvS, 7, 1, 3, 1>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, k, s, pad, reflect, tpb);
}

// ---- forward: downsampling (2x2, stride 2, no padding)
extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k2s2p0_bm64(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_k<ConvM, 2, 2, 0, 0>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, k, s, pad, reflect, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k2s2p0_bm32(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_k<ConvS, 2, 2, 0, 0>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, k, s, pad, reflect, tpb);
}

// ---- forward: any other shape (runtime k, s, pad, reflect)
extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_any_bm64(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_k<ConvM, 0, 0, 0, 0>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, k, s, pad, reflect, tpb);
}

// ---- weight gradient partials
extern "C" __global__ void __launch_bounds__(64, 8) conv2d_backward_weight_part_k7s1p3r_32x32(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW32x32, void, 7, 1, 3, 1>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_weight_part_k2s2p0_128x128(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW128x128, void, 2, 2, 0, 0>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(128, 4) conv2d_backward_weight_part_k2s2p0_64x64(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW64x64, void, 2, 2, 0, 0>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(128, 4) conv2d_backward_weight_part_any_64x64(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW64x64, void, 0, 0, 0, 0>(CONV_BW_ARGS);
}

// ---------------------------------------------------------------- data gradient of the 2x2 stride-2 conv as a GEMM
// With k = s = 2 and no padding every input pixel (2oy+ky, 2ox+kx) has exactly one output pixel
// (oy, ox), so for each image n and kernel row ky:
//   dx[n, ci, 2oy+ky, 2ox+kx] = sum_co w[co, ci, ky, kx] * dy[n, co, oy, ox]
// is a GEMM C (2Ci x P') = A (2Ci x Co) . dY[n] (Co x P'), P' = OH*OW, row m = 2ci + kx,
// A(m, co) = w[co, m>>1, ky, m&1]. Row pairs (2ci, 2ci+1) of a thread's 8 rows are the two kx of
// one ci: stored as a float2 at x = 2ox (W even), else two floats. Pixels of an odd last row or
// column have no output pixel: their gradient is 0 (the launcher clears dx first when H or W is
// odd and it does not add into dx).
template <int R, int NT>
struct ConvDownWeights {
    static constexpr int LD = R + GT_PAD, KSTEP = NT / R, EPT = R * GT_BK / NT;
    static_assert(NT % R == 0 && EPT * KSTEP == GT_BK, "fixed row per thread");
    const float* w;
    int Ci, Co, ky;
    __device__ void fetch(int o0, int k0, float* S) const {
        int oo = threadIdx.x % R, kk0 = threadIdx.x / R;
        int m = o0 + oo;
        bool mok = m < 2 * Ci;
        const float* base = w + (long long)(m >> 1) * 4 + ky * 2 + (m & 1);
CU_UNROLL
        for (int i = 0; i < EPT; i++) {
            int kk = kk0 + KSTEP * i, k = k0 + kk;
            bool ok = mok && k < Co;
            gt_cp4(S + kk * LD + oo, ok ? base + (long long)k * 4 * Ci : w, ok);
        }
    }
};

template <class C>
struct ConvDownEpi {
    float* dx;   // image n's dx
    int Ci, H, W, OW, P, ky, m0, rg, cg;
    CuFastDiv ow;
    bool accumulate, pairs;
    __device__ void operator()(int n0, float (&acc)[C::TM][C::TN]) {
        int q0 = n0 + cg * C::TN;
        int oy = ow.div(q0 < P ? q0 : 0), ox = q0 - oy * OW;
CU_UNROLL
        for (int j = 0; j < C::TN; j++) {
            if (q0 + j < P) {
                long long pix = (long long)(2 * oy + ky) * W + 2 * ox;
CU_UNROLL
                for (int i = 0; i < C::TM; i += 2) {
                    int m = m0 + rg * C::TM + i, ci = m >> 1;
                    if (ci >= Ci) break;
                    float* p = dx + (long long)ci * H * W + pix;
                    float v0 = acc[i][j], v1 = acc[i + 1][j];
                    if (pairs) {
                        float2* p2 = reinterpret_cast<float2*>(p);
                        if (accumulate) { float2 o = *p2; v0 += o.x; v1 += o.y; }
                        *p2 = make_float2(v0, v1);
                    } else {
                        p[0] = accumulate ? p[0] + v0 : v0;
                        p[1] = accumulate ? p[1] + v1 : v1;
                    }
                }
            }
            if (++ox == OW) { ox = 0; oy++; }
        }
    }
};

template <class C>
static __device__ inline void conv_down_bd_k(const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co,
                                             int OH, int OW, unsigned owM, int owS, int tpb, int accumulate) {
    GT_SMEM(C)
    int n = blockIdx.z >> 1, ky = blockIdx.z & 1;
    int P = OH * OW, m0 = blockIdx.y * C::BM;
    int rg, cg;
    gt_thread_groups<C>(rg, cg);
    int tiles = (P + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    ConvDownWeights<C::BM, C::THREADS> la{w, Ci, Co, ky};
    GtStrided<C::BN, C::THREADS, false> lb(dy + (long long)n * Co * P, P, P, Co);
    float* dxn = dx + (long long)n * Ci * H * W;
    bool pairs = (W & 1) == 0 && (reinterpret_cast<unsigned long long>(dxn) & 7ull) == 0;
    ConvDownEpi<C> epi{dxn, Ci, H, W, OW, P, ky, m0, rg, cg, {owM, owS}, accumulate != 0, pairs};
    gt_run_tiles<C>(la, lb, m0, t0, t1, Co, As, Bs, rg, cg, epi);
}

typedef GtCfg<128, 128, 8, 8> ConvL;
static_assert(ConvL::BM == GT_L_BM && ConvL::BN == GT_L_BN && ConvL::THREADS == GT_THREADS, "the 2x2 data-gradient GEMM uses LinearOps' tiles");
extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm128(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_k<ConvL>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm64(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_k<ConvM>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm32(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_k<ConvS>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}


// ---------------------------------------------------------------- tensor-core forms (--precision tf32 / bf16)
// K_tf32 / K_bf16 with exactly K's signature for the model's shapes (gemm_tc.cuh: the same
// loaders and epilogues, operands rounded on the way into the tensor cores, float accumulation).
template <class C, class TP, int KS, int ST, int PD, int RF>
static __device__ inline void conv_fw_tc(const float* x, const float* w, const float* b, float* y, int Ci, int H,
                                         int W, int Co, int OH, int OW, unsigned owM, int owS, int tpb) {
    GTC_SMEM(C, TP)
    typedef ConvShape<KS, ST, PD, RF> G;
    G g{H, W, OW, Ci * KS * KS, OH * OW, {owM, owS}, KS, ST, PD, RF};
    int n = blockIdx.z, m0 = blockIdx.y * C::BM;
    int tiles = (g.P + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    GtStrided<C::BM, C::THREADS, true> la(w, g.Kd, Co, g.Kd);
    ConvCols<C::BN, C::THREADS, G> lb(x + (long long)n * Ci * H * W, g);
    GtStoreBias st(y + (long long)n * Co * g.P, g.P, b);
    gtc_run_tiles<C, TP>(la, lb, Co, g.P, m0, t0, t1, g.Kd, As, Bs, TcExtra, st);
}

// The 2x2 stride-2 data gradient's scatter as a store functor: (m = 2ci + kx, q = oy*OW + ox).
struct ConvDownStore {
    float* dx; int H, W, OW, ky; CuFastDiv ow; bool accumulate; bool vec;
    __device__ void row(int) {}
    __device__ void put(int m, int q, float v) {
        int oy = ow.div(q), ox = q - oy * OW;
        float* p = dx + (long long)(m >> 1) * H * W + (long long)(2 * oy + ky) * W + 2 * ox + (m & 1);
        *p = accumulate ? *p + v : v;
    }
    __device__ void put4(int, int, float4) {}
};

template <class C, class TP>
static __device__ inline void conv_down_bd_tc(const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co,
                                              int OH, int OW, unsigned owM, int owS, int tpb, int accumulate) {
    GTC_SMEM(C, TP)
    int n = blockIdx.z >> 1, ky = blockIdx.z & 1;
    int P = OH * OW, m0 = blockIdx.y * C::BM;
    int tiles = (P + C::BN - 1) / C::BN;
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    ConvDownWeights<C::BM, C::THREADS> la{w, Ci, Co, ky};
    GtStrided<C::BN, C::THREADS, false> lb(dy + (long long)n * Co * P, P, P, Co);
    ConvDownStore st{dx + (long long)n * Ci * H * W, H, W, OW, ky, {owM, owS}, accumulate != 0, false};
    gtc_run_tiles<C, TP>(la, lb, 2 * Ci, P, m0, t0, t1, Co, As, Bs, TcExtra, st);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k7s1p3r_bm64_bf16(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_tc<ConvM, TcBf16, 7, 1, 3, 1>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k7s1p3r_bm32_bf16(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_tc<ConvS, TcBf16, 7, 1, 3, 1>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k2s2p0_bm64_bf16(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_tc<ConvM, TcBf16, 2, 2, 0, 0>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k2s2p0_bm32_bf16(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_tc<ConvS, TcBf16, 2, 2, 0, 0>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, tpb);
}

extern "C" __global__ void __launch_bounds__(64, 8) conv2d_backward_weight_part_k7s1p3r_32x32_bf16(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW32x32, TcBf16, 7, 1, 3, 1>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_weight_part_k2s2p0_128x128_bf16(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW128x128, TcBf16, 2, 2, 0, 0>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(128, 4) conv2d_backward_weight_part_k2s2p0_64x64_bf16(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW64x64, TcBf16, 2, 2, 0, 0>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm128_bf16(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_tc<ConvL, TcBf16>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm64_bf16(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_tc<ConvM, TcBf16>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm32_bf16(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_tc<ConvS, TcBf16>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k7s1p3r_bm64_tf32(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_tc<ConvM, TcTf32, 7, 1, 3, 1>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k7s1p3r_bm32_tf32(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_tc<ConvS, TcTf32, 7, 1, 3, 1>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k2s2p0_bm64_tf32(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_tc<ConvM, TcTf32, 2, 2, 0, 0>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, tpb);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_forward_k2s2p0_bm32_tf32(
    const float* x, const float* w, const float* b, float* y, int Ci, int H, int W, int Co, int OH, int OW,
    unsigned owM, int owS, int k, int s, int pad, int reflect, int tpb) {
    conv_fw_tc<ConvS, TcTf32, 2, 2, 0, 0>(x, w, b, y, Ci, H, W, Co, OH, OW, owM, owS, tpb);
}

extern "C" __global__ void __launch_bounds__(64, 8) conv2d_backward_weight_part_k7s1p3r_32x32_tf32(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW32x32, TcTf32, 7, 1, 3, 1>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_weight_part_k2s2p0_128x128_tf32(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW128x128, TcTf32, 2, 2, 0, 0>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(128, 4) conv2d_backward_weight_part_k2s2p0_64x64_tf32(
    const float* x, const float* dy, float* ws, float* dw, float* db, unsigned* tickets, int Ci, int H, int W,
    int Co, int OH, int OW, unsigned owM, int owS, int k, int s, int pad, int reflect, int cpi, int L,
    long long SS, int G, int accumulate) {
    conv_bw_k<ConvW64x64, TcTf32, 2, 2, 0, 0>(CONV_BW_ARGS);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm128_tf32(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_tc<ConvL, TcTf32>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm64_tf32(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_tc<ConvM, TcTf32>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}

extern "C" __global__ void __launch_bounds__(256, 2) conv2d_backward_data_k2s2p0_bm32_tf32(
    const float* dy, const float* w, float* dx, int Ci, int H, int W, int Co, int OH, int OW, unsigned owM, int owS,
    int tpb, int accumulate) {
    conv_down_bd_tc<ConvS, TcTf32>(dy, w, dx, Ci, H, W, Co, OH, OW, owM, owS, tpb, accumulate);
}

// ---------------------------------------------------------------- data gradient (gather)
// CONV_ICB (input channels per thread in the data-gradient gather): kernels/geometry.h.

// KS > 0 fixes k = KS and s = ST (so "% s" and "/ s" are constants); KS = 0 uses k, s.
template <int KS, int ST>
static __device__ inline void conv_bd_k(const float* dy, const float* w, float* dxp, int Ci, int Hp, int Wp,
                                        int Co, int OH, int OW, int k_, int s_, int occ, float* smem) {
    const int k = KS > 0 ? KS : k_, s = KS > 0 ? ST : s_;
    int n = blockIdx.z, i0 = blockIdx.y * CONV_ICB;
    int kk = k * k;
    int q = blockIdx.x * blockDim.x + threadIdx.x;
    bool active = q < Hp * Wp;
    int py = active ? q / Wp : 0, px = active ? q - py * Wp : 0;
    float acc[CONV_ICB];
    for (int ii = 0; ii < CONV_ICB; ii++) acc[ii] = 0.0f;
    const float* dyn = dy + (long long)n * Co * OH * OW;
    for (int o0 = 0; o0 < Co; o0 += occ) {
        int oc = cu_min(occ, Co - o0);
        for (int e = threadIdx.x; e < occ * CONV_ICB * kk; e += blockDim.x) {
            int oo = e / (CONV_ICB * kk), r = e - oo * (CONV_ICB * kk);
            int ii = r / kk, t = r - ii * kk;
            int o = o0 + oo, i = i0 + ii;
            smem[e] = (oo < oc && i < Ci) ? w[((long long)o * Ci + i) * kk + t] : 0.0f;
        }
        __syncthreads();
        if (active) {
            for (int ky = 0; ky < k; ky++) {
                int ty = py - ky;
                if (ty < 0 || ty % s != 0) continue;
                int oy = ty / s;
                if (oy >= OH) continue;
                for (int kx = 0; kx < k; kx++) {
                    int tx = px - kx;
                    if (tx < 0 || tx % s != 0) continue;
                    int ox = tx / s;
                    if (ox >= OW) continue;
                    const float* d = dyn + (long long)o0 * OH * OW + oy * OW + ox;
                    int t = ky * k + kx;
                    for (int oo = 0; oo < oc; oo++) {
                        float dv = d[(long long)oo * OH * OW];
                        const float* wsh = smem + oo * CONV_ICB * kk + t;
CU_UNROLL
                        for (int ii = 0; ii < CONV_ICB; ii++) acc[ii] += wsh[ii * kk] * dv;
                    }
                }
            }
        }
        __syncthreads();
    }
    if (!active) return;
    for (int ii = 0; ii < CONV_ICB; ii++) {
        int i = i0 + ii;
        if (i < Ci) dxp[(((long long)n * Ci + i) * Hp + py) * Wp + px] = acc[ii];
    }
}

extern "C" __global__ void conv2d_backward_data(const float* dy, const float* w, float* dxp, int Ci,
                                                int Hp, int Wp, int Co, int OH, int OW, int k,
                                                int s, int occ) {
    extern __shared__ float smem[];   // [occ][CONV_ICB][k*k]
    conv_bd_k<0, 0>(dy, w, dxp, Ci, Hp, Wp, Co, OH, OW, k, s, occ, smem);
}

extern "C" __global__ void conv2d_backward_fold(const float* dxp, float* dx, int H, int W, int pad,
                                                int reflect) {
    int q = blockIdx.x * blockDim.x + threadIdx.x;
    if (q >= H * W) return;
    long long plane = blockIdx.y;
    int Hp = H + 2 * pad, Wp = W + 2 * pad;
    int y = q / W, x = q - y * W;
    const float* src = dxp + plane * Hp * Wp;
    // Padded coordinates (offset by pad) of every position whose value is x[y][x].
    int ry[3], rx[3], ny = 0, nx = 0;
    ry[ny++] = y + pad;
    rx[nx++] = x + pad;
    if (reflect) {
        if (y >= 1 && y <= pad) ry[ny++] = -y + pad;
        if (y <= H - 2 && y >= H - 1 - pad) ry[ny++] = 2 * (H - 1) - y + pad;
        if (x >= 1 && x <= pad) rx[nx++] = -x + pad;
        if (x <= W - 2 && x >= W - 1 - pad) rx[nx++] = 2 * (W - 1) - x + pad;
    }
    float s = 0.0f;
    for (int a = 0; a < ny; a++)
        for (int c = 0; c < nx; c++) s += src[(long long)ry[a] * Wp + rx[c]];
    dx[plane * H * W + q] = s;
}
