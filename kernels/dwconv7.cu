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
//                 G is a correlation with the flipped filter wf[a][e] = w[6-a][6-e]:
//                 G(i,j) = sum_{a,e} wf[a][e] * dy[i-3+a][j-3+e].
//   dw[c,a,e]   = sum_{n,p,q} dy[n,c,p,q] * x[n,c,refl(p+a-3),refl(q+e-3)];  db[c] = sum dy.
// Layout: NCHW float32 dense; plane (n,c) is H*W contiguous floats.
//
// Launch geometry: tiles of 32 columns x 64 rows of one plane, block 32x8 threads, each thread
// the 8 vertically consecutive outputs of one column (every loaded row feeds up to 8 outputs).
//   dwconv7_forward, dwconv7_backward_data: grid (ceil(W/32), ceil(H/64), N*C); the 70x38 input
//     (or dy) tile with its 3-pixel halo is staged in shared memory (reflect- or zero-filled);
//     the 49 taps sit in registers (all threads of a block share the plane's channel), so the
//     main loop does 14 rows x 7 = 98 shared loads per 392 FMA (0.25 per FMA).
//     backward_data adds the reflect-adjoint terms of pixels within 3 of a border from the same
//     shared tile (every dy they need is in it or outside the image).
//   dwconv7_backward_weight: grid (ceil(tiles/tpb), N*C), one launch: block b accumulates 49 tap
//     sums + the bias sum over tiles [b*tpb, (b+1)*tpb) in registers, reduces them once in the
//     block (warp shuffles, then 8 warps) into partial[(c*50 + t)*S + n*gridDim.x + b],
//     S = N*gridDim.x; then the last block of channel c to finish ("last block reduces": each
//     block's writes, __threadfence(), an unsigned-int ticket per channel, tickets[c]) sums the S
//     partials of each of the 50 values in the fixed order s = 0..S-1 in double, writes dw [C,49]
//     and db [C], and puts tickets[c] back to 0 for the next launch (or a graph replay). Which
//     block is last varies from run to run; the order of the sum does not, so the bits do not.
//     tickets: C unsigned ints, zero before the launch (DwConv7Ops allocates them once, zeroed).
//     No float atomics; the only atomic is the integer ticket.
//   accumulate (data kernel: != 0; weight kernel: bit 0 for dw, bit 1 for db): the result is
//   added to what dx / dw / db hold (a gradient already held: an activation used twice, a
//   parameter's slice of the zeroed flat gradient).
#include <climits>
#include "common.cuh"

// DW_TX (output tile columns = threads in x), DW_R (outputs per thread, rows), DW_TY (output tile
// rows), DW_THREADS: kernels/geometry.h.
#define DW_EX (DW_TX + 6)     // staged tile columns (with halo)
#define DW_EY (DW_TY + 6)     // staged tile rows (with halo)
static_assert(DW_TY == 8 * DW_R && DW_THREADS == DW_TX * 8 && DW_THREADS == 256,
              "a DW_TX x 8 block covers the DW_TX x DW_TY tile with DW_R rows per thread; the weight "
              "reduction's red[8][..] is one row per warp-row of threadIdx.y");
static_assert(DW_TAPS_AND_BIAS == 50, "partial layout [(c*50 + t)*S + ...]: 49 taps and the bias");

// The 49 taps of channel c into registers (flipped for the data gradient). Every thread of the
// block reads the same 49 floats: one broadcast each from L1.
template <bool FLIP>
static __device__ inline void dw_taps(const float* w, int c, float (&wr)[49]) {
CU_UNROLL
    for (int t = 0; t < 49; t++) wr[t] = __ldg(w + c * 49 + (FLIP ? 48 - t : t));
}

// Stages the (DW_EY x DW_EX) tile whose top-left is (y0-3, x0-3): reflect-filled (REFLECT) or
// zero outside the plane.
template <bool REFLECT>
static __device__ inline void dw_stage(const float* plane, int H, int W, int y0, int x0,
                                       float (*tile)[DW_EX]) {
    int tid = threadIdx.y * DW_TX + threadIdx.x;
    for (int e = tid; e < DW_EY * DW_EX; e += DW_THREADS) {
        int r = e / DW_EX, cc = e - r * DW_EX;
        int gy = y0 - 3 + r, gx = x0 - 3 + cc;
        float v;
        if (REFLECT) {
            v = plane[cu_reflect(gy, H) * W + cu_reflect(gx, W)];
        } else {
            v = (gy >= 0 && gy < H && gx >= 0 && gx < W) ? plane[gy * W + gx] : 0.0f;
        }
        tile[r][cc] = v;
    }
}

// acc[o] += sum_{a,e} wr[a*7+e] * tile[ly0+o+a][lx+e] for the thread's DW_R outputs.
static __device__ inline void dw_accumulate(const float (*tile)[DW_EX], const float (&wr)[49], int ly0,
                                            int lx, float (&acc)[DW_R]) {
CU_UNROLL
    for (int r = 0; r < DW_R + 6; r++) {
        float v[7];
CU_UNROLL
        for (int e = 0; e < 7; e++) v[e] = tile[ly0 + r][lx + e];
CU_UNROLL
        for (int o = 0; o < DW_R; o++) {
            int a = r - o;
            if (a >= 0 && a < 7) {
CU_UNROLL
                for (int e = 0; e < 7; e++) acc[o] += wr[a * 7 + e] * v[e];
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(DW_THREADS, 2) dwconv7_forward(const float* x, const float* w,
                                                                        const float* b, float* y, int C,
                                                                        int H, int W) {
    __shared__ float tile[DW_EY][DW_EX];
    int plane = blockIdx.z, c = plane % C;
    int x0 = blockIdx.x * DW_TX, y0 = blockIdx.y * DW_TY;
    const float* xp = x + (long long)plane * H * W;
    float wr[49];
    dw_taps<false>(w, c, wr);
    dw_stage<true>(xp, H, W, y0, x0, tile);
    __syncthreads();
    float acc[DW_R];
    float bv = __ldg(b + c);
CU_UNROLL
    for (int o = 0; o < DW_R; o++) acc[o] = bv;
    int ly0 = threadIdx.y * DW_R, lx = threadIdx.x;
    dw_accumulate(tile, wr, ly0, lx, acc);
    int ox = x0 + lx;
    if (ox >= W) return;
    float* yp = y + (long long)plane * H * W;
CU_UNROLL
    for (int o = 0; o < DW_R; o++) {
        int oy = y0 + ly0 + o;
        if (oy < H) yp[oy * W + ox] = acc[o];
    }
}

// G(i, j) (plane coordinates, i in [-3, H+2]) from the zero-filled dy tile staged at (y0-3, x0-3):
// sum_{a,e} wf[a][e] * dy[i-3+a][j-3+e]. A dy position outside the tile is outside the image (the
// caller only asks for preimages of pixels in this tile), so it counts as zero.
static __device__ inline float dw_point(const float (*tile)[DW_EX], const float (&wf)[49], int i, int j,
                                        int y0, int x0) {
    int ti = i - y0, tj = j - x0;   // tile row / column of dy[i-3][j-3]
    float s = 0.0f;
CU_UNROLL
    for (int a = 0; a < 7; a++) {
        if (ti + a < 0 || ti + a >= DW_EY) continue;
CU_UNROLL
        for (int e = 0; e < 7; e++) {
            if (tj + e < 0 || tj + e >= DW_EX) continue;
            s += wf[a * 7 + e] * tile[ti + a][tj + e];
        }
    }
    return s;
}

// The mirror preimage of u on one side, or INT_MIN when it has none: -u (1 <= u <= 3) for the low
// side, 2(n-1)-u (n-4 <= u <= n-2) for the high side.
static __device__ inline int dw_mirror_lo(int u) { return (u >= 1 && u <= 3) ? -u : INT_MIN; }
static __device__ inline int dw_mirror_hi(int u, int n) { return (u >= n - 4 && u <= n - 2) ? 2 * (n - 1) - u : INT_MIN; }

extern "C" __global__ void __launch_bounds__(DW_THREADS, 2) dwconv7_backward_data(const float* dy,
                                                                              const float* w, float* dx,
                                                                              int C, int H, int W,
                                                                              int accumulate) {
    __shared__ float tile[DW_EY][DW_EX];
    int plane = blockIdx.z, c = plane % C;
    int x0 = blockIdx.x * DW_TX, y0 = blockIdx.y * DW_TY;
    const float* dyp = dy + (long long)plane * H * W;
    float wf[49];   // flipped filter: G is a correlation with it
    dw_taps<true>(w, c, wf);
    dw_stage<false>(dyp, H, W, y0, x0, tile);
    __syncthreads();
    float acc[DW_R];
CU_UNROLL
    for (int o = 0; o < DW_R; o++) acc[o] = 0.0f;
    int ly0 = threadIdx.y * DW_R, lx = threadIdx.x;
    // Main term G(u,v): dy rows u-3..u+3 sit at tile rows (u-y0)..(u-y0)+6.
    dw_accumulate(tile, wf, ly0, lx, acc);
    int v = x0 + lx;
    if (v >= W) return;
    float* dxp = dx + (long long)plane * H * W;
    int vlo = dw_mirror_lo(v), vhi = dw_mirror_hi(v, W);
CU_UNROLL
    for (int o = 0; o < DW_R; o++) {
        int u = y0 + ly0 + o;
        if (u >= H) break;
        float s = acc[o];
        int ulo = dw_mirror_lo(u), uhi = dw_mirror_hi(u, H);
        // Every (row preimage, column preimage) pair but (u, v) itself: at most 8, only near a border.
        if (ulo != INT_MIN || uhi != INT_MIN || vlo != INT_MIN || vhi != INT_MIN) {
            int rows[3] = {u, ulo, uhi}, cols[3] = {v, vlo, vhi};
CU_UNROLL
            for (int ri = 0; ri < 3; ri++)
CU_UNROLL
                for (int ci = 0; ci < 3; ci++) {
                    if ((ri | ci) == 0 || rows[ri] == INT_MIN || cols[ci] == INT_MIN) continue;
                    s += dw_point(tile, wf, rows[ri], cols[ci], y0, x0);
                }
        }
        dxp[u * W + v] = accumulate ? dxp[u * W + v] + s : s;
    }
}

extern "C" __global__ void __launch_bounds__(DW_THREADS, 2) dwconv7_backward_weight(
    const float* x, const float* dy, float* partial, unsigned int* tickets, float* dw, float* db, int C, int H,
    int W, int tilesX, int tiles, int tpb, int S, int accumulate) {
    __shared__ float tile[DW_EY][DW_EX];
    __shared__ float red[8][50];
    __shared__ bool last;
    int plane = blockIdx.y, c = plane % C, n = plane / C;
    int tid = threadIdx.y * DW_TX + threadIdx.x;
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
        int x0 = tx * DW_TX, y0 = ty * DW_TY;
        __syncthreads();   // the previous tile is no longer read
        dw_stage<true>(xp, H, W, y0, x0, tile);
        float d[DW_R];
CU_UNROLL
        for (int o = 0; o < DW_R; o++) {
            int oy = y0 + ly0 + o, ox = x0 + lx;
            d[o] = (oy < H && ox < W) ? dyp[oy * W + ox] : 0.0f;
        }
        __syncthreads();
CU_UNROLL
        for (int r = 0; r < DW_R + 6; r++) {
            float v[7];
CU_UNROLL
            for (int e = 0; e < 7; e++) v[e] = tile[ly0 + r][lx + e];
CU_UNROLL
            for (int o = 0; o < DW_R; o++) {
                int a = r - o;
                if (a >= 0 && a < 7) {
CU_UNROLL
                    for (int e = 0; e < 7; e++) acc[a * 7 + e] += d[o] * v[e];
                }
            }
        }
CU_UNROLL
        for (int o = 0; o < DW_R; o++) acc[49] += d[o];
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
        __threadfence();   // this block's partials are visible device-wide before its ticket is drawn
    }
    __syncthreads();
    if (tid == 0) last = atomicAdd(tickets + c, 1u) == (unsigned int)S - 1u;   // S blocks per channel
    __syncthreads();
    if (!last) return;
    __threadfence();   // every other block of channel c has fenced its partials before its ticket
    if (tid < 50) {
        const volatile float* p = partial + ((long long)c * 50 + tid) * S;
        double s = 0.0;
        for (int i = 0; i < S; i++) s += p[i];   // fixed order: the same bits whichever block is last
        float* dst = tid < 49 ? dw + c * 49 + tid : db + c;
        *dst = (accumulate & (tid < 49 ? 1 : 2)) ? *dst + (float)s : (float)s;
    }
    if (tid == 0) tickets[c] = 0u;   // ready for the next launch (a CUDA-graph replay too)
}
