// CUDA emulation for g++: lets kernels/*.cu compile as C++17 and run on the CPU, one fiber per
// CUDA thread (see kernels/README.md). Force-included (-include) before every kernel file.
// __CUDA_ARCH__ stays undefined, so device-specific (Hopper) paths must have a portable #else.
#pragma once
#define CUDA_EMULATOR 1

// Standard headers a kernel may use, included here (outside the per-file namespace that the
// generated wrapper puts around each .cu) so that a kernel's own #include of them is a no-op.
#include <math.h>
#include <cmath>
#include <float.h>
#include <cfloat>
#include <limits.h>
#include <climits>
#include <stdint.h>
#include <cstdint>
#include <stddef.h>
#include <cstddef>
#include <stdio.h>
#include <cstdio>
#include <string.h>
#include <cstring>
#include <stdlib.h>
#include <cstdlib>
#include <limits>
#include <type_traits>
#include <utility>
#include <algorithm>
#include <string>
#include <vector>

// ---------------------------------------------------------------- qualifiers
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
// Block-scope thread_local implies static: one instance per OS thread; the blocks an OS thread
// runs go one at a time, and every fiber (CUDA thread) of a block runs on that OS thread.
#define __shared__ thread_local
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __grid_constant__
#ifndef __CUDACC__
// not defined: code that tests __CUDACC__ for CUDA-only syntax takes its host path
#endif

// ---------------------------------------------------------------- vector types
struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};
struct __attribute__((aligned(8))) float2 { float x, y; };
struct float3 { float x, y, z; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) int2 { int x, y; };
struct int3 { int x, y, z; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
struct __attribute__((aligned(8))) uint2 { unsigned int x, y; };
struct __attribute__((aligned(16))) uint4 { unsigned int x, y, z, w; };
struct __attribute__((aligned(16))) double2 { double x, y; };
struct __attribute__((aligned(4))) uchar4 { unsigned char x, y, z, w; };
struct __attribute__((aligned(4))) char4 { signed char x, y, z, w; };
static inline float2 make_float2(float x, float y) { return float2{x, y}; }
static inline float3 make_float3(float x, float y, float z) { return float3{x, y, z}; }
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
static inline int2 make_int2(int x, int y) { return int2{x, y}; }
static inline int3 make_int3(int x, int y, int z) { return int3{x, y, z}; }
static inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
static inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
static inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return uint3{x, y, z}; }
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
static inline double2 make_double2(double x, double y) { return double2{x, y}; }
static inline uchar4 make_uchar4(unsigned char x, unsigned char y, unsigned char z, unsigned char w) { return uchar4{x, y, z, w}; }

// ---------------------------------------------------------------- runtime interface
namespace cuemu {
struct BlockCtx {
    dim3 blockDim, gridDim;
    uint3 blockIdx;
};
struct ThreadCtx {
    uint3 threadIdx;
    const BlockCtx* block;
};
// Every fiber stack is aligned to its size and starts (above a guard page) with this header, so
// the running CUDA thread is found from the stack pointer: no thread-local lookup (a
// __tls_get_addr call per threadIdx in a -fPIC library) and nothing to reload after a switch.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::uintptr_t kFiberStackBytes = 512 * 1024;  // ASan frames are several times larger
#else
constexpr std::uintptr_t kFiberStackBytes = 64 * 1024;
#endif
constexpr std::uintptr_t kFiberGuardBytes = 4096;
struct FiberHeader {
    ThreadCtx ctx;
    void* thread;  // the runtime's Thread and Worker
    void* worker;
    std::uint64_t magic;
};
constexpr std::uint64_t kFiberMagic = 0x6375656d75666962ull;
// Slots are size-aligned, so every stack's hot top and header would map to the same L1 cache
// sets; staggering both by a per-slot "colour" of 64-byte lines avoids the conflict misses.
static inline std::uintptr_t fiber_colour(std::uintptr_t slot) { return ((slot / kFiberStackBytes) & 63u) * 64u; }
static inline FiberHeader* fiber_header_of(std::uintptr_t slot) {
    return reinterpret_cast<FiberHeader*>(slot + kFiberGuardBytes + fiber_colour(slot));
}
// Not volatile: the compiler may compute it once per function (a fiber never changes stacks).
static inline FiberHeader* fiber() {
    std::uintptr_t sp;
    asm("movq %%rsp, %0" : "=r"(sp));
    return fiber_header_of(sp & ~(kFiberStackBytes - 1));
}

void syncthreads();
int syncthreads_count(int pred);
void syncwarp(unsigned mask);
unsigned long long shfl_exchange(unsigned mask, unsigned long long bits, int mode, int arg, int width);
unsigned ballot(unsigned mask, int pred);
unsigned activemask();
[[noreturn]] void fail(const char* what);
// Called (through CUEMU_SHARED_DECL, inserted by gen_trampolines.py after each static __shared__
// declaration) by every thread that reaches the declaration: the first of each block fills the
// array with NaN bytes when the schedule is shuffled, as a GPU leaves it undefined.
void shared_decl(void* p, std::size_t bytes);
[[noreturn]] void assert_fail(const char* expr, const char* file, int line);

template <class T> static inline unsigned long long to_bits(T v) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
    unsigned long long b = 0; std::memcpy(&b, &v, sizeof(T)); return b;
}
template <class T> static inline T from_bits(unsigned long long b) {
    T v; std::memcpy(&v, &b, sizeof(T)); return v;
}
enum { SHFL_IDX = 0, SHFL_UP = 1, SHFL_DOWN = 2, SHFL_XOR = 3 };
}  // namespace cuemu

#define threadIdx (static_cast<const uint3&>(::cuemu::fiber()->ctx.threadIdx))
#define blockIdx (static_cast<const uint3&>(::cuemu::fiber()->ctx.block->blockIdx))
#define blockDim (static_cast<const dim3&>(::cuemu::fiber()->ctx.block->blockDim))
#define gridDim (static_cast<const dim3&>(::cuemu::fiber()->ctx.block->gridDim))
static constexpr int warpSize = 32;
#define CUEMU_SHARED_DECL(v) ::cuemu::shared_decl((void*)&(v), sizeof(v))

// ---------------------------------------------------------------- barriers and warp intrinsics
static inline void __syncthreads() { ::cuemu::syncthreads(); }
static inline int __syncthreads_count(int p) { return ::cuemu::syncthreads_count(p ? 1 : 0); }
static inline int __syncthreads_and(int p) {
    return ::cuemu::syncthreads_count(p ? 1 : 0) == (int)(blockDim.x * blockDim.y * blockDim.z);
}
static inline int __syncthreads_or(int p) { return ::cuemu::syncthreads_count(p ? 1 : 0) != 0; }
static inline void __syncwarp(unsigned mask = 0xffffffffu) { ::cuemu::syncwarp(mask); }
template <class T> static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    return ::cuemu::from_bits<T>(::cuemu::shfl_exchange(mask, ::cuemu::to_bits(v), ::cuemu::SHFL_IDX, src, width));
}
template <class T> static inline T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = 32) {
    return ::cuemu::from_bits<T>(::cuemu::shfl_exchange(mask, ::cuemu::to_bits(v), ::cuemu::SHFL_UP, (int)d, width));
}
template <class T> static inline T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = 32) {
    return ::cuemu::from_bits<T>(::cuemu::shfl_exchange(mask, ::cuemu::to_bits(v), ::cuemu::SHFL_DOWN, (int)d, width));
}
template <class T> static inline T __shfl_xor_sync(unsigned mask, T v, int lm, int width = 32) {
    return ::cuemu::from_bits<T>(::cuemu::shfl_exchange(mask, ::cuemu::to_bits(v), ::cuemu::SHFL_XOR, lm, width));
}
static inline unsigned __ballot_sync(unsigned mask, int p) { return ::cuemu::ballot(mask, p); }
static inline int __any_sync(unsigned mask, int p) { return ::cuemu::ballot(mask, p) != 0; }
static inline int __all_sync(unsigned mask, int p) {
    return ::cuemu::ballot(mask, !p) == 0;  // no participating lane has !p
}
static inline unsigned __activemask() { return ::cuemu::activemask(); }
static inline unsigned __lanemask_lt() {
    unsigned lane = (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) & 31u;
    return (1u << lane) - 1u;
}
static inline int __reduce_add_sync(unsigned mask, int v) {
    int s = 0;
    for (int l = 0; l < 32; l++) if (mask >> l & 1u) s += __shfl_sync(mask, v, l);
    return s;
}
static inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
    unsigned s = 0;
    for (int l = 0; l < 32; l++) if (mask >> l & 1u) s += __shfl_sync(mask, v, l);
    return s;
}
static inline int __reduce_max_sync(unsigned mask, int v) {
    int s = INT_MIN;
    for (int l = 0; l < 32; l++) if (mask >> l & 1u) { int o = __shfl_sync(mask, v, l); s = o > s ? o : s; }
    return s;
}
static inline int __reduce_min_sync(unsigned mask, int v) {
    int s = INT_MAX;
    for (int l = 0; l < 32; l++) if (mask >> l & 1u) { int o = __shfl_sync(mask, v, l); s = o < s ? o : s; }
    return s;
}
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
[[noreturn]] static inline void __trap() { ::cuemu::fail("__trap() called"); }
static inline void __nanosleep(unsigned) {}

// ---------------------------------------------------------------- atomics (real atomics:
// blocks of one grid may run on several OS threads at once)
#define CUEMU_ATOMIC_INT(T)                                                                          \
    static inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }     \
    static inline T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }     \
    static inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }   \
    static inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_RELAXED); }     \
    static inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_RELAXED); }       \
    static inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED); }     \
    static inline T atomicCAS(T* a, T cmp, T v) {                                                   \
        __atomic_compare_exchange_n(a, &cmp, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);         \
        return cmp;                                                                                 \
    }                                                                                               \
    static inline T atomicMax(T* a, T v) {                                                          \
        T o = __atomic_load_n(a, __ATOMIC_RELAXED);                                                 \
        while (o < v && !__atomic_compare_exchange_n(a, &o, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {} \
        return o;                                                                                   \
    }                                                                                               \
    static inline T atomicMin(T* a, T v) {                                                          \
        T o = __atomic_load_n(a, __ATOMIC_RELAXED);                                                 \
        while (o > v && !__atomic_compare_exchange_n(a, &o, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {} \
        return o;                                                                                   \
    }
CUEMU_ATOMIC_INT(int)
CUEMU_ATOMIC_INT(unsigned int)
CUEMU_ATOMIC_INT(unsigned long long)
CUEMU_ATOMIC_INT(long long)
#undef CUEMU_ATOMIC_INT

namespace cuemu {
template <class F, class U, class Op> static inline F atomic_fp(F* a, F v, Op op) {
    static_assert(sizeof(F) == sizeof(U), "size");
    U* p = reinterpret_cast<U*>(a);
    U o = __atomic_load_n(p, __ATOMIC_RELAXED), n;
    for (;;) {
        F of; std::memcpy(&of, &o, sizeof(F));
        F nf = op(of, v); std::memcpy(&n, &nf, sizeof(F));
        if (__atomic_compare_exchange_n(p, &o, n, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return of;
    }
}
}  // namespace cuemu
static inline float atomicAdd(float* a, float v) {
    return ::cuemu::atomic_fp<float, uint32_t>(a, v, [](float x, float y) { return x + y; });
}
static inline double atomicAdd(double* a, double v) {
    return ::cuemu::atomic_fp<double, uint64_t>(a, v, [](double x, double y) { return x + y; });
}
static inline float atomicExch(float* a, float v) {
    uint32_t b; std::memcpy(&b, &v, 4);
    b = __atomic_exchange_n(reinterpret_cast<uint32_t*>(a), b, __ATOMIC_RELAXED);
    float r; std::memcpy(&r, &b, 4); return r;
}
static inline float atomicMax(float* a, float v) {  // sm_90 has it natively; emulated by CAS here
    return ::cuemu::atomic_fp<float, uint32_t>(a, v, [](float x, float y) { return fmaxf(x, y); });
}
static inline float atomicMin(float* a, float v) {
    return ::cuemu::atomic_fp<float, uint32_t>(a, v, [](float x, float y) { return fminf(x, y); });
}
static inline unsigned atomicInc(unsigned* a, unsigned lim) {
    unsigned o = __atomic_load_n(a, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(a, &o, o >= lim ? 0u : o + 1u, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    return o;
}
static inline unsigned atomicDec(unsigned* a, unsigned lim) {
    unsigned o = __atomic_load_n(a, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(a, &o, (o == 0u || o > lim) ? lim : o - 1u, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    return o;
}
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd

// ---------------------------------------------------------------- loads, math, bit tricks
template <class T> static inline T __ldg(const T* p) { return *p; }
template <class T> static inline T __ldcg(const T* p) { return *p; }
template <class T> static inline T __ldca(const T* p) { return *p; }
template <class T> static inline T __ldcs(const T* p) { return *p; }
template <class T> static inline T __ldlu(const T* p) { return *p; }
template <class T> static inline void __stcs(T* p, T v) { *p = v; }
template <class T> static inline void __stcg(T* p, T v) { *p = v; }
template <class T> static inline void __stwt(T* p, T v) { *p = v; }

static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }

static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
// glibc declares these names itself (as its internal aliases): macros avoid the clash.
#define __expf(x) expf(x)
#define __exp10f(x) powf(10.0f, (x))
#define exp10f(x) powf(10.0f, (x))
#define __logf(x) logf(x)
#define __log2f(x) log2f(x)
#define __log10f(x) log10f(x)
#define __powf(x, y) powf((x), (y))
#define __sinf(x) sinf(x)
#define __cosf(x) cosf(x)
#define __tanf(x) tanf(x)
#define __sincosf(x, s, c) sincosf((x), (s), (c))
static inline float __fdividef(float x, float y) { return x / y; }
static inline float __frcp_rn(float x) { return 1.0f / x; }
static inline float __fsqrt_rn(float x) { return sqrtf(x); }
static inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }
static inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
static inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
static inline int __float2int_rz(float x) { return (int)x; }
static inline int __float2int_rd(float x) { return (int)floorf(x); }
static inline int __float2int_ru(float x) { return (int)ceilf(x); }
static inline float __int2float_rn(int x) { return (float)x; }
static inline int __float_as_int(float x) { int r; std::memcpy(&r, &x, 4); return r; }
static inline float __int_as_float(int x) { float r; std::memcpy(&r, &x, 4); return r; }
static inline unsigned __float_as_uint(float x) { unsigned r; std::memcpy(&r, &x, 4); return r; }
static inline float __uint_as_float(unsigned x) { float r; std::memcpy(&r, &x, 4); return r; }
static inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, 8); return r; }
static inline double __longlong_as_double(long long x) { double r; std::memcpy(&r, &x, 8); return r; }
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
    x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
    return (x >> 16) | (x << 16);
}
static inline int __mul24(int a, int b) { return (int)((long long)((a << 8) >> 8) * ((b << 8) >> 8)); }
static inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xFFFFFFu) * (b & 0xFFFFFFu); }
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
static inline long long clock64() { return (long long)__builtin_ia32_rdtsc(); }

// ---------------------------------------------------------------- tensor cores (mma.h, cuda_bf16.h)
#include "emu_wmma.h"
