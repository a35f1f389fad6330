// conv2d.cu — dense 2-D convolution (PyTorch Conv2d, cross-correlation), any k, stride, pad,
// zero or reflect padding (reflect needs pad < H, W). Used for the 7x7 reflect stem (Ci=3),
// the 2x2 stride-2 downsampling and (through gemm.cu when k=1) the 1x1 convolutions.
//
// Math: x [N,Ci,H,W], w [Co,Ci,k,k], b [Co]; OH = (H+2p-k)/s+1, OW likewise;
//   y[n,o,oy,ox] = b[o] + sum_{i,ky,kx} w[o,i,ky,kx] * xpad[n,i,oy*s+ky-p, ox*s+kx-p]
//   where xpad reflects (x[refl(.)]) or is zero outside.
// Layout: NCHW float32, dense; P = OH*OW; the weight is a row-major [Co, Ci*k*k] matrix.
//
// conv2d_forward[_bm32]: implicit GEMM  Y[n] (Co x P) = W (Co x Ci*k*k) . im2col(x[n]) + b,
//   the im2col matrix read on the fly (gemm_tile.cuh). grid (ceil(P/64), ceil(Co/BM), N), 256 thr.
// conv2d_backward_weight_part[_bm32]: split-K implicit GEMM  dW = sum_n dY[n] (Co x P) .
//   im2col(x[n])^T; block z = n*cpi + chunk covers output pixels [chunk*L, (chunk+1)*L) and writes
//   ws[z] (Co x Ci*k*k); gemm_backward_weight_reduce (gemm.cu) sums the partials in order.
//   grid (ceil(Ci*k*k/64), ceil(Co/BM), N*cpi).
// conv2d_backward_data: gradient w.r.t. the PADDED input, a gather:
//   dxp[n,i,py,px] = sum_{o,ky,kx: py-ky = oy*s, px-kx = ox*s in range} w[o,i,ky,kx]*dy[n,o,oy,ox]
//   [N,Ci,Hp,Wp], Hp = H+2p. One thread per padded pixel and group of 8 input channels; the
//   weights of `occ` output channels x 8 input channels sit in dynamic shared memory
//   (occ*8*k*k floats). grid (ceil(Hp*Wp/256), ceil(Ci/8), N), 256 threads.
// conv2d_backward_fold: adjoint of the padding: dx[q] = sum of dxp over every padded position
//   that maps to q (reflect: q itself, its mirror below 0 and its mirror past the end; zero: the
//   shifted position only). grid (ceil(H*W/256), N*Ci), 256 threads. (With p = 0 the data
//   kernel writes dx directly and no fold runs.)
#include "gemm_tile.cuh"

// im2col(x) as a matrix: element (j, q) with j = (i, ky, kx) and q = oy*OW + ox.
struct ConvIm2col {
    const float* x; int H, W, OW, k, s, pad, reflect;
    __device__ float at(int j, int q) const {
        int kk = k * k;
        int i = j / kk, r = j - i * kk;
        int ky = r / k, kx = r - ky * k;
        int oy = q / OW, ox = q - oy * OW;
        int yy = oy * s + ky - pad, xx = ox * s + kx - pad;
        if (reflect) {
            yy = cu_reflect(yy, H);
            xx = cu_reflect(xx, W);
        } else if (yy < 0 || yy >= H || xx < 0 || xx >= W) {
            return 0.0f;
        }
        return x[((long long)i * H + yy) * W + xx];
    }
};

// Its transpose: element (q, j).
struct ConvIm2colT {
    ConvIm2col c;
    __device__ float at(int q, int j) const { return c.at(j, q); }
};

template <int BM>
static __device__ inline void conv_fw_body(const float* x, const float* w, const float* b, float* y,
                                           int Ci, int H, int W, int Co, int OH, int OW, int k,
                                           int s, int pad, int reflect, float (*As)[BM + GT_PAD],
                                           float (*Bs)[GT_BN + GT_PAD]) {
    int n = blockIdx.z, m0 = blockIdx.y * BM, n0 = blockIdx.x * GT_BN;
    int Kd = Ci * k * k, P = OH * OW;
    GtRowMajor la{w, Kd};
    ConvIm2col lb{x + (long long)n * Ci * H * W, H, W, OW, k, s, pad, reflect};
    float acc[BM / 16][4];
    gt_zero<BM>(acc);
    gt_mainloop<BM, true, true>(la, lb, Co, P, m0, n0, 0, Kd, As, Bs, acc);
    gt_store_c<BM>(y + (long long)n * Co * P, P, b, Co, P, m0, n0, acc);
}

template <int BM>
static __device__ inline void conv_bw_body(const float* x, const float* dy, float* ws, int Ci,
                                           int H, int W, int Co, int OH, int OW, int k, int s,
                                           int pad, int reflect, int cpi, int L,
                                           float (*As)[BM + GT_PAD], float (*Bs)[GT_BN + GT_PAD]) {
    int zz = blockIdx.z, n = zz / cpi, chunk = zz - n * cpi;
    int m0 = blockIdx.y * BM, n0 = blockIdx.x * GT_BN;
    int Kd = Ci * k * k, P = OH * OW;
    int kBegin = chunk * L, kEnd = cu_min(P, kBegin + L);
    GtRowMajor la{dy + (long long)n * Co * P, P};
    ConvIm2colT lb{{x + (long long)n * Ci * H * W, H, W, OW, k, s, pad, reflect}};
    float acc[BM / 16][4];
    gt_zero<BM>(acc);
    gt_mainloop<BM, true, false>(la, lb, Co, Kd, m0, n0, kBegin, kEnd, As, Bs, acc);
    gt_store_c<BM>(ws + (long long)zz * Co * Kd, Kd, (const float*)0, Co, Kd, m0, n0, acc);
}

#define CONV_SMEM(BM) \
    __shared__ float As[GT_BK][(BM) + GT_PAD]; \
    __shared__ float Bs[GT_BK][GT_BN + GT_PAD];

extern "C" __global__ void conv2d_forward(const float* x, const float* w, const float* b, float* y,
                                          int Ci, int H, int W, int Co, int OH, int OW, int k,
                                          int s, int pad, int reflect) {
    CONV_SMEM(64)
    conv_fw_body<64>(x, w, b, y, Ci, H, W, Co, OH, OW, k, s, pad, reflect, As, Bs);
}

extern "C" __global__ void conv2d_forward_bm32(const float* x, const float* w, const float* b,
                                               float* y, int Ci, int H, int W, int Co, int OH,
                                               int OW, int k, int s, int pad, int reflect) {
    CONV_SMEM(32)
    conv_fw_body<32>(x, w, b, y, Ci, H, W, Co, OH, OW, k, s, pad, reflect, As, Bs);
}

extern "C" __global__ void conv2d_backward_weight_part(const float* x, const float* dy, float* ws,
                                                       int Ci, int H, int W, int Co, int OH,
                                                       int OW, int k, int s, int pad, int reflect,
                                                       int cpi, int L) {
    CONV_SMEM(64)
    conv_bw_body<64>(x, dy, ws, Ci, H, W, Co, OH, OW, k, s, pad, reflect, cpi, L, As, Bs);
}

extern "C" __global__ void conv2d_backward_weight_part_bm32(const float* x, const float* dy,
                                                            float* ws, int Ci, int H, int W,
                                                            int Co, int OH, int OW, int k, int s,
                                                            int pad, int reflect, int cpi, int L) {
    CONV_SMEM(32)
    conv_bw_body<32>(x, dy, ws, Ci, H, W, Co, OH, OW, k, s, pad, reflect, cpi, L, As, Bs);
}

// CONV_ICB (input channels per thread in the data-gradient gather): kernels/geometry.h.

extern "C" __global__ void conv2d_backward_data(const float* dy, const float* w, float* dxp, int Ci,
                                                int Hp, int Wp, int Co, int OH, int OW, int k,
                                                int s, int occ) {
    extern __shared__ float smem[];   // [occ][CONV_ICB][k*k]
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
                        const float* ws = smem + oo * CONV_ICB * kk + t;
CU_UNROLL
                        for (int ii = 0; ii < CONV_ICB; ii++) acc[ii] += ws[ii * kk] * dv;
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
