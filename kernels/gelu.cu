// gelu.cu — exact GELU (PyTorch F.gelu, approximate='none'), elementwise, and the residual add
// fused with it (the end of each ConvNeXt block, gelu(x + norm2(.))).
// Math: gelu_forward:     y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2));
//       gelu_backward:    dx = dy * gelu'(x),  gelu'(x) = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi);
//       add_gelu_forward: s = a + b, out = gelu(s), and pre = s when pre is non-null (training:
//                         the backward is gelu_backward(pre, dy), the gradient of both a and b).
//                         One read of a and b, no round trip of s through memory.
//       GELU and its derivative from gelu.cuh, shared with gemm.cu's fused epilogues (gemm_*_gelu).
// Layout: flat float32 buffers of n elements (any shape; a, b, out, pre all of the same shape).
// Launch: 1-D grid-stride, 256 threads, any grid size (Launcher.grid1D); 4 elements per thread and
//   step as float4 when every buffer is 16-byte aligned (cu_for4), else one.
#include "common.cuh"
#include "gelu.cuh"

extern "C" __global__ void gelu_forward(const float* x, float* y, long long n) {
    cu_for4(n, cu_aligned16(x) && cu_aligned16(y),
            [&](long long i) {
                float4 v = cu_ld4(x, i);
                cu_st4(y, i, make_float4(cu_gelu(v.x), cu_gelu(v.y), cu_gelu(v.z), cu_gelu(v.w)));
            },
            [&](long long i) { y[i] = cu_gelu(x[i]); });
}

extern "C" __global__ void gelu_backward(const float* x, const float* dy, float* dx, long long n) {
    cu_for4(n, cu_aligned16(x) && cu_aligned16(dy) && cu_aligned16(dx),
            [&](long long i) {
                float4 v = cu_ld4(x, i), d = cu_ld4(dy, i);
                cu_st4(dx, i, make_float4(d.x * cu_gelu_grad(v.x), d.y * cu_gelu_grad(v.y), d.z * cu_gelu_grad(v.z),
                                          d.w * cu_gelu_grad(v.w)));
            },
            [&](long long i) { dx[i] = dy[i] * cu_gelu_grad(x[i]); });
}

// pre is null in inference (uniform over the grid: no divergence).
extern "C" __global__ void add_gelu_forward(const float* a, const float* b, float* out, float* pre,
                                            long long n) {
    cu_for4(n, cu_aligned16(a) && cu_aligned16(b) && cu_aligned16(out) && (!pre || cu_aligned16(pre)),
            [&](long long i) {
                float4 u = cu_ld4(a, i), v = cu_ld4(b, i);
                float4 s = make_float4(u.x + v.x, u.y + v.y, u.z + v.z, u.w + v.w);
                if (pre) cu_st4(pre, i, s);
                cu_st4(out, i, make_float4(cu_gelu(s.x), cu_gelu(s.y), cu_gelu(s.z), cu_gelu(s.w)));
            },
            [&](long long i) {
                float s = a[i] + b[i];
                if (pre) pre[i] = s;
                out[i] = cu_gelu(s);
            });
}
