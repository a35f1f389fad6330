// gelu.cu — exact GELU (PyTorch F.gelu, approximate='none').
// Math: y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2));
//       dy/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi).
// Layout: flat float32 buffers of n elements (any shape).
// Launch: 1-D grid-stride, 256 threads, any grid size.
#include "common.cuh"

extern "C" __global__ void gelu_forward(const float* x, float* y, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    }
}

extern "C" __global__ void gelu_backward(const float* x, const float* dy, float* dx, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * v * v);
        dx[i] = dy[i] * (cdf + v * pdf);
    }
}
