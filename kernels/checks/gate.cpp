// EMU_CHECKs of kernels/gate.cu, launched as GateOps does, against a double reference.
#include "op_check.h"

using namespace opcheck;

static double sig(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// N x C x H x W; CP % 4 == 0 takes the float4 path, else 4 scalars per thread.
static void gate_case(int N, int C, int H, int W) {
    const int CP = C * H * W;
    const std::size_t ns = (std::size_t)N * CP, ng = 3 * ns;
    std::vector<float> g0 = randn(ng, 301), s0 = randn(ns, 302), a0 = randn(ns, 303), d0 = randn(ns, 304);
    Buf<float> g(g0), s(s0), a(a0), dout(d0);
    Buf<float> u(nans(ns)), out(nans(ns)), da(nans(ns)), ds(nans(ns)), dg(nans(ng)), dgi(nans(ng));
    Dim grid(cdiv(CP, 4 * THREADS), N);   // GateOps: 4 elements per thread
    launch("gate_forward_in", grid, block1d(), 0, Args().ptr(g).ptr(s).ptr(u).i32(CP));
    launch("gate_forward_out", grid, block1d(), 0, Args().ptr(a).ptr(s).ptr(g).ptr(out).i32(CP));
    launch("gate_backward_out", grid, block1d(), 0,
           Args().ptr(a).ptr(s).ptr(g).ptr(dout).ptr(da).ptr(ds).ptr(dg).i32(CP));
    launch("gate_backward_in", grid, block1d(), 0, Args().ptr(dout).ptr(dgi).i32(CP).i32(0));
    // adding into a gradient already held: dg (gateOut's) += (du, 0, 0)
    Buf<float> dgAcc(dg.host());
    launch("gate_backward_in", grid, block1d(), 0, Args().ptr(dout).ptr(dgAcc).i32(CP).i32(1));
    std::vector<double> ur(ns), outr(ns), dar(ns), dsr(ns), dgr(ng), dgir(ng);
    for (int n = 0; n < N; n++)
        for (int e = 0; e < CP; e++) {
            std::size_t i = (std::size_t)n * CP + e, gi = (std::size_t)n * 3 * CP + e;
            double g1 = g0[gi], s2 = sig(g0[gi + CP]), t3 = std::tanh(g0[gi + 2 * CP]), sa = sig(a0[i]), d = d0[i];
            ur[i] = g1 + s0[i];
            outr[i] = sa * s0[i] + s2 * t3;
            dar[i] = d * s0[i] * sa * (1 - sa);
            dsr[i] = d * sa;
            dgr[gi] = 0;
            dgr[gi + CP] = d * t3 * s2 * (1 - s2);
            dgr[gi + 2 * CP] = d * s2 * (1 - t3 * t3);
            dgir[gi] = d;
            dgir[gi + CP] = dgir[gi + 2 * CP] = 0;
        }
    expect_close(ur, u, 1e-6, "gateIn u");
    expect_close(outr, out, 1e-5, "gateOut out");
    expect_close(dar, da, 1e-5, "gateOut da");
    expect_close(dsr, ds, 1e-5, "gateOut ds");
    expect_close(dgr, dg, 1e-5, "gateOut dg");
    expect_close(dgir, dgi, 0, "gateIn dg");
    std::vector<double> dgar(ng);
    for (std::size_t i = 0; i < ng; i++) dgar[i] = (double)dg.p[i] + dgir[i];
    expect_close(dgar, dgAcc, 1e-6, "gateIn dg accumulated");
}

EMU_CHECK(gate_forward_backward) { gate_case(2, 5, 7, 9); }   // CP = 315: scalar path, a partial piece

EMU_CHECK(gate_aligned) { gate_case(2, 4, 16, 18); }   // CP = 1152: float4 path, 2 blocks per image
