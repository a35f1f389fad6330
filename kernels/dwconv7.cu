// dwconv7.cu — depthwise 7x7 convolution, reflect padding 3, stride 1, with bias (the ConvNeXt
// block's token mixer; PyTorch Conv2d(C, C, 7, padding=3, groups=C, padding_mode='reflect')).
//
// Math: x, y [N,C,H,W] (H, W >= 4), w [C,1,7,7], b [C]; refl(i) = -i (i<0), 2(n-1)-i (i>=n).
//   y[n,c,p,q]  = b[c] + sum_{a,e<7} w[c,a,e] * x[n,c, refl(p+a-3), refl(q+e-3)]
//   dx[n,c,u,v] = sum over every padded position (i,j) in [-3,H+2]x[-3,W+2] with
//                 refl(i)=u, refl(j)=v of G(i,j),  G(i,j) = sum_{a,e} w[c,a,e]*dy[n,c,i+3-a,j+3-e]
//                 (dy zero outside the image). The preimages of u are u itself, -u when
//                 1<=u<=3 and 2(H-1)-u when H-4<=u<=H-2: the reflect-adjoint folds border
//                 gradients back; only pixels within 3 of a border have more than one.
//   dw[c,a,e]   = sum_{n,p,q} dy[n,c,p,q] * x[n,c,refl(p+a-3),refl(q+e-3)];  db[c] = sum dy.
// Layout: NCHW float32 dense; plane (n,c) is H*W contiguous floats.
//
// Launch geometry (all tiles are 32x32 outputs of one plane, block 32x8 threads, each thread
// 4 vertically consecutive outputs of one column so every loaded row feeds up to 4 outputs):
//   dwconv7_forward, dwconv7_backward_data: grid (ceil(W/32), ceil(H/32), N*C); the 38x38 input
//     (or dy) tile with its 3-pixel halo is staged in shared memory (reflect- or zero-filled).
//   dwconv7_backward_weight_part: grid (ceil(tiles/tpb), N*C): block b accumulates 49 tap sums
//     + the bias sum over tiles [b*tpb, (b+1)*tpb) in registers, then reduces them once in the
//     block (warp shuffles, then 8 warps) into partial[(c*50 + t)*S + n*gridDim.x + b],
//     S = N*gridDim.x.
//   dwconv7_backward_weight: grid (C*50), 256 threads: fixed-order sum over S (deterministic),
//     writes dw [C,49] and db [C].
#include "common.cuh"

// DW_T (output tile edge), DW_R (rows per thread), DW_BLOCK_X/Y: kernels/geometry.h.
#define DW_E (DW_T + 6)  // staged tile edge with halo
static_assert(DW_BLOCK_X == DW_T && DW_BLOCK_Y * DW_R == DW_T && DW_BLOCK_Y == 8,
              "a 32 x 8 block covers the 32 x 32 tile with 4 rows per thread (loops step by DW_T * 8 threads)");
static_assert(DW_TAPS_AND_BIAS == 50, "partial layout [(c*50 + t)*S + ...]: 49 taps and the bias");

// acc[o] += sum_{a,e} wf[a*7+e] * tile[ly0+o+a][lx+e] for the thread's 4 outputs.
static __device__ inline void dw_accumulate(const float (*tile)[DW_E + 1], const float* wf, int ly0,
                                            int lx, float* acc) {
CU_UNROLL
    for (int r = 0; r < DW_R + 6; r++) {
CU_UNROLL
        for (int e = 0; e < 7; e++) {
            float v = tile[ly0 + r][lx + e];
CU_UNROLL
            for (int o = 0; o < DW_R; o++) {
                int a = r - o;
                if (a >= 0 && a < 7) acc[o] += wf[a * 7 + e] * v;
            }
        }
    }
}

extern "C" __global__ void dwconv7_forward(const float* x, const float* w, const float* b, float* y,
                                           int C, int H, int W) {
    __shared__ float tile[DW_E][DW_E + 1];
    __shared__ float wf[49];
    int plane = blockIdx.z, c = plane % C;
    int x0 = blockIdx.x * DW_T, y0 = blockIdx.y * DW_T;
    int tid = threadIdx.y * DW_T + threadIdx.x;
    const float* xp = x + (long long)plane * H * W;
    for (int e = tid; e < DW_E * DW_E; e += DW_T * 8) {
        int r = e / DW_E, cc = e - r * DW_E;
        tile[r][cc] = xp[cu_reflect(y0 - 3 + r, H) * W + cu_reflect(x0 - 3 + cc, W)];
    }
    if (tid < 49) wf[tid] = w[c * 49 + tid];
    __syncthreads();
    float acc[DW_R];
    float bv = b[c];
    for (int o = 0; o < DW_R; o++) acc[o] = bv;
    int ly0 = threadIdx.y * DW_R, lx = threadIdx.x;
    dw_accumulate(tile, wf, ly0, lx, acc);
    int ox = x0 + lx;
    if (ox >= W) return;
    float* yp = y + (long long)plane * H * W;
    for (int o = 0; o < DW_R; o++) {
        int oy = y0 + ly0 + o;
        if (oy < H) yp[oy * W + ox] = acc[o];
    }
}

// G(i,j) for a padded position, reading dy from global memory with zero outside the image
// (only used for the extra reflect-adjoint terms near the borders).
static __device__ inline float dw_gather_global(const float* dyp, const float* wsh, int i, int j,
                                                int H, int W) {
    float s = 0.0f;
    for (int a = 0; a < 7; a++) {
        int r = i + 3 - a;
        if (r < 0 || r >= H) continue;
        for (int e = 0; e < 7; e++) {
            int q = j + 3 - e;
            if (q < 0 || q >= W) continue;
            s += wsh[a * 7 + e] * dyp[r * W + q];
        }
    }
    return s;
}

// Padded positions mapping onto u under refl (u itself first); returns how many (1..3).
static __device__ inline int dw_preimages(int u, int n, int* out) {
    int k = 0;
    out[k++] = u;
    if (u >= 1 && u <= 3) out[k++] = -u;
    if (u <= n - 2 && u >= n - 4) out[k++] = 2 * (n - 1) - u;
    return k;
}

extern "C" __global__ void dwconv7_backward_data(const float* dy, const float* w, float* dx, int C,
                                                 int H, int W) {
    __shared__ float tile[DW_E][DW_E + 1];
    __shared__ float wf[49];    // flipped filter: the main term is a correlation with it
    __shared__ float wsh[49];   // plain filter for the border terms
    int plane = blockIdx.z, c = plane % C;
    int x0 = blockIdx.x * DW_T, y0 = blockIdx.y * DW_T;
    int tid = threadIdx.y * DW_T + threadIdx.x;
    const float* dyp = dy + (long long)plane * H * W;
    for (int e = tid; e < DW_E * DW_E; e += DW_T * 8) {
        int r = e / DW_E, cc = e - r * DW_E;
        int gy = y0 - 3 + r, gx = x0 - 3 + cc;
        tile[r][cc] = (gy >= 0 && gy < H && gx >= 0 && gx < W) ? dyp[gy * W + gx] : 0.0f;
    }
    if (tid < 49) {
        wf[tid] = w[c * 49 + 48 - tid];
        wsh[tid] = w[c * 49 + tid];
    }
    __syncthreads();
    float acc[DW_R];
    for (int o = 0; o < DW_R; o++) acc[o] = 0.0f;
    int ly0 = threadIdx.y * DW_R, lx = threadIdx.x;
    // Main term G(u,v): dy rows u-3..u+3 sit at tile rows (u-y0)..(u-y0)+6.
    dw_accumulate(tile, wf, ly0, lx, acc);
    int ox = x0 + lx;
    if (ox >= W) return;
    float* dxp = dx + (long long)plane * H * W;
    int px[3];
    int nxp = dw_preimages(ox, W, px);
    for (int o = 0; o < DW_R; o++) {
        int oy = y0 + ly0 + o;
        if (oy >= H) break;
        int py[3];
        int nyp = dw_preimages(oy, H, py);
        float s = acc[o];
        if (nyp > 1 || nxp > 1) {
            for (int a = 0; a < nyp; a++)
                for (int e = 0; e < nxp; e++)
                    if (a > 0 || e > 0) s += dw_gather_global(dyp, wsh, py[a], px[e], H, W);
        }
        dxp[oy * W + ox] = s;
    }
}

extern "C" __global__ void dwconv7_backward_weight_part(const float* x, const float* dy,
                                                        float* partial, int C, int H, int W,
                                                        int tilesX, int tiles, int tpb, int S) {
    __shared__ float tile[DW_E][DW_E + 1];
    __shared__ float red[8][50];
    int plane = blockIdx.y, c = plane % C, n = plane / C;
    int tid = threadIdx.y * DW_T + threadIdx.x;
    int ly0 = threadIdx.y * DW_R, lx = threadIdx.x;
    const float* xp = x + (long long)plane * H * W;
    const float* dyp = dy + (long long)plane * H * W;
    float acc[50];
    CU_UNROLL
    for (int t = 0; t < 50; t++) acc[t] = 0.0f;
    // This block's tiles [t0, t1): partial sums stay in registers across them, so the 50-value
    // block reduction below is paid once per tpb tiles.
    int t0 = blockIdx.x * tpb, t1 = cu_min(tiles, t0 + tpb);
    for (int tIdx = t0; tIdx < t1; tIdx++) {
        int ty = tIdx / tilesX, tx = tIdx - ty * tilesX;
        int x0 = tx * DW_T, y0 = ty * DW_T;
        __syncthreads();   // the previous tile is no longer read
        for (int e = tid; e < DW_E * DW_E; e += DW_T * 8) {
            int r = e / DW_E, cc = e - r * DW_E;
            tile[r][cc] = xp[cu_reflect(y0 - 3 + r, H) * W + cu_reflect(x0 - 3 + cc, W)];
        }
        float d[DW_R];
        for (int o = 0; o < DW_R; o++) {
            int oy = y0 + ly0 + o, ox = x0 + lx;
            d[o] = (oy < H && ox < W) ? dyp[oy * W + ox] : 0.0f;
        }
        __syncthreads();
        CU_UNROLL
        for (int r = 0; r < DW_R + 6; r++) {
            CU_UNROLL
            for (int e = 0; e < 7; e++) {
                float v = tile[ly0 + r][lx + e];
                CU_UNROLL
                for (int o = 0; o < DW_R; o++) {
                    int a = r - o;
                    if (a >= 0 && a < 7) acc[a * 7 + e] += d[o] * v;
                }
            }
        }
        acc[49] += d[0] + d[1] + d[2] + d[3];
    }
    int warp = tid >> 5, lane = tid & 31;
    CU_UNROLL
    for (int t = 0; t < 50; t++) {
        float v = cu_warp_sum(acc[t]);
        if (lane == 0) red[warp][t] = v;
    }
    __syncthreads();
    if (tid < 50) {
        float s = 0.0f;
        for (int k = 0; k < 8; k++) s += red[k][tid];
        partial[((long long)c * 50 + tid) * S + (long long)n * gridDim.x + blockIdx.x] = s;
    }
}

extern "C" __global__ void dwconv7_backward_weight(const float* partial, float* dw, float* db,
                                                   int C, int S) {
    __shared__ double sh[CU_THREADS];
    int ct = blockIdx.x;   // c*50 + t
    const float* p = partial + (long long)ct * S;
    double s = 0.0;
    for (int i = threadIdx.x; i < S; i += blockDim.x) s += p[i];
    s = cu_block_sum_d(s, sh);
    if (threadIdx.x == 0) {
        int c = ct / 50, t = ct - c * 50;
        if (t < 49) dw[c * 49 + t] = (float)s;
        else db[c] = (float)s;
    }
}
