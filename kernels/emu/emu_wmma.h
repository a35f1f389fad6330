// The emulator's tensor-core API: bfloat16 (cuda_bf16.h) and warp matrix functions
// (mma.h: nvcuda::wmma) for the two shapes our kernels may use,
//   TF32: fragment<matrix_a|matrix_b, 16, 16, 8, precision::tf32, row_major|col_major>
//   bf16: fragment<matrix_a|matrix_b, 16, 16, 16, __nv_bfloat16, row_major|col_major>
// each with fragment<accumulator, 16, 16, K, float>. Included by cuda_emu.h at global scope
// (kernels/emu/include/mma.h and cuda_bf16.h are empty stubs), so kernels write exactly what
// they write for nvcc. See kernels/README.md, "Tensor cores on the emulator".
//
// Where each rule comes from:
// * __float_to_tf32 is `cvt.rna.tf32.f32` (CUDA 13 crt/mma.h): round to nearest, ties AWAY from
//   zero (PTX ISA, "Rounding modifiers": .rna), keeping 10 mantissa bits; the result is a float
//   whose low 13 bits are zero; overflow past FLT_MAX -> inf. A NaN is truncated (low 13 bits
//   cleared, not quieted; a payload only in those bits gives inf): PTX does not say, an H200 does
//   that for every NaN the device selftest sends (0x7f800001 -> inf, 0x7fc00000 -> 0x7fc00000).
// * __float2bfloat16 / __float2bfloat16_rn / the float constructor are `cvt.rn.bf16.f32`
//   (cuda_bf16.hpp): round to nearest, ties to EVEN, 7 mantissa bits; NaN -> 0x7fff. Its host
//   fallback in cuda_bf16.hpp (remainder > 0x8000_0000, or == with an odd result: increment) is
//   the formula below. _rz truncates.
// * "the input matrices must be manually converted to tf32 precision" (CUDA C++ Programming
//   Guide, Warp Matrix Functions, Alternate Floating Point): mma_sync on tf32 fragments whose
//   elements have low mantissa bits set is undefined on a GPU, so here it is an error.
// * load/store_matrix_sync: "mptr must be a 256-bit aligned pointer" and "ldm ... must be a
//   multiple of 8 for __half element type or multiple of 4 for float element type" (i.e. of 16
//   bytes) (same guide, Description): violations are errors here. Every lane of the warp must
//   call each wmma function (they are warp-collective): a missing lane is a deadlock error.
// * The fragment layout is opaque ("implementation defined"): here lane l holds elements
//   e = l + 32 i of the tile in row-major order, on purpose unlike the hardware's, so code that
//   assumes a layout gets wrong answers on one of the two.
// * mma_sync: products of tf32/bf16 values are exact in float; the emulator adds them to the
//   accumulator in k order with round-to-nearest float additions (fmaf). The hardware's internal
//   accumulation (alignment, rounding of partial sums) is undocumented; it was measured to
//   truncate (Fasi, Higham, Mikaitis, Pranesh, "Numerical behavior of NVIDIA tensor cores",
//   PeerJ Comput. Sci. 7:e330, 2021). The two differ by a few float ulps of the partial sums,
//   far below the input rounding (2^-11 for tf32, 2^-8 for bf16): compare GEMMs with a tolerance
//   from the input format, not bit for bit.
#pragma once

// ---------------------------------------------------------------- bfloat16 (cuda_bf16.h)
namespace cuemu {
static inline std::uint32_t f2u(float f) { std::uint32_t u; std::memcpy(&u, &f, 4); return u; }
static inline float u2f(std::uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
// cvt.rn.bf16.f32
static inline unsigned short bf16_bits_rn(float f) {
    std::uint32_t x = f2u(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;
    std::uint32_t r = x >> 16, rem = x << 16;
    if (rem > 0x80000000u || (rem == 0x80000000u && (r & 1u))) r++;
    return (unsigned short)r;
}
// cvt.rz.bf16.f32
static inline unsigned short bf16_bits_rz(float f) {
    std::uint32_t x = f2u(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;
    return (unsigned short)(x >> 16);
}
// cvt.rna.tf32.f32: add half an ulp of the 10-bit mantissa to the magnitude, then truncate.
static inline float tf32_rna(float f) {
    std::uint32_t x = f2u(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return u2f(x & 0xffffe000u);  // NaN: truncated, see above
    if ((x & 0x7f800000u) == 0x7f800000u) return f;  // +-inf
    return u2f((x + 0x1000u) & 0xffffe000u);
}
static inline bool is_tf32(float f) {
    std::uint32_t x = f2u(f);
    return (x & 0x1fffu) == 0 || (x & 0x7f800000u) == 0x7f800000u;
}
}  // namespace cuemu

struct __nv_bfloat16_raw { unsigned short x; };
struct __align__(2) __nv_bfloat16 {
    unsigned short __x;
    __nv_bfloat16() = default;
    __nv_bfloat16(const __nv_bfloat16_raw& r) : __x(r.x) {}
    __nv_bfloat16(float f) : __x(::cuemu::bf16_bits_rn(f)) {}
    __nv_bfloat16(double d) : __x(::cuemu::bf16_bits_rn((float)d)) {}
    operator float() const { return ::cuemu::u2f((std::uint32_t)__x << 16); }
    operator __nv_bfloat16_raw() const { return __nv_bfloat16_raw{__x}; }
    __nv_bfloat16& operator=(float f) { __x = ::cuemu::bf16_bits_rn(f); return *this; }
};
struct __align__(4) __nv_bfloat162 { __nv_bfloat16 x, y; };
typedef __nv_bfloat16 nv_bfloat16;
typedef __nv_bfloat162 nv_bfloat162;

static inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16_raw{::cuemu::bf16_bits_rn(f)}; }
static inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16_raw{::cuemu::bf16_bits_rn(f)}; }
static inline __nv_bfloat16 __float2bfloat16_rz(float f) { return __nv_bfloat16_raw{::cuemu::bf16_bits_rz(f)}; }
static inline float __bfloat162float(__nv_bfloat16 h) { return (float)h; }
static inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return __nv_bfloat162{__float2bfloat16_rn(a), __float2bfloat16_rn(b)}; }
static inline __nv_bfloat162 __float2bfloat162_rn(float a) { return __floats2bfloat162_rn(a, a); }
static inline float __low2float(__nv_bfloat162 h) { return (float)h.x; }
static inline float __high2float(__nv_bfloat162 h) { return (float)h.y; }
static inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
static inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { return __nv_bfloat16_raw{u}; }

// ---------------------------------------------------------------- warp matrix functions (mma.h)
namespace nvcuda {
namespace wmma {
struct row_major;
struct col_major;
struct matrix_a;
struct matrix_b;
struct accumulator;
namespace precision { struct tf32; }
enum layout_t { mem_row_major, mem_col_major };

static inline float __float_to_tf32(float in) { return ::cuemu::tf32_rna(in); }

template <class T> struct storage_of { typedef T type; };
template <> struct storage_of<precision::tf32> { typedef float type; };

// Rows and columns of the tile each fragment kind holds (A: m x k, B: k x n, C: m x n).
template <class Use, int m, int n, int k> struct tile_of;
template <int m, int n, int k> struct tile_of<matrix_a, m, n, k> { enum { R = m, C = k }; };
template <int m, int n, int k> struct tile_of<matrix_b, m, n, k> { enum { R = k, C = n }; };
template <int m, int n, int k> struct tile_of<accumulator, m, n, k> { enum { R = m, C = n }; };

template <class Use, int m, int n, int k, class T> struct supported { enum { value = 0 }; };
template <class Use> struct supported<Use, 16, 16, 8, precision::tf32> { enum { value = 1 }; };
template <class Use> struct supported<Use, 16, 16, 16, __nv_bfloat16> { enum { value = 1 }; };
template <> struct supported<accumulator, 16, 16, 8, float> { enum { value = 1 }; };
template <> struct supported<accumulator, 16, 16, 16, float> { enum { value = 1 }; };

template <typename Use, int m, int n, int k, typename T, typename Layout = void> class fragment {
    static_assert(supported<Use, m, n, k, T>::value,
                  "the emulator implements WMMA for m16n16k8 tf32 and m16n16k16 __nv_bfloat16 with float "
                  "accumulators only (kernels/emu/emu_wmma.h)");
public:
    enum { rows = tile_of<Use, m, n, k>::R, cols = tile_of<Use, m, n, k>::C };
    enum { num_elements = rows * cols / 32, num_storage_elements = rows * cols / 32 };
    typedef T element_type;
    typedef typename storage_of<T>::type storage_element_type;
    storage_element_type x[num_elements];
};

// The lane of this CUDA thread within its (full) warp; fails when the warp is partial.
static inline unsigned wmma_lane(const char* what) {
    unsigned tid = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    unsigned nthreads = blockDim.x * blockDim.y * blockDim.z;
    if ((tid | 31u) >= nthreads) {
        char b[160];
        std::snprintf(b, sizeof b, "%s: the warp of thread %u is not full (block of %u threads): WMMA needs all 32 lanes",
                      what, tid, nthreads);
        ::cuemu::fail(b);
    }
    __syncwarp();  // warp-collective: every lane must arrive (else a deadlock error names them)
    return tid & 31u;
}

static inline void wmma_check_ptr(const void* p, unsigned ldm, std::size_t esize, const char* what) {
    if ((reinterpret_cast<std::uintptr_t>(p) & 31u) != 0 || (ldm * esize) % 16 != 0) {
        char b[200];
        std::snprintf(b, sizeof b, "%s: pointer %p must be 256-bit aligned and ldm (%u elements of %zu bytes) a multiple "
                      "of 16 bytes (CUDA C++ Programming Guide, warp matrix functions)", what, p, ldm, esize);
        ::cuemu::fail(b);
    }
}

template <class L> struct is_row { enum { value = 0 }; };
template <> struct is_row<row_major> { enum { value = 1 }; };

template <typename Use, int m, int n, int k, typename T, typename L, typename S>
static inline void load_matrix_sync(fragment<Use, m, n, k, T, L>& f, const S* p, unsigned ldm) {
    typedef fragment<Use, m, n, k, T, L> F;
    static_assert(sizeof(S) == sizeof(typename F::storage_element_type), "load_matrix_sync: pointer type");
    unsigned lane = wmma_lane("load_matrix_sync");
    wmma_check_ptr(p, ldm, sizeof(S), "load_matrix_sync");
    for (int i = 0; i < F::num_elements; i++) {
        int e = (int)lane + 32 * i, r = e / F::cols, c = e % F::cols;
        std::size_t idx = is_row<L>::value ? (std::size_t)r * ldm + c : (std::size_t)c * ldm + r;
        std::memcpy(&f.x[i], &p[idx], sizeof(S));
    }
}

template <int m, int n, int k>
static inline void load_matrix_sync(fragment<accumulator, m, n, k, float>& f, const float* p, unsigned ldm, layout_t l) {
    typedef fragment<accumulator, m, n, k, float> F;
    unsigned lane = wmma_lane("load_matrix_sync");
    wmma_check_ptr(p, ldm, 4, "load_matrix_sync");
    for (int i = 0; i < F::num_elements; i++) {
        int e = (int)lane + 32 * i, r = e / F::cols, c = e % F::cols;
        f.x[i] = l == mem_row_major ? p[(std::size_t)r * ldm + c] : p[(std::size_t)c * ldm + r];
    }
}

template <int m, int n, int k>
static inline void store_matrix_sync(float* p, const fragment<accumulator, m, n, k, float>& f, unsigned ldm, layout_t l) {
    typedef fragment<accumulator, m, n, k, float> F;
    unsigned lane = wmma_lane("store_matrix_sync");
    wmma_check_ptr(p, ldm, 4, "store_matrix_sync");
    for (int i = 0; i < F::num_elements; i++) {
        int e = (int)lane + 32 * i, r = e / F::cols, c = e % F::cols;
        (l == mem_row_major ? p[(std::size_t)r * ldm + c] : p[(std::size_t)c * ldm + r]) = f.x[i];
    }
}

template <typename Use, int m, int n, int k, typename T, typename L, typename V>
static inline void fill_fragment(fragment<Use, m, n, k, T, L>& f, const V& v) {
    for (int i = 0; i < fragment<Use, m, n, k, T, L>::num_elements; i++) f.x[i] = v;
}

template <class S> static inline float operand_value(const S& v) { return (float)v; }

// One per OS thread (the warps of the block it runs): a and b of each warp, gathered by mma_sync.
struct MmaScratch { float a[32][16 * 16], b[32][16 * 16]; };
static inline MmaScratch& mma_scratch() {
    static thread_local MmaScratch s;
    return s;
}

template <int m, int n, int k, typename T, typename LA, typename LB>
static inline void mma_sync(fragment<accumulator, m, n, k, float>& d, const fragment<matrix_a, m, n, k, T, LA>& a,
                            const fragment<matrix_b, m, n, k, T, LB>& b, const fragment<accumulator, m, n, k, float>& c) {
    typedef fragment<matrix_a, m, n, k, T, LA> FA;
    typedef fragment<matrix_b, m, n, k, T, LB> FB;
    typedef fragment<accumulator, m, n, k, float> FC;
    unsigned lane = wmma_lane("mma_sync");
    unsigned warp = (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) >> 5;
    MmaScratch& s = mma_scratch();
    float* A = s.a[warp];
    float* B = s.b[warp];
    for (int i = 0; i < FA::num_elements; i++) {
        float v = operand_value(a.x[i]);
        if (std::is_same<T, precision::tf32>::value && !::cuemu::is_tf32(v))
            ::cuemu::fail("mma_sync: a matrix_a element of a precision::tf32 fragment was not converted with "
                          "wmma::__float_to_tf32 (its low 13 mantissa bits are set; undefined on a GPU)");
        A[lane + 32 * i] = v;
    }
    for (int i = 0; i < FB::num_elements; i++) {
        float v = operand_value(b.x[i]);
        if (std::is_same<T, precision::tf32>::value && !::cuemu::is_tf32(v))
            ::cuemu::fail("mma_sync: a matrix_b element of a precision::tf32 fragment was not converted with "
                          "wmma::__float_to_tf32 (its low 13 mantissa bits are set; undefined on a GPU)");
        B[lane + 32 * i] = v;
    }
    __syncwarp();  // every lane's share of a and b is in the scratch
    float out[FC::num_elements];
    for (int i = 0; i < FC::num_elements; i++) {
        int e = (int)lane + 32 * i, r = e / n, col = e % n;
        float acc = c.x[i];
        for (int q = 0; q < k; q++) acc = fmaf(A[r * k + q], B[q * n + col], acc);
        out[i] = acc;
    }
    __syncwarp();  // everyone has read the scratch before the next mma_sync overwrites it
    for (int i = 0; i < FC::num_elements; i++) d.x[i] = out[i];
}

}  // namespace wmma
}  // namespace nvcuda
