// adamw.cu — one torch.optim.AdamW step over a flat parameter buffer (all tensors at once).
// Math (t = step >= 1; the host computes stepSize = lr/(1-beta1^t), bc2sqrt = sqrt(1-beta2^t)):
//   p <- p (1 - lr wd); m <- beta1 m + (1-beta1) g; v <- beta2 v + (1-beta2) g^2;
//   p <- p - stepSize * m / (sqrt(v)/bc2sqrt + eps)      (torch's order of operations)
// Layout: p, g, m, v flat float32 buffers of n elements; hp = {lr, beta1, beta2, eps, wd, stepSize,
//   bc2sqrt} in device memory, so that a captured step (CUDA graph) reads each step's values instead
//   of the ones baked in at capture (AdamWOps writes them before the launch, in stream order).
// Launch: 1-D grid-stride (cu_for4), 256 threads, any grid size (AdamWOps: one thread per 4
//   elements): 4 elements per thread and iteration as 128-bit loads / stores when all four buffers
//   are 16-byte aligned, then the n % 4 tail one by one; scalar throughout otherwise. Each element's
//   arithmetic is the same on both paths (adamw_one), so are its bits.
#include "common.cuh"

struct AdamWHp { float lr, beta1, beta2, eps, wd, stepSize, bc2sqrt; };

static __device__ inline void adamw_one(float& p, float g, float& m, float& v, const AdamWHp& h) {
    float pi = p * (1.0f - h.lr * h.wd);
    float mi = h.beta1 * m + (1.0f - h.beta1) * g;
    float vi = h.beta2 * v + (1.0f - h.beta2) * g * g;
    m = mi;
    v = vi;
    p = pi - h.stepSize * mi / (sqrtf(vi) / h.bc2sqrt + h.eps);
}

extern "C" __global__ void adamw_forward(float* p, const float* g, float* m, float* v, long long n,
                                         const float* hp) {
    const AdamWHp h{hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6]};
    bool aligned = cu_aligned16(p) && cu_aligned16(g) && cu_aligned16(m) && cu_aligned16(v);
    cu_for4(
        n, aligned,
        [&](long long i4) {
            float4 pv = cu_ld4(p, i4), gv = cu_ld4(g, i4), mv = cu_ld4(m, i4), vv = cu_ld4(v, i4);
            adamw_one(pv.x, gv.x, mv.x, vv.x, h);
            adamw_one(pv.y, gv.y, mv.y, vv.y, h);
            adamw_one(pv.z, gv.z, mv.z, vv.z, h);
            adamw_one(pv.w, gv.w, mv.w, vv.w, h);
            cu_st4(m, i4, mv);
            cu_st4(v, i4, vv);
            cu_st4(p, i4, pv);
        },
        [&](long long i) {
            float pi = p[i], mi = m[i], vi = v[i];
            adamw_one(pi, g[i], mi, vi, h);
            m[i] = mi;
            v[i] = vi;
            p[i] = pi;
        });
}
