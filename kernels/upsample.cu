// upsample.cu — bilinear x2 upsampling, align_corners=True (F.interpolate), and its adjoint.
// Math: x [N,C,H,W] -> y [N,C,2H,2W]. Along each axis (PyTorch's float arithmetic):
//   scale = (H-1)/(2H-1) (0 when H = 1); src = scale*o; i0 = floor(src); i1 = min(i0+1, H-1);
//   l1 = src - i0, l0 = 1 - l1;  y[o,o'] = sum over (i0|i1) x (j0|j1) of the product weights.
//   Adjoint (upsample2x_backward): dx[i,j] = sum_{o,o'} Ay(o,i) Ax(o',j) dy[o,o'] where
//   A(o,i) = l0(o)[i0(o)=i] + l1(o)[i1(o)=i]; only o in [2i-3, 2i+4] can touch i, so the
//   adjoint is a deterministic gather over an 8x8 window.
// Layout: NCHW float32 dense; plane (n,c) contiguous.
// Launch (no integer division anywhere: 3-D grids, plane = blockIdx.z; 32x8 threads):
//   upsample2x_forward: grid (ceil(2W/UP_FX), ceil(2H/UP_FY), N*C). A block's UP_FY x UP_FX output
//     tile reads at most UP_FY/2+2 input rows and UP_FX/2+2 columns (scale < 1/2); it stages them in
//     shared memory as 4-column pieces starting on a multiple of 4 (one 128-bit load each when W % 4
//     == 0 and the plane is 16-byte aligned, else 4 scalar loads), then thread (tx, ty) writes
//     columns 4tx..4tx+3 of rows ty and ty+8 (one 128-bit store per row when W is even and y's plane
//     is aligned, else 4 scalar stores).
//   upsample2x_backward: grid (ceil(W/(4*32)), ceil(H/8), N*C); thread (tx, ty) computes dx columns
//     j = 4m..4m+3 (m = blockIdx.x*32 + tx) of row i: their dy columns 2j-3..2j+4 lie in 8m-4..8m+11,
//     four 16-byte pieces per dy row read into registers (128-bit loads when 2W % 4 == 0 and the
//     plane is aligned; scalar, bounds-checked, otherwise), then each output sums exactly as one
//     thread per output did (rows o ascending, zero-weight rows skipped; columns ascending).
// Per output the arithmetic (and so the bits) is that of the one-thread-per-output kernels these
// replaced: the same products and sums in the same order.
#include "common.cuh"

// UP_FX, UP_FY (forward output tile: 32 threads x 4 columns, 8 threads x 2 rows): kernels/geometry.h.
static_assert(UP_FX == 32 * 4 && UP_FY == 8 * 2, "thread (tx, ty) writes columns 4tx..4tx+3 of rows ty, ty+8");
#define UP_SY (UP_FY / 2 + 2)   // staged input rows
#define UP_SX (UP_FX / 2 + 8)   // staged input columns: UP_FX/2 + 2, plus up to 3 from aligning the start down, rounded to 4
static_assert(UP_SX % 4 == 0 && UP_SX / 4 <= 32, "one staged piece per thread in x");

struct UpAxis { int i0, i1; float l0, l1; };

// scale = (n-1)/(2n-1) or 0: up_scale(n), computed once per kernel instead of per output.
static __device__ inline float up_scale(int n) { return n > 1 ? (float)(n - 1) / (float)(2 * n - 1) : 0.0f; }

static __device__ inline UpAxis up_axis(int o, int n, float scale) {
    float src = scale * (float)o;
    UpAxis a;
    a.i0 = (int)src;   // src >= 0, so truncation is floor
    if (a.i0 > n - 1) a.i0 = n - 1;
    a.i1 = a.i0 + (a.i0 < n - 1 ? 1 : 0);
    a.l1 = src - (float)a.i0;
    a.l0 = 1.0f - a.l1;
    return a;
}

// Weight with which the output position of axis a reads input position i.
static __device__ inline float up_weight(const UpAxis& a, int i) {
    float w = 0.0f;
    if (a.i0 == i) w += a.l0;
    if (a.i1 == i) w += a.l1;
    return w;
}

extern "C" __global__ void upsample2x_forward(const float* x, float* y, int H, int W) {
    __shared__ __align__(16) float tile[UP_SY][UP_SX];
    int OH = 2 * H, OW = 2 * W;
    long long plane = blockIdx.z;
    int ox0 = blockIdx.x * UP_FX, oy0 = blockIdx.y * UP_FY;
    float sy = up_scale(H), sx = up_scale(W);
    // input rows r0..r1 and columns c0..c1 that the tile reads (c0 rounded down to a multiple of 4)
    int r0 = up_axis(oy0, H, sy).i0, r1 = up_axis(cu_min(oy0 + UP_FY, OH) - 1, H, sy).i1;
    int c0 = up_axis(ox0, W, sx).i0 & ~3, c1 = up_axis(cu_min(ox0 + UP_FX, OW) - 1, W, sx).i1;
    const float* xp = x + plane * H * W;
    bool vec = (W & 3) == 0 && cu_aligned16(xp);
    int tx = threadIdx.x, ty = threadIdx.y;
    int gx = c0 + 4 * tx;
    if (tx < UP_SX / 4 && gx <= c1) {
        for (int r = ty; r < UP_SY && r0 + r <= r1; r += 8) {
            const float* row = xp + (long long)(r0 + r) * W;
            float4 v;
            if (vec) {   // W % 4 == 0 and gx <= c1 < W: the whole piece is inside the row
                v = cu_ld4(row, gx >> 2);
            } else {
                v.x = row[gx];
                v.y = gx + 1 < W ? row[gx + 1] : 0.0f;
                v.z = gx + 2 < W ? row[gx + 2] : 0.0f;
                v.w = gx + 3 < W ? row[gx + 3] : 0.0f;
            }
            *reinterpret_cast<float4*>(&tile[r][4 * tx]) = v;
        }
    }
    __syncthreads();
    int oxb = ox0 + 4 * tx;
    if (oxb >= OW) return;
    UpAxis ax[4];
CU_UNROLL
    for (int u = 0; u < 4; u++) ax[u] = up_axis(oxb + u, W, sx);   // past OW: computed, never stored
    float* yp = y + plane * OH * OW;
    bool vout = (W & 1) == 0 && cu_aligned16(yp);   // OW % 4 == 0: the 4 outputs are all in the row
CU_UNROLL
    for (int v = 0; v < 2; v++) {
        int oy = oy0 + ty + 8 * v;
        if (oy >= OH) break;
        UpAxis ay = up_axis(oy, H, sy);
        const float* t0 = tile[ay.i0 - r0];
        const float* t1 = tile[ay.i1 - r0];
        float o[4];
CU_UNROLL
        for (int u = 0; u < 4; u++) {
            int j0 = ax[u].i0 - c0, j1 = ax[u].i1 - c0;
            if (oxb + u >= OW) { o[u] = 0.0f; continue; }   // its columns may lie past the staged ones
            float top = ax[u].l0 * t0[j0] + ax[u].l1 * t0[j1];
            float bot = ax[u].l0 * t1[j0] + ax[u].l1 * t1[j1];
            o[u] = ay.l0 * top + ay.l1 * bot;
        }
        float* yr = yp + (long long)oy * OW;
        if (vout) {
            cu_st4(yr, oxb >> 2, make_float4(o[0], o[1], o[2], o[3]));
        } else {
CU_UNROLL
            for (int u = 0; u < 4; u++)
                if (oxb + u < OW) yr[oxb + u] = o[u];
        }
    }
}

extern "C" __global__ void upsample2x_backward(const float* dy, float* dx, int H, int W) {
    int OH = 2 * H, OW = 2 * W;
    int m = blockIdx.x * blockDim.x + threadIdx.x, i = blockIdx.y * blockDim.y + threadIdx.y;
    int j0 = 4 * m;
    if (j0 >= W || i >= H) return;
    long long plane = blockIdx.z;
    float sy = up_scale(H), sx = up_scale(W);
    const float* dp = dy + plane * OH * OW;
    bool vec = (OW & 3) == 0 && cu_aligned16(dp);
    int xb = 8 * m - 4;   // window column 0: dy column 8m-4 (a multiple of 4)
    // wx[t][e]: weight of dy column 2j-3+e (window column 2t+1+e) for dx column j = 4m+t; the
    // columns outside [0, OW) are skipped below, as the clamped loop of one thread per output did.
    float wx[4][8];
CU_UNROLL
    for (int t = 0; t < 4; t++)
CU_UNROLL
        for (int e = 0; e < 8; e++) wx[t][e] = up_weight(up_axis(xb + 2 * t + 1 + e, W, sx), j0 + t);
    float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int oy0 = cu_max(0, 2 * i - 3), oy1 = cu_min(OH - 1, 2 * i + 4);
    for (int oy = oy0; oy <= oy1; oy++) {
        float wy = up_weight(up_axis(oy, H, sy), i);
        if (wy == 0.0f) continue;
        const float* row = dp + (long long)oy * OW;
        float win[16];
CU_UNROLL
        for (int g = 0; g < 4; g++) {
            int c = xb + 4 * g;
            if (vec) {   // OW % 4 == 0: a piece is wholly inside the row or wholly outside
                float4 v = (c >= 0 && c < OW) ? cu_ld4(row, c >> 2) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                win[4 * g] = v.x; win[4 * g + 1] = v.y; win[4 * g + 2] = v.z; win[4 * g + 3] = v.w;
            } else {
CU_UNROLL
                for (int k = 0; k < 4; k++) win[4 * g + k] = (c + k >= 0 && c + k < OW) ? row[c + k] : 0.0f;
            }
        }
CU_UNROLL
        for (int t = 0; t < 4; t++) {
            float r = 0.0f;
CU_UNROLL
            for (int e = 0; e < 8; e++) {
                int ox = xb + 2 * t + 1 + e;
                if (ox >= 0 && ox < OW) r += wx[t][e] * win[2 * t + 1 + e];
            }
            s[t] += wy * r;
        }
    }
    float* dxr = dx + plane * H * W + (long long)i * W;
    if ((W & 3) == 0 && cu_aligned16(dx + plane * H * W)) {   // j0 + 3 < W
        cu_st4(dxr, m, make_float4(s[0], s[1], s[2], s[3]));
    } else {
CU_UNROLL
        for (int t = 0; t < 4; t++)
            if (j0 + t < W) dxr[j0 + t] = s[t];
    }
}
