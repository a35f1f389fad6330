// Exact GELU (PyTorch F.gelu, approximate='none') and its derivative, the one device
// implementation shared by gelu.cu (the elementwise kernels) and gemm.cu (the GEMM epilogues of
// linearGelu / linearBackwardDataGelu), so the fused and unfused paths compute the same math.
//   gelu(x)  = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
//   gelu'(x) = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi)
// Included, never compiled alone.
#pragma once
#include <cmath>

static __device__ inline float cu_gelu(float x) {
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

static __device__ inline float cu_gelu_grad(float x) {
    float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
    return cdf + x * pdf;
}
