// EMU_CHECKs of kernels/batchnorm.cu (train statistics + running stats, apply, eval, backward),
// launched as BatchNormOps does (workspace of c*s*4 floats = 2 doubles per (channel, chunk)),
// against a double reference.
#include "op_check.h"

using namespace opcheck;

static void bn_case(int N, int C, int H, int W, std::uint64_t seed) {
    const int P = H * W;
    const long long total = (long long)N * C * P, count = (long long)N * P;
    const float momentum = 0.1f, eps = 1e-5f;
    std::string tag = "batchnorm " + std::to_string(N) + "x" + std::to_string(C) + "x" + std::to_string(H) + "x" + std::to_string(W);
    std::vector<float> x0 = scaled(randn(total, seed), 2.0f, 0.7f), g0 = scaled(randn(C, seed + 1), 0.5f, 1.0f);
    std::vector<float> b0 = randn(C, seed + 2), rm0 = randn(C, seed + 3), rv0 = uniform(C, 0.5f, 2.0f, seed + 4);
    std::vector<float> dy0 = randn(total, seed + 5);
    Buf<float> x(x0), gamma(g0), beta(b0), rm(rm0), rv(rv0), dy(dy0);
    Buf<float> y(nans(total)), mean(nans(C)), invstd(nans(C)), ye(nans(total));
    Buf<float> dx(nans(total)), dgamma(nans(C)), dbeta(nans(C));
    int cpi, len;
    chunks(N, C, P, cpi, len);
    const int S = N * cpi;
    const Dim apply(cdiv(std::max(P, 1), THREADS), std::max(C, 1), std::max(N, 1));
    const Dim blockApply(cdiv(std::max(P, 1), 4096), std::max(C, 1), std::max(N, 1));   // BatchNormOps: 4096 per block
    {
        Buf<float> ws(nans((std::size_t)C * S * 4));
        launch("batchnorm_forward_stats_part", Dim(S, C), block1d(), 0, Args().ptr(x).ptr(ws).i32(C).i32(P).i32(cpi).i32(len));
        launch("batchnorm_forward_apply", blockApply, block1d(), 0,
               Args().ptr(x).ptr(y).ptr(gamma).ptr(beta).ptr(ws).ptr(mean).ptr(invstd).ptr(rm).ptr(rv).i32(C).i32(P).i32(S)
                   .i64(count).f32(momentum).f32(eps));
    }
    launch("batchnorm_forward_eval", apply, block1d(), 0,
           Args().ptr(x).ptr(ye).ptr(gamma).ptr(beta).ptr(rm).ptr(rv).f32(eps).i32(C).i32(P));
    // backward, plain and adding into existing gradients (base values + the gradient)
    std::vector<float> dxBase = randn(total, seed + 6), dgBase = randn(C, seed + 7), dbBase = randn(C, seed + 8);
    Buf<float> dxAcc(dxBase), dgAcc(dgBase), dbAcc(dbBase);
    for (int acc = 0; acc < 2; acc++) {
        Buf<float> ws(nans((std::size_t)C * S * 4));
        launch("batchnorm_backward_part", Dim(S, C), block1d(), 0,
               Args().ptr(x).ptr(dy).ptr(mean).ptr(invstd).ptr(ws).i32(C).i32(P).i32(cpi).i32(len));
        launch("batchnorm_backward_apply", blockApply, block1d(), 0,
               Args().ptr(x).ptr(dy).ptr(gamma).ptr(mean).ptr(invstd).ptr(ws).ptr(acc ? dgAcc.p : dgamma.p)
                   .ptr(acc ? dbAcc.p : dbeta.p).ptr(acc ? dxAcc.p : dx.p).i32(C).i32(P).i32(S).i64(count).i32(acc).i32(acc)
                   .i32(acc));
    }

    auto at = [&](int n, int c, int p) { return ((std::size_t)n * C + c) * P + p; };
    std::vector<double> mr(C), isr(C), rmr(C), rvr(C), yr(total), yer(total), dxr(total), dgr(C), dbr(C);
    for (int c = 0; c < C; c++) {
        double s1 = 0, s2 = 0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < P; p++) s1 += x0[at(n, c, p)];
        mr[c] = s1 / count;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < P; p++) s2 += (x0[at(n, c, p)] - mr[c]) * (x0[at(n, c, p)] - mr[c]);
        double var = s2 / count;
        isr[c] = 1 / std::sqrt(var + eps);
        rmr[c] = (1 - momentum) * rm0[c] + momentum * mr[c];
        rvr[c] = (1 - momentum) * rv0[c] + momentum * var * count / (count - 1);
        double sd = 0, sdx = 0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < P; p++) {
                std::size_t i = at(n, c, p);
                double xh = (x0[i] - mr[c]) * isr[c];
                yr[i] = g0[c] * xh + b0[c];
                yer[i] = g0[c] * (x0[i] - rmr[c]) / std::sqrt(rvr[c] + eps) + b0[c];
                sd += dy0[i];
                sdx += dy0[i] * xh;
            }
        dbr[c] = sd;
        dgr[c] = sdx;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < P; p++) {
                std::size_t i = at(n, c, p);
                double xh = (x0[i] - mr[c]) * isr[c];
                dxr[i] = g0[c] * isr[c] * (dy0[i] - sd / count - xh * sdx / count);
            }
    }
    expect_close(mr, mean, 1e-5, tag + " mean");
    expect_close(isr, invstd, 1e-5, tag + " invstd");
    expect_close(rmr, rm, 1e-5, tag + " running mean");
    expect_close(rvr, rv, 1e-5, tag + " running var");
    expect_close(yr, y, 1e-5, tag + " y");
    expect_close(yer, ye, 1e-5, tag + " eval y");
    expect_close(dgr, dgamma, 1e-4, tag + " dgamma");
    expect_close(dbr, dbeta, 1e-5, tag + " dbeta");
    expect_close(dxr, dx, 1e-4, tag + " dx");
    std::vector<double> dxa(dxr), dga(dgr), dba(dbr);
    for (std::size_t i = 0; i < dxa.size(); i++) dxa[i] += dxBase[i];
    for (int c = 0; c < C; c++) { dga[c] += dgBase[c]; dba[c] += dbBase[c]; }
    expect_close(dga, dgAcc, 1e-4, tag + " dgamma accumulated");
    expect_close(dba, dbAcc, 1e-5, tag + " dbeta accumulated");
    expect_close(dxa, dxAcc, 1e-4, tag + " dx accumulated");
}

EMU_CHECK(batchnorm_odd) { bn_case(2, 3, 11, 13, 701); }

EMU_CHECK(batchnorm_long_planes) { bn_case(1, 2, 23, 29, 711); }   // P = 667: 11 chunks

EMU_CHECK(batchnorm_aligned_two_blocks) { bn_case(2, 2, 64, 66, 721); }   // P = 4224: float4 path, 2 apply blocks per plane
