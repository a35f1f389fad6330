// EMU_CHECKs of kernels/gelu.cu, launched as GeluOps does, against a double reference.
#include "op_check.h"

using namespace opcheck;

EMU_CHECK(gelu_forward_backward) {
    const long long n = 2 * 5 * 11 * 13;   // 1430: 6 blocks, the last partial
    std::vector<float> x0 = scaled(randn(n, 201), 3.0f, 0), dy0 = randn(n, 202);
    Buf<float> x(x0), dy(dy0), y(nans(n)), dx(nans(n));
    launch("gelu_forward", grid1d(n), block1d(), 0, Args().ptr(x).ptr(y).i64(n));
    launch("gelu_backward", grid1d(n), block1d(), 0, Args().ptr(x).ptr(dy).ptr(dx).i64(n));
    std::vector<double> yr(n), dxr(n);
    for (long long i = 0; i < n; i++) {
        double v = x0[i], cdf = 0.5 * (1 + std::erf(v / std::sqrt(2.0)));
        yr[i] = v * cdf;
        dxr[i] = dy0[i] * (cdf + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI));
    }
    expect_close(yr, y, 1e-5, "gelu y");
    expect_close(dxr, dx, 1e-5, "gelu dx");
}

// add_gelu_forward, launched as GeluOps.addGelu: out = gelu(a + b), pre = a + b when pre is passed
// (run with pre and with a null pre, whose out must be the same). Odd sizes: a single partial
// block, and several blocks with the last partial.
static void add_gelu_case(long long n, std::uint64_t seed) {
    std::string tag = "add_gelu n" + std::to_string(n);
    std::vector<float> a0 = scaled(randn(n, seed), 2.0f, -0.5f), b0 = randn(n, seed + 1);
    Buf<float> a(a0), b(b0), out(nans(n)), pre(nans(n)), out2(nans(n));
    launch("add_gelu_forward", grid1d(n), block1d(), 0, Args().ptr(a).ptr(b).ptr(out).ptr(pre).i64(n));
    launch("add_gelu_forward", grid1d(n), block1d(), 0, Args().ptr(a).ptr(b).ptr(out2).ptr(nullptr).i64(n));
    std::vector<double> sr(n), outr(n);
    for (long long i = 0; i < n; i++) {
        double s = (double)a0[i] + b0[i];
        sr[i] = s;
        outr[i] = s * 0.5 * (1 + std::erf(s / std::sqrt(2.0)));
    }
    expect_close(sr, pre, 1e-7, tag + " pre");
    expect_close(outr, out, 1e-5, tag + " out");
    expect_close(outr, out2, 1e-5, tag + " out (pre null)");
}

EMU_CHECK(add_gelu_one_block) { add_gelu_case(3 * 7 * 11, 211); }        // 231: one partial block

EMU_CHECK(add_gelu_many_blocks) { add_gelu_case(2 * 5 * 11 * 13 + 3, 221); }   // 1433: 6 blocks, the last partial
