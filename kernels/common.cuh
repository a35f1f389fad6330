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
