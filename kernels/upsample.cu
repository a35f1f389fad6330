// upsample.cu — bilinear x2 upsampling, align_corners=True (F.interpolate), and its adjoint.
// Math: x [N,C,H,W] -> y [N,C,2H,2W]. Along each axis (PyTorch's float arithmetic):
//   scale = (H-1)/(2H-1) (0 when H = 1); src = scale*o; i0 = floor(src); i1 = min(i0+1, H-1);
//   l1 = src - i0, l0 = 1 - l1;  y[o,o'] = sum over (i0|i1) x (j0|j1) of the product weights.
//   Adjoint (upsample2x_backward): dx[i,j] = sum_{o,o'} Ay(o,i) Ax(o',j) dy[o,o'] where
//   A(o,i) = l0(o)[i0(o)=i] + l1(o)[i1(o)=i]; only o in [2i-3, 2i+4] can touch i, so the
//   adjoint is a deterministic gather over an 8x8 window.
// Layout: NCHW float32 dense; plane (n,c) contiguous.
// Launch: forward grid (ceil(4HW/256), N*C), backward grid (ceil(HW/256), N*C), 256 threads.
#include "common.cuh"

struct UpAxis { int i0, i1; float l0, l1; };

static __device__ inline UpAxis up_axis(int o, int n) {
    float scale = n > 1 ? (float)(n - 1) / (float)(2 * n - 1) : 0.0f;
    float src = scale * (float)o;
    UpAxis a;
    a.i0 = (int)src;   // src >= 0, so truncation is floor
    if (a.i0 > n - 1) a.i0 = n - 1;
    a.i1 = a.i0 + (a.i0 < n - 1 ? 1 : 0);
    a.l1 = src - (float)a.i0;
    a.l0 = 1.0f - a.l1;
    return a;
}

// Weight with which output position o (of 2n) reads input position i.
static __device__ inline float up_weight(int o, int i, int n) {
    UpAxis a = up_axis(o, n);
    float w = 0.0f;
    if (a.i0 == i) w += a.l0;
    if (a.i1 == i) w += a.l1;
    return w;
}

extern "C" __global__ void upsample2x_forward(const float* x, float* y, int H, int W) {
    int OH = 2 * H, OW = 2 * W;
    int q = blockIdx.x * blockDim.x + threadIdx.x;
    if (q >= OH * OW) return;
    long long plane = blockIdx.y;
    int oy = q / OW, ox = q - oy * OW;
    UpAxis ay = up_axis(oy, H), ax = up_axis(ox, W);
    const float* xp = x + plane * H * W;
    float top = ax.l0 * xp[ay.i0 * W + ax.i0] + ax.l1 * xp[ay.i0 * W + ax.i1];
    float bot = ax.l0 * xp[ay.i1 * W + ax.i0] + ax.l1 * xp[ay.i1 * W + ax.i1];
    y[plane * OH * OW + q] = ay.l0 * top + ay.l1 * bot;
}

extern "C" __global__ void upsample2x_backward(const float* dy, float* dx, int H, int W) {
    int OH = 2 * H, OW = 2 * W;
    int q = blockIdx.x * blockDim.x + threadIdx.x;
    if (q >= H * W) return;
    long long plane = blockIdx.y;
    int iy = q / W, ix = q - iy * W;
    const float* dp = dy + plane * OH * OW;
    int oy0 = cu_max(0, 2 * iy - 3), oy1 = cu_min(OH - 1, 2 * iy + 4);
    int ox0 = cu_max(0, 2 * ix - 3), ox1 = cu_min(OW - 1, 2 * ix + 4);
    float wx[8];
    for (int ox = ox0; ox <= ox1; ox++) wx[ox - ox0] = up_weight(ox, ix, W);
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++) {
        float wy = up_weight(oy, iy, H);
        if (wy == 0.0f) continue;
        float r = 0.0f;
        for (int ox = ox0; ox <= ox1; ox++) r += wx[ox - ox0] * dp[oy * OW + ox];
        s += wy * r;
    }
    dx[plane * H * W + q] = s;
}
