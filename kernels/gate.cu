// gate.cu — the gated skip attention of the Up block (fused elementwise halves).
// Math: g [N,3C,H,W] = (g1, g2, g3) by channel blocks of C; s, a, u, out [N,C,H,W];
//   gate_forward_in:   u = g1 + s
//   gate_forward_out:  out = sig(a)*s + sig(g2)*tanh(g3)
//   gate_backward_out: da = dout*s*sig(a)(1-sig(a)); ds = dout*sig(a);
//                      dg = (0, dout*tanh(g3)*sig(g2)(1-sig(g2)), dout*sig(g2)*(1-tanh(g3)^2))
//   gate_backward_in:  dg = (du, 0, 0), or dg[:, 0:C] += du when accumulate (dg already held)
//                      (ds = du is the caller's)
// Layout: NCHW float32; P = H*W; channel block k of image n in g starts at ((n*3 + k)*C)*P.
// Launch: grid (ceil(C*P/256), N), 256 threads; thread e in [0, C*P) of image n.
#include "common.cuh"

static __device__ inline float gate_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

extern "C" __global__ void gate_forward_in(const float* g, const float* s, float* u, int CP) {
    int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= CP) return;
    long long n = blockIdx.y;
    u[n * CP + e] = g[n * 3 * CP + e] + s[n * CP + e];
}

extern "C" __global__ void gate_forward_out(const float* a, const float* s, const float* g,
                                            float* out, int CP) {
    int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= CP) return;
    long long n = blockIdx.y;
    long long i = n * CP + e, gi = n * 3 * CP + e;
    out[i] = gate_sigmoid(a[i]) * s[i] + gate_sigmoid(g[gi + CP]) * tanhf(g[gi + 2 * CP]);
}

extern "C" __global__ void gate_backward_out(const float* a, const float* s, const float* g,
                                             const float* dout, float* da, float* ds, float* dg,
                                             int CP) {
    int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= CP) return;
    long long n = blockIdx.y;
    long long i = n * CP + e, gi = n * 3 * CP + e;
    float d = dout[i];
    float sa = gate_sigmoid(a[i]);
    float s2 = gate_sigmoid(g[gi + CP]);
    float t3 = tanhf(g[gi + 2 * CP]);
    da[i] = d * s[i] * sa * (1.0f - sa);
    ds[i] = d * sa;
    dg[gi] = 0.0f;
    dg[gi + CP] = d * t3 * s2 * (1.0f - s2);
    dg[gi + 2 * CP] = d * s2 * (1.0f - t3 * t3);
}

extern "C" __global__ void gate_backward_in(const float* du, float* dg, int CP, int accumulate) {
    int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= CP) return;
    long long n = blockIdx.y;
    long long gi = n * 3 * CP + e;
    if (accumulate) {   // dg already holds a gradient: add du to its first block only
        dg[gi] += du[n * CP + e];
        return;
    }
    dg[gi] = du[n * CP + e];
    dg[gi + CP] = 0.0f;
    dg[gi + 2 * CP] = 0.0f;
}
