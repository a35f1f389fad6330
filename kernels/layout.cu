// layout.cu — zero padding and its adjoint (crop), channel concat and its adjoint (slice).
// Math / layout (NCHW float32 dense):
//   pad2d_forward:  x [N,C,H,W] -> y [N,C,Ho,Wo]; y[.,oy,ox] = x[.,oy-top,ox-left] inside, else 0
//   pad2d_backward: dy [N,C,Hi,Wi] -> dx [N,C,H,W]; dx[.,y,x] = dy[.,y+top,x+left] (a crop)
//   concat_forward: a [N,Ca,P], b [N,Cb,P] -> y [N,Ca+Cb,P]  (P = H*W)
//   concat_backward: x [N,C,P] -> y [N,Cs,P] = channels [c0, c0+Cs) (Backend.sliceChannels)
// Launch: pad2d: grid (ceil(outPlane/256), N*C); concat_forward: grid (ceil((Ca+Cb)*P/256), N);
//   concat_backward: grid (ceil(Cs*P/256), N); 256 threads.
#include "common.cuh"

extern "C" __global__ void pad2d_forward(const float* x, float* y, int H, int W, int Ho, int Wo,
                                         int top, int left) {
    int q = blockIdx.x * blockDim.x + threadIdx.x;
    if (q >= Ho * Wo) return;
    long long plane = blockIdx.y;
    int oy = q / Wo, ox = q - oy * Wo;
    int iy = oy - top, ix = ox - left;
    float v = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? x[plane * H * W + iy * W + ix] : 0.0f;
    y[plane * Ho * Wo + q] = v;
}

extern "C" __global__ void pad2d_backward(const float* dy, float* dx, int Hi, int Wi, int H, int W,
                                          int top, int left) {
    int q = blockIdx.x * blockDim.x + threadIdx.x;
    if (q >= H * W) return;
    long long plane = blockIdx.y;
    int y = q / W, x = q - y * W;
    dx[plane * H * W + q] = dy[plane * Hi * Wi + (long long)(y + top) * Wi + x + left];
}

extern "C" __global__ void concat_forward(const float* a, const float* b, float* y, int Ca, int Cb,
                                          int P) {
    long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long aP = (long long)Ca * P, tot = (long long)(Ca + Cb) * P;
    if (e >= tot) return;
    long long n = blockIdx.y;
    y[n * tot + e] = e < aP ? a[n * aP + e] : b[n * (long long)Cb * P + (e - aP)];
}

extern "C" __global__ void concat_backward(const float* x, float* y, int C, int c0, int Cs, int P) {
    long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long sP = (long long)Cs * P;
    if (e >= sP) return;
    long long n = blockIdx.y;
    y[n * sP + e] = x[n * (long long)C * P + (long long)c0 * P + e];
}
