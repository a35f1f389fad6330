// layernorm.cu — channels-first LayerNorm (ConvNeXt): normalise over C at each pixel.
// Math: for pixel (n,p): mu = mean_c x, var = biased variance over C, invstd = 1/sqrt(var+eps);
//   y = gamma[c] (x - mu) invstd + beta[c].
//   Backward: xhat = (x-mu) invstd, g = dy gamma;
//   dx = invstd (g - mean_c g - xhat mean_c(g xhat)); dgamma[c] = sum_{n,p} dy xhat;
//   dbeta[c] = sum_{n,p} dy.
// Layout: x, y, dy, dx NCHW float32 [N,C,P] (P = H*W): a pixel's channels are P apart, so one
//   thread per pixel reads coalesced across the warp. mean, invstd [N,P]; gamma, beta [C].
// Launch: layernorm_forward, layernorm_backward_data: grid (ceil(P/256), N), 256 threads; two
//   passes over C (mean, then centred variance) for accuracy.
//   layernorm_backward_params_part: grid (N*cpi, C), 256 threads: chunk s = n*cpi + j sums
//   (dy xhat, dy) over pixels [j*L, min(P,(j+1)L)) in double into partial[(c*S+s)*2 + {0,1}];
//   layernorm_backward_params: grid C, 256 threads, fixed-order sum over S (deterministic).
#include "common.cuh"

extern "C" __global__ void layernorm_forward(const float* x, const float* gamma, const float* beta,
                                             float* y, float* mean, float* invstd, int C, int P,
                                             float eps) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= P) return;
    long long n = blockIdx.y;
    const float* xp = x + n * C * P + p;
    float s = 0.0f;
    for (int c = 0; c < C; c++) s += xp[(long long)c * P];
    float mu = s / (float)C;
    float v = 0.0f;
    for (int c = 0; c < C; c++) {
        float d = xp[(long long)c * P] - mu;
        v += d * d;
    }
    float is = rsqrtf(v / (float)C + eps);
    mean[n * P + p] = mu;
    invstd[n * P + p] = is;
    float* yp = y + n * C * P + p;
    for (int c = 0; c < C; c++) yp[(long long)c * P] = gamma[c] * (xp[(long long)c * P] - mu) * is + beta[c];
}

extern "C" __global__ void layernorm_backward_data(const float* x, const float* dy,
                                                   const float* gamma, const float* mean,
                                                   const float* invstd, float* dx, int C, int P) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= P) return;
    long long n = blockIdx.y;
    long long off = n * C * P + p;
    float mu = mean[n * P + p], is = invstd[n * P + p];
    float sg = 0.0f, sgx = 0.0f;
    for (int c = 0; c < C; c++) {
        long long i = off + (long long)c * P;
        float g = dy[i] * gamma[c];
        sg += g;
        sgx += g * (x[i] - mu) * is;
    }
    float invC = 1.0f / (float)C;
    for (int c = 0; c < C; c++) {
        long long i = off + (long long)c * P;
        float g = dy[i] * gamma[c];
        float xhat = (x[i] - mu) * is;
        dx[i] = is * (g - sg * invC - xhat * sgx * invC);
    }
}

extern "C" __global__ void layernorm_backward_params_part(const float* x, const float* dy,
                                                          const float* mean, const float* invstd,
                                                          float* partial, int C, int P, int cpi,
                                                          int L) {
    __shared__ double sh[CU_THREADS];
    int s = blockIdx.x, c = blockIdx.y;
    int n = s / cpi, j = s - n * cpi;
    int p0 = j * L, p1 = cu_min(P, p0 + L);
    long long base = ((long long)n * C + c) * P;
    long long pb = (long long)n * P;
    double sdx = 0.0, sd = 0.0;
    for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) {
        float d = dy[base + p];
        sd += d;
        sdx += (double)(d * ((x[base + p] - mean[pb + p]) * invstd[pb + p]));
    }
    sdx = cu_block_sum_d(sdx, sh);
    sd = cu_block_sum_d(sd, sh);
    if (threadIdx.x == 0) {
        double* out = (double*)partial + ((long long)c * gridDim.x + s) * 2;
        out[0] = sdx;
        out[1] = sd;
    }
}

extern "C" __global__ void layernorm_backward_params(const float* partial, float* dgamma,
                                                     float* dbeta, int S) {
    __shared__ double sh[CU_THREADS];
    int c = blockIdx.x;
    const double* p = (const double*)partial + (long long)c * S * 2;
    double sdx = 0.0, sd = 0.0;
    for (int i = threadIdx.x; i < S; i += blockDim.x) {
        sdx += p[2 * i];
        sd += p[2 * i + 1];
    }
    sdx = cu_block_sum_d(sdx, sh);
    sd = cu_block_sum_d(sd, sh);
    if (threadIdx.x == 0) {
        dgamma[c] = (float)sdx;
        dbeta[c] = (float)sd;
    }
}
