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
//   partial[(c*S + s)*2 + {0,1}] as doubles (S = N*cpi); the second level (grid C, 256 threads)
//   sums the S partials of a channel in a fixed tree order.
// Apply kernels: grid (ceil(P/256), C, N), 256 threads, one element each.
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

extern "C" __global__ void batchnorm_forward_stats(const float* partial, float* mean, float* invstd,
                                                   float* runMean, float* runVar, int S,
                                                   long long count, float momentum, float eps) {
    __shared__ double sh[CU_THREADS];
    int c = blockIdx.x;
    const double* p = (const double*)partial + (long long)c * S * 2;
    double s1 = 0.0, s2 = 0.0;
    for (int i = threadIdx.x; i < S; i += blockDim.x) {
        s1 += p[2 * i];
        s2 += p[2 * i + 1];
    }
    s1 = cu_block_sum_d(s1, sh);
    s2 = cu_block_sum_d(s2, sh);
    if (threadIdx.x == 0) {
        double n = (double)count;
        double mu = s1 / n;
        double var = s2 / n - mu * mu;
        if (var < 0.0) var = 0.0;
        mean[c] = (float)mu;
        invstd[c] = (float)(1.0 / sqrt(var + (double)eps));
        double unbiased = count > 1 ? var * n / (n - 1.0) : var;
        runMean[c] = (float)((1.0 - momentum) * runMean[c] + momentum * mu);
        runVar[c] = (float)((1.0 - momentum) * runVar[c] + momentum * unbiased);
    }
}

extern "C" __global__ void batchnorm_forward_apply(const float* x, float* y, const float* gamma,
                                                   const float* beta, const float* mean,
                                                   const float* invstd, int C, int P) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= P) return;
    int c = blockIdx.y;
    long long i = ((long long)blockIdx.z * C + c) * P + p;
    float sc = gamma[c] * invstd[c];
    y[i] = (x[i] - mean[c]) * sc + beta[c];
}

extern "C" __global__ void batchnorm_forward_eval(const float* x, float* y, const float* gamma,
                                                  const float* beta, const float* runMean,
                                                  const float* runVar, float eps, int C, int P) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= P) return;
    int c = blockIdx.y;
    long long i = ((long long)blockIdx.z * C + c) * P + p;
    float sc = gamma[c] / sqrtf(runVar[c] + eps);
    y[i] = (x[i] - runMean[c]) * sc + beta[c];
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

extern "C" __global__ void batchnorm_backward_reduce(const float* partial, float* dgamma,
                                                     float* dbeta, int S) {
    __shared__ double sh[CU_THREADS];
    int c = blockIdx.x;
    const double* p = (const double*)partial + (long long)c * S * 2;
    double sd = 0.0, sdx = 0.0;
    for (int i = threadIdx.x; i < S; i += blockDim.x) {
        sd += p[2 * i];
        sdx += p[2 * i + 1];
    }
    sd = cu_block_sum_d(sd, sh);
    sdx = cu_block_sum_d(sdx, sh);
    if (threadIdx.x == 0) {
        dbeta[c] = (float)sd;
        dgamma[c] = (float)sdx;
    }
}

extern "C" __global__ void batchnorm_backward_apply(const float* x, const float* dy,
                                                    const float* gamma, const float* mean,
                                                    const float* invstd, const float* dgamma,
                                                    const float* dbeta, float* dx, int C, int P,
                                                    long long count) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= P) return;
    int c = blockIdx.y;
    long long i = ((long long)blockIdx.z * C + c) * P + p;
    float is = invstd[c];
    float inv = 1.0f / (float)count;
    float xhat = (x[i] - mean[c]) * is;
    dx[i] = gamma[c] * is * (dy[i] - dbeta[c] * inv - xhat * dgamma[c] * inv);
}
