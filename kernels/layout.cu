// layout.cu — zero padding and its adjoint (crop), channel concat and its adjoint (slice).
// Math / layout (NCHW float32 dense):
//   pad2d_forward:  x [N,C,H,W] -> y [N,C,Ho,Wo]; y[.,oy,ox] = x[.,oy-top,ox-left] inside, else 0
//   pad2d_backward: dy [N,C,Hi,Wi] -> dx [N,C,H,W]; dx[.,y,x] = dy[.,y+top,x+left] (a crop)
//   concat_forward: a [N,Ca,P], b [N,Cb,P] -> y [N,Ca+Cb,P]  (P = H*W)
//   concat_backward: x [N,C,P] -> y [N,Cs,P] = channels [c0, c0+Cs) (Backend.sliceChannels)
//   concat_backward_split: x [N,Ca+Cb,P] -> a [N,Ca,P] = channels [0,Ca), b [N,Cb,P] = the rest
//                   (Backend.concatBackward: both halves of concat's adjoint in one launch)
// Launch: pad2d: grid (ceil(outPlane/256), N*C); concat_forward, concat_backward_split: grid
//   (ceil((Ca+Cb)*P/1024), N); concat_backward: grid (ceil(Cs*P/1024), N); 256 threads; concat:
//   4 elements per thread, one float4 when P % 4 == 0 and the buffers are 16-byte aligned
//   (cu_piece4).
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
    long long aP = (long long)Ca * P, bP = (long long)Cb * P, tot = aP + bP;
    long long n = blockIdx.y;
    const float *an = a + n * aP, *bn = b + n * bP;
    float* yn = y + n * tot;
    // P % 4 == 0 keeps every piece on one side of the a/b boundary and every image 16-byte aligned.
    cu_piece4(tot, (P & 3) == 0 && cu_aligned16(a) && cu_aligned16(b) && cu_aligned16(y),
              [&](long long e) { cu_st4(yn + e, 0, e < aP ? cu_ld4(an + e, 0) : cu_ld4(bn + (e - aP), 0)); },
              [&](long long e) { yn[e] = e < aP ? an[e] : bn[e - aP]; });
}

extern "C" __global__ void concat_backward(const float* x, float* y, int C, int c0, int Cs, int P) {
    long long sP = (long long)Cs * P;
    long long n = blockIdx.y;
    const float* xn = x + n * (long long)C * P + (long long)c0 * P;
    float* yn = y + n * sP;
    cu_piece4(sP, (P & 3) == 0 && cu_aligned16(x) && cu_aligned16(y),
              [&](long long e) { cu_st4(yn + e, 0, cu_ld4(xn + e, 0)); },
              [&](long long e) { yn[e] = xn[e]; });
}

extern "C" __global__ void concat_backward_split(const float* x, float* a, float* b, int Ca, int Cb, int P) {
    long long aP = (long long)Ca * P, bP = (long long)Cb * P, tot = aP + bP;
    long long n = blockIdx.y;
    const float* xn = x + n * tot;
    float *an = a + n * aP, *bn = b + n * bP;
    // P % 4 == 0 keeps every piece on one side of the a/b boundary and every image 16-byte aligned.
    cu_piece4(tot, (P & 3) == 0 && cu_aligned16(x) && cu_aligned16(a) && cu_aligned16(b),
              [&](long long e) {
                  float4 v = cu_ld4(xn + e, 0);
                  if (e < aP) cu_st4(an + e, 0, v);
                  else cu_st4(bn + (e - aP), 0, v);
              },
              [&](long long e) {
                  if (e < aP) an[e] = xn[e];
                  else bn[e - aP] = xn[e];
              });
}
