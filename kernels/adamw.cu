// adamw.cu — one torch.optim.AdamW step over a flat parameter buffer (all tensors at once).
// Math (t = step >= 1; the host computes stepSize = lr/(1-beta1^t), bc2sqrt = sqrt(1-beta2^t)):
//   p <- p (1 - lr wd); m <- beta1 m + (1-beta1) g; v <- beta2 v + (1-beta2) g^2;
//   p <- p - stepSize * m / (sqrt(v)/bc2sqrt + eps)      (torch's order of operations)
// Layout: p, g, m, v flat float32 buffers of n elements; hp = {lr, beta1, beta2, eps, wd, stepSize,
//   bc2sqrt} in device memory, so that a captured step (CUDA graph) reads each step's values instead
//   of the ones baked in at capture (AdamWOps writes them before the launch, in stream order).
// Launch: 1-D grid-stride, 256 threads, any grid size.
#include "common.cuh"

extern "C" __global__ void adamw_forward(float* p, const float* g, float* m, float* v, long long n,
                                         const float* hp) {
    const float lr = hp[0], beta1 = hp[1], beta2 = hp[2], eps = hp[3], wd = hp[4], stepSize = hp[5],
                bc2sqrt = hp[6];
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float gi = g[i];
        float pi = p[i] * (1.0f - lr * wd);
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - stepSize * mi / (sqrtf(vi) / bc2sqrt + eps);
    }
}
