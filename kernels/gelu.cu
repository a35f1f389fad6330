// gelu.cu — exact GELU (PyTorch F.gelu, approximate='none'), elementwise, and the residual add
// fused with it (the end of each ConvNeXt block, gelu(x + norm2(.))).
// Math: gelu_forward:     y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2));
//       gelu_backward:    dx = dy * gelu'(x),  gelu'(x) = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi);
//       add_gelu_forward: s = a + b, out = gelu(s), and pre = s when pre is non-null (training:
//                         the backward is gelu_backward(pre, dy), the gradient of both a and b).
//                         One read of a and b, no round trip of s through memory.
//       GELU and its derivative from gelu.cuh, shared with gemm.cu's fused epilogues (gemm_*_gelu).
// Layout: flat float32 buffers of n elements (any shape; a, b, out, pre all of the same shape).
// Launch: 1-D grid-stride, 256 threads, any grid size (Launcher.grid1D).
#include "common.cuh"
#include "gelu.cuh"

extern "C" __global__ void gelu_forward(const float* x, float* y, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        y[i] = cu_gelu(x[i]);
}

extern "C" __global__ void gelu_backward(const float* x, const float* dy, float* dx, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        dx[i] = dy[i] * cu_gelu_grad(x[i]);
}

extern "C" __global__ void add_gelu_forward(const float* a, const float* b, float* out, float* pre,
                                            long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float s = a[i] + b[i];
        if (pre) pre[i] = s;   // uniform over the grid: no divergence
        out[i] = cu_gelu(s);
    }
}
