// gelu.cu — exact GELU (PyTorch F.gelu, approximate='none'), elementwise.
// Math: y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2));
//       dx = dy * gelu'(x),  gelu'(x) = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi).
//       Both from gelu.cuh, shared with gemm.cu's fused epilogues (gemm_*_gelu).
// Layout: flat float32 buffers of n elements (any shape).
// Launch: 1-D grid-stride, 256 threads, any grid size.
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
