// elementwise.cu — flat elementwise kernels and the per-channel bias-gradient reduction.
//
// Math / layout (flat float32 buffers of n elements; NCHW for the channel sums):
//   add_forward:          y[i] = a[i] + b[i]
//   add_forward_inplace:  dst[i] += src[i]            (Backend.addInPlace)
//   fill_forward:         t[i] = v                    (Backend.fill; zero uses a memset)
//   bias_add_channels:    y[n,c,p] += b[c] over a flat [N,C,P] (the bias of linear when cuBLAS
//                         computes the GEMM; i = (n*C + c)*P + p, so c = (i / P) % C)
//   bias_backward_part:   partial[c*S + s] = sum of dy[n,c,p] over the pixels p of chunk s
//                         (s = n*cpi + j covers p in [j*L, min(P,(j+1)*L)) of image n), in double
//   bias_backward:        db[c] = sum_{s<S} partial[c*S+s] in a fixed order (deterministic)
// Launch: elementwise kernels: 1-D grid-stride, 256 threads, any grid size; 4 elements per
//   thread and step as float4 when every buffer is 16-byte aligned (cu_for4), else one.
//   bias_backward_part: grid (N*cpi, C), 256 threads; bias_backward: grid C, 256 threads.
#include "common.cuh"

extern "C" __global__ void add_forward(const float* a, const float* b, float* y, long long n) {
    cu_for4(n, cu_aligned16(a) && cu_aligned16(b) && cu_aligned16(y),
            [&](long long i) {
                float4 u = cu_ld4(a, i), v = cu_ld4(b, i);
                cu_st4(y, i, make_float4(u.x + v.x, u.y + v.y, u.z + v.z, u.w + v.w));
            },
            [&](long long i) { y[i] = a[i] + b[i]; });
}

extern "C" __global__ void add_forward_inplace(float* dst, const float* src, long long n) {
    cu_for4(n, cu_aligned16(dst) && cu_aligned16(src),
            [&](long long i) {
                float4 u = cu_ld4(dst, i), v = cu_ld4(src, i);
                cu_st4(dst, i, make_float4(u.x + v.x, u.y + v.y, u.z + v.z, u.w + v.w));
            },
            [&](long long i) { dst[i] += src[i]; });
}

extern "C" __global__ void fill_forward(float* t, float v, long long n) {
    cu_for4(n, cu_aligned16(t), [&](long long i) { cu_st4(t, i, make_float4(v, v, v, v)); },
            [&](long long i) { t[i] = v; });
}

extern "C" __global__ void bias_add_channels(float* y, const float* b, int C, int P, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        y[i] += b[(i / P) % C];
}

extern "C" __global__ void bias_backward_part(const float* dy, float* partial, int C, int P,
                                              int cpi, int L) {
    __shared__ double sh[CU_THREADS];
    int s = blockIdx.x, c = blockIdx.y;
    int n = s / cpi, j = s - n * cpi;
    int p0 = j * L, p1 = cu_min(P, p0 + L);
    const float* src = dy + ((long long)n * C + c) * P;
    double acc = 0.0;
    for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) acc += src[p];
    acc = cu_block_sum_d(acc, sh);
    if (threadIdx.x == 0) partial[(long long)c * gridDim.x + s] = (float)acc;
}

extern "C" __global__ void bias_backward(const float* partial, float* db, int S) {
    __shared__ double sh[CU_THREADS];
    int c = blockIdx.x;
    double acc = 0.0;
    for (int i = threadIdx.x; i < S; i += blockDim.x) acc += partial[(long long)c * S + i];
    acc = cu_block_sum_d(acc, sh);
    if (threadIdx.x == 0) db[c] = (float)acc;
}
