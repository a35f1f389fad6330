// Self-test kernels for the device layer: they exercise what the op kernels rely on (shared
// memory and barriers, warp intrinsics, atomics, multi-dimensional grids), plus kernels that
// are wrong on purpose (a race, a partial barrier, a failing assert) which the emulator must
// expose. Run by EmulatedDeviceTest, the ASan self-test (kernels/checks/selftest.cpp) and, on a
// GPU, by the JCudaDevice check.
#include <cassert>
#include <cuda_bf16.h>
#include <mma.h>

#define ST_BLOCK 256

extern "C" __global__ void selftest_saxpy(float* y, const float* __restrict__ x, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

// Tree reduction in static shared memory; out[b] = sum of block b's slice. blockDim.x == 256.
extern "C" __global__ void selftest_block_sum_static(const float* x, float* out, int n) {
    __shared__ float s[ST_BLOCK];
    int t = threadIdx.x, i = blockIdx.x * ST_BLOCK + t;
    s[t] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (int h = ST_BLOCK / 2; h > 0; h >>= 1) {
        if (t < h) s[t] += s[t + h];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}

// Same over dynamic shared memory of blockDim.x floats (any power-of-two block size).
extern "C" __global__ void selftest_block_sum_dynamic(const float* x, float* out, int n) {
    extern __shared__ float dsm[];
    int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
    dsm[t] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (int h = blockDim.x / 2; h > 0; h >>= 1) {
        if (t < h) dsm[t] += dsm[t + h];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = dsm[0];
}

// Per warp of 32 consecutive elements (n a multiple of 32 in the grid, tail padded with 0):
// down[w] = shuffle-down sum at lane 0, all[i] = xor-butterfly sum seen by every lane,
// scan[i] = inclusive prefix sum within the warp (shuffle up), bcast[i] = the warp's lane-5 value.
extern "C" __global__ void selftest_warp_ops(const float* x, float* down, float* all, float* scan,
                                             float* bcast, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x & 31;
    float v = i < n ? x[i] : 0.0f;
    float d = v;
    for (int o = 16; o > 0; o >>= 1) d += __shfl_down_sync(0xffffffffu, d, o);
    float a = v;
    for (int o = 16; o > 0; o >>= 1) a += __shfl_xor_sync(0xffffffffu, a, o);
    float s = v;
    for (int o = 1; o < 32; o <<= 1) {
        float u = __shfl_up_sync(0xffffffffu, s, o);
        if (lane >= o) s += u;
    }
    float b = __shfl_sync(0xffffffffu, v, 5);
    if (i < n) {
        all[i] = a;
        scan[i] = s;
        bcast[i] = b;
        if (lane == 0) down[i / 32] = d;
    }
}

// Per warp: bits[w] = __ballot_sync(x > 0) (as raw int bits), flags[w] = any + 2*all.
extern "C" __global__ void selftest_ballot(const float* x, int* bits, int* flags, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int p = i < n && x[i] > 0.0f;
    unsigned b = __ballot_sync(0xffffffffu, p);
    int any = __any_sync(0xffffffffu, p), every = __all_sync(0xffffffffu, p);
    if ((threadIdx.x & 31) == 0 && i < n) {
        bits[i / 32] = (int)b;
        flags[i / 32] = any + 2 * every;
    }
}

// Atomics across blocks: fsum += x[i], icount += (x[i] > 0), imax = max(int(1000 x[i])),
// umin = min over unsigned(i+1) of elements with x[i] < 0 (atomicCAS loop), dsum += x[i] (double).
extern "C" __global__ void selftest_atomics(const float* x, float* fsum, int* icount, int* imax,
                                            unsigned* umin, double* dsum, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i];
    atomicAdd(fsum, v);
    if (v > 0.0f) atomicAdd(icount, 1);
    atomicMax(imax, (int)(v * 1000.0f));
    if (v < 0.0f) {
        unsigned want = (unsigned)i + 1u, old = *umin;
        while (want < old) {
            unsigned seen = atomicCAS(umin, old, want);
            if (seen == old) break;
            old = seen;
        }
    }
    atomicAdd(dsum, (double)v);
}

// A 2-D grid of 2-D blocks: out[y][x] = y * 4096 + x, written only inside the w x h image.
extern "C" __global__ void selftest_grid2d(float* out, int w, int h) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) out[y * w + x] = (float)(y * 4096 + x);
}

// A 3-D grid of 3-D blocks: each thread writes its coordinates, encoded, at its linear index.
extern "C" __global__ void selftest_index3d(float* out) {
    unsigned tpb = blockDim.x * blockDim.y * blockDim.z;
    unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    out[b * tpb + t] = (float)(threadIdx.x + 10 * threadIdx.y + 100 * threadIdx.z +
                               1000 * blockIdx.x + 10000 * blockIdx.y + 100000 * blockIdx.z);
}

// C[M][N] = A[M][K] B[K][N] with 16x16 shared-memory tiles (two barriers per tile step).
extern "C" __global__ void selftest_matmul(const float* A, const float* B, float* C, int M, int N, int K) {
    __shared__ float ta[16][16];
    __shared__ float tb[16][17];
    int r = blockIdx.y * 16 + threadIdx.y, c = blockIdx.x * 16 + threadIdx.x;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += 16) {
        int ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
        ta[threadIdx.y][threadIdx.x] = (r < M && ka < K) ? A[r * K + ka] : 0.0f;
        tb[threadIdx.y][threadIdx.x] = (kb < K && c < N) ? B[kb * N + c] : 0.0f;
        __syncthreads();
        for (int k = 0; k < 16; k++) acc = fmaf(ta[threadIdx.y][k], tb[k][threadIdx.x], acc);
        __syncthreads();
    }
    if (r < M && c < N) C[r * N + c] = acc;
}

// out[b] = {count, and, or} of (x > 0) over block b through __syncthreads_count/_and/_or.
extern "C" __global__ void selftest_sync_count(const float* x, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int p = i < n && x[i] > 0.0f;
    int cnt = __syncthreads_count(p);
    int all = __syncthreads_and(p);
    int any = __syncthreads_or(p);
    if (threadIdx.x == 0) {
        out[3 * blockIdx.x] = (float)cnt;
        out[3 * blockIdx.x + 1] = (float)all;
        out[3 * blockIdx.x + 2] = (float)any;
    }
}

// RACY ON PURPOSE: reads a neighbour's shared slot without a barrier after it was written.
// With a barrier the answer is out[i] = (t + 1) % blockDim.x + 1; without, it depends on the
// order threads run in, which the emulator's randomised mode (CONVUNEXT_EMU_SHUFFLE) varies.
extern "C" __global__ void selftest_racy(float* out, int fixed) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    s[t] = -1.0f;
    __syncthreads();
    s[t] = (float)(t + 1);
    if (fixed) __syncthreads();
    out[blockIdx.x * blockDim.x + t] = s[(t + 1) % blockDim.x];
}

// WRONG ON PURPOSE: only part of the block reaches the barrier (mode 0: a branch around it,
// mode 1: early exit, mode 2: a warp shuffle that lane 31 never joins, mode 3: failed assert).
extern "C" __global__ void selftest_bad_sync(float* out, int mode) {
    int t = threadIdx.x;
    if (mode == 0) {
        if (t < 16) __syncthreads();
    } else if (mode == 1) {
        if (t == 3) return;
        __syncthreads();
    } else if (mode == 2) {
        if (t % 32 != 31) out[t] = __shfl_down_sync(0xffffffffu, (float)t, 1);
        return;
    } else {
        assert(t < 5);
    }
    out[t] = 1.0f;
}

// Barrier-bound kernel for timing the emulator's fiber switches: iters barriers per thread.
extern "C" __global__ void selftest_barrier_loop(float* out, int iters) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    float acc = 0.0f;
    s[t] = (float)t;
    for (int k = 0; k < iters; k++) {
        __syncthreads();
        acc += s[(t + k) % blockDim.x];
    }
    out[blockIdx.x * blockDim.x + t] = acc;
}

// READS UNWRITTEN MEMORY ON PURPOSE (write = 0): out[t] = s[t] of a static shared array that no
// thread of this block wrote, out[blockDim.x + t] = fresh[t] of an allocation nobody wrote. On a
// GPU both are undefined; the emulator's shuffled mode makes both NaN. write = 1 fills s first.
extern "C" __global__ void selftest_read_unwritten(const float* fresh, float* out, int write) {
    __shared__ float s[256];
    int t = threadIdx.x;
    if (write) s[t] = (float)t;
    __syncthreads();
    out[t] = s[t];
    out[blockDim.x + t] = fresh[t];
}

// The roundings of the tensor-core paths, elementwise: tf32[i] = wmma::__float_to_tf32(x[i]),
// bf16[2i] / bf16[2i+1] = the bits of __float2bfloat16_rn / _rz(x[i]). Compared bit for bit with
// convunext.backend.Precision on the emulator and on a GPU (DeviceSelftests).
extern "C" __global__ void selftest_round(const float* x, float* tf32, unsigned* bf16, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        tf32[i] = nvcuda::wmma::__float_to_tf32(x[i]);
        bf16[2 * i] = __bfloat16_as_ushort(__float2bfloat16_rn(x[i]));
        bf16[2 * i + 1] = __bfloat16_as_ushort(__float2bfloat16_rz(x[i]));
    }
}

// C[M][N] = A[M][K] . B[K][N] (row-major; M, N multiples of 16, K of 8) on tensor cores in TF32:
// one warp per 16x16 tile of C (grid (N/16, M/16), 32 threads); each 16x8 / 8x16 slice of A / B is
// rounded to tf32 into shared memory, loaded into fragments and multiplied into the accumulator.
extern "C" __global__ void selftest_wmma_tf32(const float* A, const float* B, float* C, int M, int N, int K) {
    using namespace nvcuda;
    __shared__ __align__(32) float sa[16 * 8];
    __shared__ __align__(32) float sb[8 * 16];
    int lane = threadIdx.x, m0 = blockIdx.y * 16, n0 = blockIdx.x * 16;
    wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> b;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> c;
    wmma::fill_fragment(c, 0.0f);
    for (int k0 = 0; k0 < K; k0 += 8) {
        for (int i = lane; i < 128; i += 32) {
            sa[i] = wmma::__float_to_tf32(A[(long long)(m0 + i / 8) * K + k0 + i % 8]);
            sb[i] = wmma::__float_to_tf32(B[(long long)(k0 + i / 16) * N + n0 + i % 16]);
        }
        __syncwarp();
        wmma::load_matrix_sync(a, sa, 8);
        wmma::load_matrix_sync(b, sb, 16);
        wmma::mma_sync(c, a, b, c);
        __syncwarp();
    }
    wmma::store_matrix_sync(C + (long long)m0 * N + n0, c, N, wmma::mem_row_major);
}

// The same in bf16 (K a multiple of 16; A column-major in shared memory to exercise both layouts).
extern "C" __global__ void selftest_wmma_bf16(const float* A, const float* B, float* C, int M, int N, int K) {
    using namespace nvcuda;
    __shared__ __align__(32) __nv_bfloat16 sa[16 * 16];
    __shared__ __align__(32) __nv_bfloat16 sb[16 * 16];
    int lane = threadIdx.x, m0 = blockIdx.y * 16, n0 = blockIdx.x * 16;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::col_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> b;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> c;
    wmma::fill_fragment(c, 0.0f);
    for (int k0 = 0; k0 < K; k0 += 16) {
        for (int i = lane; i < 256; i += 32) {
            int r = i / 16, q = i % 16;
            sa[q * 16 + r] = __float2bfloat16(A[(long long)(m0 + r) * K + k0 + q]);   // column-major
            sb[i] = __float2bfloat16(B[(long long)(k0 + r) * N + n0 + q]);
        }
        __syncwarp();
        wmma::load_matrix_sync(a, sa, 16);
        wmma::load_matrix_sync(b, sb, 16);
        wmma::mma_sync(c, a, b, c);
        __syncwarp();
    }
    wmma::store_matrix_sync(C + (long long)m0 * N + n0, c, N, wmma::mem_row_major);
}

// WRONG ON PURPOSE (mode 0): tf32 operands that were never rounded; (mode 1): a matrix loaded with
// an ldm that is not a multiple of 16 bytes; (mode 2): only half of the warp calls mma_sync.
extern "C" __global__ void selftest_wmma_misuse(const float* A, float* C, int mode) {
    using namespace nvcuda;
    wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> b;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> c;
    wmma::fill_fragment(c, 0.0f);
    wmma::load_matrix_sync(a, A, mode == 1 ? 9 : 8);
    wmma::load_matrix_sync(b, A, 8);
    if (mode != 0) {
        for (int i = 0; i < a.num_elements; i++) a.x[i] = wmma::__float_to_tf32(a.x[i]);
        for (int i = 0; i < b.num_elements; i++) b.x[i] = wmma::__float_to_tf32(b.x[i]);
    }
    if (mode != 2 || threadIdx.x < 16) wmma::mma_sync(c, a, b, c);
    wmma::store_matrix_sync(C, c, 16, wmma::mem_row_major);
}
