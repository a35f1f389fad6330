// Device helpers shared by the kernels/*.cu files (included, never compiled alone).
// Everything here is `static inline` so that a build that links every kernel file into one
// library (the emulator) sees no duplicate symbols.
#pragma once
#include "geometry.h"   // CU_THREADS and the other launch constants the Java launchers read too

// Loop unrolling hint for nvcc; host compilers (the emulator's g++) do without it.
#if defined(__CUDACC__)
#define CU_UNROLL _Pragma("unroll")
#else
#define CU_UNROLL
#endif
static_assert((CU_THREADS & (CU_THREADS - 1)) == 0, "cu_block_sum_d's tree needs a power-of-two block");

// Reflect an index into [0, n): PyTorch padding_mode='reflect' (single reflection, pad < n).
// The clamp keeps indices of tile positions that no valid output reads inside the buffer.
static __device__ inline int cu_reflect(int i, int n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return i;
}

static __device__ inline int cu_min(int a, int b) { return a < b ? a : b; }

// Whether p is 16-byte aligned (float4 access).
static __device__ inline bool cu_aligned16(const void* p) { return (reinterpret_cast<unsigned long long>(p) & 15ull) == 0; }

// Grid-stride loop over n elements: f4(i4) for the float4 pieces [4 i4, 4 i4 + 4) when `aligned`
// (every buffer the caller touches is 16-byte aligned), then f1(i) for the tail; f1 for all of
// them otherwise. Four elements per thread and iteration: 16-byte loads keep 4x the bytes in
// flight of one float each.
template <class F4, class F1>
static __device__ inline void cu_for4(long long n, bool aligned, F4 f4, F1 f1) {
    long long stride = (long long)gridDim.x * blockDim.x;
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n4 = aligned ? n >> 2 : 0;
    for (long long i = t; i < n4; i += stride) f4(i);
    for (long long i = (n4 << 2) + t; i < n; i += stride) f1(i);
}

// One 4-element piece per thread of a 2-D grid (x: pieces, y: image): elements [4t, 4t+4) of
// [0, n) with t = blockIdx.x * blockDim.x + threadIdx.x; f4(e) with e = 4t when `aligned` (n % 4
// == 0 and every buffer 16-byte aligned at each image's start), else f1(e) for each element.
template <class F4, class F1>
static __device__ inline void cu_piece4(long long n, bool aligned, F4 f4, F1 f1) {
    long long e = 4 * ((long long)blockIdx.x * blockDim.x + threadIdx.x);
    if (e >= n) return;
    if (aligned) {
        f4(e);
    } else {
        for (int j = 0; j < 4 && e + j < n; j++) f1(e + j);
    }
}

static __device__ inline float4 cu_ld4(const float* p, long long i4) { return reinterpret_cast<const float4*>(p)[i4]; }
static __device__ inline void cu_st4(float* p, long long i4, float4 v) { reinterpret_cast<float4*>(p)[i4] = v; }
static __device__ inline int cu_max(int a, int b) { return a > b ? a : b; }

// Deterministic block sum of doubles: a fixed shared-memory tree over blockDim.x (a power of two,
// at most CU_THREADS) slots. `sh` holds blockDim.x doubles. Every thread gets the total.
static __device__ inline double cu_block_sum_d(double v, double* sh) {
    int t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();   // sh may be reused right after
    return r;
}

// Warp sum of floats (fixed butterfly order, so deterministic); every lane gets the total.
static __device__ inline float cu_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
