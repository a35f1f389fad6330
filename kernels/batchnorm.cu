// batchnorm.cu — BatchNorm2d over (N,H,W) per channel: training statistics, running-stat
// update, normalise, eval mode, backward.
// Math (n = N*H*W per channel): mu = mean x, var = biased variance, invstd = 1/sqrt(var+eps);
//   y = gamma*(x-mu)*invstd + beta; running_mean = (1-m) rm + m mu;
//   running_var = (1-m) rv + m var n/(n-1).   Eval: y = gamma (x-rm)/sqrt(rv+eps) + beta.
//   Backward (batch statistics): xhat = (x-mu) invstd; dbeta = sum dy; dgamma = sum dy xhat;
//   dx = gamma invstd (dy - dbeta/n - xhat dgamma/n).
// Layout: x, y, dy, dx NCHW float32 [N,C,P] (P = H*W); per-channel vectors [C].
// Deterministic two-level reductions: *_part kernels (grid (N*cpi, C), 256 threads) sum chunk
//   s = n*cpi + j (pixels [j*L, min(P,(j+1)L)) of image n) in double and write
//   partial[(c*S + s)*2 + {0,1}] as doubles (S = N*cpi); the second level runs at the start of
//   every block of the apply kernel (warp 0 sums the S partials of its channel in a fixed order:
//   every block gets the same bits), and block (0, c, 0) stores the per-channel results.
// Apply kernels (batchnorm_forward_apply, batchnorm_backward_apply, batchnorm_forward_eval): grid
//   (ceil(P/BN_EPB), C, N), 256 threads, 16 elements per thread as 4 float4 when P % 4 == 0 and the
//   planes are 16-byte aligned (else scalar).
#include "common.cuh"

// Sums of v1 and v2 over the chunk of channel c handled by this block, in double.
#define BN_PART_PROLOGUE                                   \
    __shared__ double sh[CU_THREADS];                      \
    int s = blockIdx.x, c = blockIdx.y;                    \
    int n = s / cpi, j = s - n * cpi;                      \
    int p0 = j * L, p1 = cu_min(P, p0 + L);                \
    long long base = ((long long)n * C + c) * P;

extern "C" __global__ void batchnorm_forward_stats_part(const float* x, float* partial, int C,
                                                        int P, int cpi, int L) {
    BN_PART_PROLOGUE
    double s1 = 0.0, s2 = 0.0;
    for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) {
        double v = x[base + p];
        s1 += v;
        s2 += v * v;
    }
    s1 = cu_block_sum_d(s1, sh);
    s2 = cu_block_sum_d(s2, sh);
    if (threadIdx.x == 0) {
        double* out = (double*)partial + ((long long)c * gridDim.x + s) * 2;
        out[0] = s1;
        out[1] = s2;
    }
}

// Sums of channel c's S partial pairs (partial[(c*S + s)*2 + {0,1}], doubles) in a fixed order:
// lane l of warp 0 takes s = l, l+32, ..., then a butterfly over the 32 lanes; the block gets the
// pair through sh. Every block of a channel computes the same two numbers.
static __device__ inline void bn_sum_partials(const float* partial, int c, int S, double* sh, double& a,
                                              double& b) {
    if (threadIdx.x < 32) {
        const double* p = (const double*)partial + (long long)c * S * 2;
        double s1 = 0.0, s2 = 0.0;
        for (int i = threadIdx.x; i < S; i += 32) {
            s1 += p[2 * i];
            s2 += p[2 * i + 1];
        }
        for (int o = 16; o > 0; o >>= 1) {
            s1 += __shfl_xor_sync(0xffffffffu, s1, o);
            s2 += __shfl_xor_sync(0xffffffffu, s2, o);
        }
        if (threadIdx.x == 0) { sh[0] = s1; sh[1] = s2; }
    }
    __syncthreads();
    a = sh[0];
    b = sh[1];
}

// Element range of one apply block: plane (n, c) = (blockIdx.z, blockIdx.y), elements
// [blockIdx.x * BN_EPB, +BN_EPB) of it; 4-wide when every pointer's plane start is 16-byte aligned.
// BN_EPB: kernels/geometry.h (BatchNormOps sizes the grid with it).
static_assert(BN_EPB % 4 == 0, "a block's range of a plane starts on a float4 boundary (the 4-wide apply paths)");
static __device__ inline bool bn_aligned(const void* p) { return (reinterpret_cast<unsigned long long>(p) & 15ull) == 0; }

// Training forward, second level and apply in one kernel: each block sums its channel's partials
// (mean, biased var -> invstd as before, in double), applies y = (x - mean) * gamma*invstd + beta
// to its elements, and block (0, c, 0) stores mean, invstd and the running statistics.
extern "C" __global__ void batchnorm_forward_apply(const float* x, float* y, const float* gamma,
                                                   const float* beta, const float* partial, float* mean,
                                                   float* invstd, float* runMean, float* runVar, int C,
                                                   int P, int S, long long count, float momentum,
                                                   float eps) {
    __shared__ double sh[2];
    int c = blockIdx.y;
    double s1, s2;
    bn_sum_partials(partial, c, S, sh, s1, s2);
    double nn = (double)count;
    double mu = s1 / nn;
    double var = s2 / nn - mu * mu;
    if (var < 0.0) var = 0.0;
    float m = (float)mu, is = (float)(1.0 / sqrt(var + (double)eps));
    if (blockIdx.x == 0 && blockIdx.z == 0 && threadIdx.x == 0) {
        mean[c] = m;
        invstd[c] = is;
        double unbiased = count > 1 ? var * nn / (nn - 1.0) : var;
        runMean[c] = (float)((1.0 - momentum) * runMean[c] + momentum * mu);
        runVar[c] = (float)((1.0 - momentum) * runVar[c] + momentum * unbiased);
    }
    float sc = gamma[c] * is, bt = beta[c];
    long long base = ((long long)blockIdx.z * C + c) * P;
    int p0 = blockIdx.x * BN_EPB, p1 = cu_min(P, p0 + BN_EPB);
    const float* xp = x + base;
    float* yp = y + base;
    if ((P & 3) == 0 && bn_aligned(xp) && bn_aligned(yp)) {
        for (int p = p0 + 4 * threadIdx.x; p < p1; p += 4 * blockDim.x) {
            float4 v = *reinterpret_cast<const float4*>(xp + p);
            *reinterpret_cast<float4*>(yp + p) =
                make_float4((v.x - m) * sc + bt, (v.y - m) * sc + bt, (v.z - m) * sc + bt, (v.w - m) * sc + bt);
        }
    } else {
        for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) yp[p] = (xp[p] - m) * sc + bt;
    }
}

// Eval: the apply of the training forward with the running statistics (same element range per block).
extern "C" __global__ void batchnorm_forward_eval(const float* x, float* y, const float* gamma,
                                                  const float* beta, const float* runMean,
                                                  const float* runVar, float eps, int C, int P) {
    int c = blockIdx.y;
    float sc = gamma[c] / sqrtf(runVar[c] + eps), m = runMean[c], bt = beta[c];
    long long base = ((long long)blockIdx.z * C + c) * P;
    int p0 = blockIdx.x * BN_EPB, p1 = cu_min(P, p0 + BN_EPB);
    const float* xp = x + base;
    float* yp = y + base;
    if ((P & 3) == 0 && bn_aligned(xp) && bn_aligned(yp)) {
        for (int p = p0 + 4 * threadIdx.x; p < p1; p += 4 * blockDim.x) {
            float4 v = *reinterpret_cast<const float4*>(xp + p);
            *reinterpret_cast<float4*>(yp + p) =
                make_float4((v.x - m) * sc + bt, (v.y - m) * sc + bt, (v.z - m) * sc + bt, (v.w - m) * sc + bt);
        }
    } else {
        for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) yp[p] = (xp[p] - m) * sc + bt;
    }
}

extern "C" __global__ void batchnorm_backward_part(const float* x, const float* dy,
                                                   const float* mean, const float* invstd,
                                                   float* partial, int C, int P, int cpi, int L) {
    BN_PART_PROLOGUE
    float mu = mean[c], is = invstd[c];
    double sd = 0.0, sdx = 0.0;
    for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) {
        float d = dy[base + p];
        sd += d;
        sdx += (double)(d * ((x[base + p] - mu) * is));
    }
    sd = cu_block_sum_d(sd, sh);
    sdx = cu_block_sum_d(sdx, sh);
    if (threadIdx.x == 0) {
        double* out = (double*)partial + ((long long)c * gridDim.x + s) * 2;
        out[0] = sd;
        out[1] = sdx;
    }
}

// Backward, second level and apply in one kernel: each block sums its channel's partials
// (dbeta = sum dy, dgamma = sum dy*xhat, rounded to float as stored), computes
//   dx = gamma invstd (dy - dbeta/n - xhat dgamma/n)
// for its elements (added to dx when accDx), and block (0, c, 0) stores dgamma and dbeta (added
// when accGamma / accBeta: a parameter's slice of the zeroed flat gradient).
extern "C" __global__ void batchnorm_backward_apply(const float* x, const float* dy, const float* gamma,
                                                    const float* mean, const float* invstd,
                                                    const float* partial, float* dgamma, float* dbeta,
                                                    float* dx, int C, int P, int S, long long count,
                                                    int accDx, int accGamma, int accBeta) {
    __shared__ double sh[2];
    int c = blockIdx.y;
    double sd, sdx;
    bn_sum_partials(partial, c, S, sh, sd, sdx);
    float db = (float)sd, dg = (float)sdx;
    if (blockIdx.x == 0 && blockIdx.z == 0 && threadIdx.x == 0) {
        dbeta[c] = accBeta ? dbeta[c] + db : db;
        dgamma[c] = accGamma ? dgamma[c] + dg : dg;
    }
    float is = invstd[c], mu = mean[c];
    float inv = 1.0f / (float)count;
    float g = gamma[c] * is, dbn = db * inv, dgn = dg * inv;
    long long base = ((long long)blockIdx.z * C + c) * P;
    int p0 = blockIdx.x * BN_EPB, p1 = cu_min(P, p0 + BN_EPB);
    const float* xp = x + base;
    const float* dyp = dy + base;
    float* dxp = dx + base;
    if ((P & 3) == 0 && bn_aligned(xp) && bn_aligned(dyp) && bn_aligned(dxp)) {
        for (int p = p0 + 4 * threadIdx.x; p < p1; p += 4 * blockDim.x) {
            float4 xv = *reinterpret_cast<const float4*>(xp + p), d = *reinterpret_cast<const float4*>(dyp + p);
            float4 r = make_float4(g * (d.x - dbn - (xv.x - mu) * is * dgn), g * (d.y - dbn - (xv.y - mu) * is * dgn),
                                   g * (d.z - dbn - (xv.z - mu) * is * dgn), g * (d.w - dbn - (xv.w - mu) * is * dgn));
            if (accDx) {
                float4 o = *reinterpret_cast<const float4*>(dxp + p);
                r = make_float4(o.x + r.x, o.y + r.y, o.z + r.z, o.w + r.w);
            }
            *reinterpret_cast<float4*>(dxp + p) = r;
        }
    } else {
        for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) {
            float xhat = (xp[p] - mu) * is;
            float r = g * (dyp[p] - dbn - xhat * dgn);
            dxp[p] = accDx ? dxp[p] + r : r;
        }
    }
}
