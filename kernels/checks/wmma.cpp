// EMU_CHECKs of the emulator's tensor-core API (kernels/emu/emu_wmma.h): the TF32 and bf16
// roundings bit for bit against formulas derived independently here (in double arithmetic), the
// two WMMA GEMMs of selftest.cu against a double reference, and the misuses a GPU punishes.
#include <cmath>
#include <cstring>

#include "check.h"

using namespace emucheck;

namespace {

std::uint32_t bits(float f) { std::uint32_t u; std::memcpy(&u, &f, 4); return u; }
float from(std::uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// Rounds finite x to `mant` mantissa bits in double arithmetic: ties away from zero (away) or to
// even; exact because the scaled value fits a double's 53 bits.
double round_to(double x, int mant, bool away) {
    if (x == 0 || !std::isfinite(x)) return x;
    int e;
    std::frexp(std::fabs(x), &e);                    // |x| = f 2^e, f in [0.5, 1)
    e = std::max(e, -125);                           // subnormals keep the smallest exponent's ulp
    double ulp = std::ldexp(1.0, e - 1 - mant);
    double q = std::fabs(x) / ulp, fl = std::floor(q), r;
    if (q - fl > 0.5) r = fl + 1;
    else if (q - fl < 0.5) r = fl;
    else r = away ? fl + 1 : (std::fmod(fl, 2.0) == 0 ? fl : fl + 1);
    return std::copysign(r * ulp, x);
}

std::uint32_t want_tf32(float x) {
    if (std::isnan(x)) return bits(x) & 0xffffe000u;   // truncated, not quieted (as an H200)
    double r = round_to(x, 10, true);
    return bits(std::fabs(r) > 3.4028234663852886e38 ? std::copysign(INFINITY, x) : (float)r);
}

std::uint32_t want_bf16(float x, bool rz) {
    if (std::isnan(x)) return 0x7fffu;
    if (rz) return bits(x) >> 16;                    // truncation of the encoding
    double r = round_to(x, 7, false);
    float f = std::fabs(r) > 3.4028234663852886e38 ? std::copysign(INFINITY, x) : (float)r;
    return bits(f) >> 16;
}

std::vector<float> special_and_random(std::size_t n) {
    std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN, from(0xffc00001u),
                            3.4028235e38f, -3.4028235e38f, 1e-45f, -1e-45f, 1.17549435e-38f, 1.1754942e-38f};
    // exact ties and neighbours for both formats: mantissa tails 0x1000 (tf32 half-ulp), 0x8000 (bf16)
    for (std::uint32_t base : {0x3f800000u, 0x3f802000u, 0xbf806000u, 0x00400000u, 0x7f7fe000u, 0x40490000u})
        for (std::uint32_t tail : {0x0fffu, 0x1000u, 0x1001u, 0x3000u, 0x7fffu, 0x8000u, 0x8001u, 0x18000u})
            v.push_back(from(base + tail));
    std::vector<float> r = randn(n, 77);
    for (std::size_t i = 0; i < r.size(); i++) v.push_back(std::ldexp(r[i], (int)(i % 60) - 30));
    return v;
}

}  // namespace

EMU_CHECK(wmma_roundings_bit_exact) {
    std::vector<float> x = special_and_random(4000);
    int n = (int)x.size();
    Buf<float> px(x), tf(n);
    Buf<unsigned> bf(2 * n);
    launch("selftest_round", {(unsigned)(n + 255) / 256}, {256}, 0, Args().ptr(px).ptr(tf).ptr(bf).i32(n));
    int bad = 0;
    for (int i = 0; i < n && bad < 5; i++) {
        bool ok = bits(tf[i]) == want_tf32(x[i]) && bf[2 * i] == want_bf16(x[i], false) && bf[2 * i + 1] == want_bf16(x[i], true);
        if (!ok) {
            bad++;
            char b[200];
            std::snprintf(b, sizeof b, "x = %a (0x%08x): tf32 0x%08x want 0x%08x, bf16 rn 0x%04x want 0x%04x, rz 0x%04x want 0x%04x",
                          x[i], bits(x[i]), bits(tf[i]), want_tf32(x[i]), bf[2 * i], want_bf16(x[i], false), bf[2 * i + 1],
                          want_bf16(x[i], true));
            expect(false, b);
        }
    }
    // the rules named in emu_wmma.h, on hand-picked cases
    expect(bits(tf[2]) == 0x3f800000u, "tf32(1) = 1");
    auto at = [&](std::uint32_t u) { for (int i = 0; i < n; i++) if (bits(x[i]) == u) return i; return -1; };
    int tie = at(0x3f801000u), tieOdd = at(0x3f803000u), bTie = at(0x3f808000u), bTieOdd = at(0x3f818000u);
    expect(tie >= 0 && bits(tf[tie]) == 0x3f802000u, "tf32 tie rounds away from zero (not to even)");
    expect(tieOdd >= 0 && bits(tf[tieOdd]) == 0x3f804000u, "tf32 tie above an odd mantissa rounds away");
    expect(bTie >= 0 && bf[2 * bTie] == 0x3f80u, "bf16 tie rounds to even (down)");
    expect(bTieOdd >= 0 && bf[2 * bTieOdd] == 0x3f82u, "bf16 tie above an odd mantissa rounds to even (up)");
    expect(bf[2 * 6] == 0x7fffu && bits(tf[6]) == 0x7fc00000u, "tf32 truncates a NaN (as an H200); bf16 NaN is canonical");
    expect(bits(tf[8]) == 0x7f800000u && bf[2 * 8] == 0x7f80u, "FLT_MAX rounds up to inf");
}

static void wmma_case(const char* kernel, int M, int N, int K, bool bf16, std::uint64_t seed) {
    std::vector<float> a = randn((std::size_t)M * K, seed), b = randn((std::size_t)K * N, seed + 1);
    Buf<float> pa(a), pb(b), pc((std::size_t)M * N);
    launch(kernel, {(unsigned)N / 16, (unsigned)M / 16}, {32}, 0, Args().ptr(pa).ptr(pb).ptr(pc).i32(M).i32(N).i32(K));
    auto rnd = [&](float v) { return bf16 ? from(want_bf16(v, false) << 16) : from(want_tf32(v)); };
    double maxDiffR = 0, maxDiffX = 0, maxRef = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double sr = 0, sx = 0;
            for (int q = 0; q < K; q++) {
                sr += (double)rnd(a[(std::size_t)i * K + q]) * rnd(b[(std::size_t)q * N + j]);
                sx += (double)a[(std::size_t)i * K + q] * b[(std::size_t)q * N + j];
            }
            double got = pc[(std::size_t)i * N + j];
            maxDiffR = std::max(maxDiffR, std::fabs(got - sr));
            maxDiffX = std::max(maxDiffX, std::fabs(got - sx));
            maxRef = std::max(maxRef, std::fabs(sx));
        }
    std::string tag = std::string(kernel) + " " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
    // against the rounded operands: only float accumulation error (K additions of 2^-24 each)
    expect(maxDiffR / maxRef <= K * 6e-8, tag + ": vs rounded operands " + std::to_string(maxDiffR / maxRef));
    // against the float operands: the input format's unit roundoff u (2^-11 tf32, 2^-8 bf16),
    // twice per product, grown like sqrt(K) for random signs; and clearly not fp32 (> u/64)
    double u = bf16 ? 1.0 / 256 : 1.0 / 2048, e = maxDiffX / maxRef;
    expect(e <= 2 * u * std::sqrt((double)K), tag + ": vs float operands " + std::to_string(e));
    expect(e > u / 64, tag + ": the operands were not rounded (error " + std::to_string(e) + ")");
}

EMU_CHECK(wmma_gemm_tf32) { wmma_case("selftest_wmma_tf32", 32, 48, 40, false, 501); }

EMU_CHECK(wmma_gemm_bf16) { wmma_case("selftest_wmma_bf16", 48, 32, 64, true, 511); }

EMU_CHECK(wmma_misuse_is_an_error) {
    std::vector<float> a = randn(16 * 16, 521);
    Buf<float> pa(a), pc(16 * 16);
    std::string e0 = try_launch("selftest_wmma_misuse", {1}, {32}, 0, Args().ptr(pa).ptr(pc).i32(0));
    expect(e0.find("not converted with wmma::__float_to_tf32") != std::string::npos, "unrounded tf32: " + e0);
    std::string e1 = try_launch("selftest_wmma_misuse", {1}, {32}, 0, Args().ptr(pa).ptr(pc).i32(1));
    expect(e1.find("multiple of 16 bytes") != std::string::npos, "ldm 9: " + e1);
    std::string e2 = try_launch("selftest_wmma_misuse", {1}, {32}, 0, Args().ptr(pa).ptr(pc).i32(2));
    expect(e2.find("deadlock") != std::string::npos || e2.find("warp 0") != std::string::npos, "half a warp: " + e2);
    std::string e3 = try_launch("selftest_wmma_tf32", {1, 1}, {16}, 0, Args().ptr(pa).ptr(pa).ptr(pc).i32(16).i32(16).i32(8));
    expect(e3.find("not full") != std::string::npos, "a 16-thread block: " + e3);
    launch("selftest_wmma_misuse", {1}, {32}, 0, Args().ptr(pa).ptr(pc).i32(3));   // correct use
}
