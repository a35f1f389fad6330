// EMU_CHECKs of kernels/layernorm.cu (channels-first LayerNorm and its backward), launched as
// LayerNormOps does, against a double reference.
#include "op_check.h"

using namespace opcheck;

static void ln_case(int N, int C, int H, int W, std::uint64_t seed) {
    const int P = H * W;
    const long long total = (long long)N * C * P;
    const float eps = 1e-6f;
    std::string tag = "layernorm " + std::to_string(N) + "x" + std::to_string(C) + "x" + std::to_string(H) + "x" + std::to_string(W);
    std::vector<float> x0 = scaled(randn(total, seed), 1.5f, -0.4f), g0 = scaled(randn(C, seed + 1), 0.5f, 1.0f);
    std::vector<float> b0 = randn(C, seed + 2), dy0 = randn(total, seed + 3);
    Buf<float> x(x0), gamma(g0), beta(b0), dy(dy0);
    Buf<float> y(nans(total)), mean(nans((std::size_t)N * P)), invstd(nans((std::size_t)N * P));
    Buf<float> dx(nans(total)), dgamma(nans(C)), dbeta(nans(C));
    const Dim pix(cdiv(P, THREADS), N);
    launch("layernorm_forward", pix, block1d(), 0,
           Args().ptr(x).ptr(gamma).ptr(beta).ptr(y).ptr(mean).ptr(invstd).i32(C).i32(P).f32(eps));
    launch("layernorm_backward_data", pix, block1d(), 0,
           Args().ptr(x).ptr(dy).ptr(gamma).ptr(mean).ptr(invstd).ptr(dx).i32(C).i32(P));
    int cpi, len;
    chunks(N, C, P, cpi, len);
    const int S = N * cpi;
    {
        Buf<float> ws(nans((std::size_t)C * S * 4));
        launch("layernorm_backward_params_part", Dim(S, C), block1d(), 0,
               Args().ptr(x).ptr(dy).ptr(mean).ptr(invstd).ptr(ws).i32(C).i32(P).i32(cpi).i32(len));
        launch("layernorm_backward_params", Dim(C), block1d(), 0, Args().ptr(ws).ptr(dgamma).ptr(dbeta).i32(S));
    }
    auto at = [&](int n, int c, int p) { return ((std::size_t)n * C + c) * P + p; };
    std::vector<double> yr(total), mr((std::size_t)N * P), isr((std::size_t)N * P), dxr(total), dgr(C, 0.0), dbr(C, 0.0);
    for (int n = 0; n < N; n++)
        for (int p = 0; p < P; p++) {
            double mu = 0, var = 0, sg = 0, sgx = 0;
            for (int c = 0; c < C; c++) mu += x0[at(n, c, p)];
            mu /= C;
            for (int c = 0; c < C; c++) var += (x0[at(n, c, p)] - mu) * (x0[at(n, c, p)] - mu);
            double is = 1 / std::sqrt(var / C + eps);
            mr[(std::size_t)n * P + p] = mu;
            isr[(std::size_t)n * P + p] = is;
            for (int c = 0; c < C; c++) {
                std::size_t i = at(n, c, p);
                double xh = (x0[i] - mu) * is, g = (double)dy0[i] * g0[c];
                yr[i] = g0[c] * xh + b0[c];
                sg += g;
                sgx += g * xh;
                dgr[c] += dy0[i] * xh;
                dbr[c] += dy0[i];
            }
            for (int c = 0; c < C; c++) {
                std::size_t i = at(n, c, p);
                double xh = (x0[i] - mu) * is, g = (double)dy0[i] * g0[c];
                dxr[i] = is * (g - sg / C - xh * sgx / C);
            }
        }
    expect_close(yr, y, 1e-5, tag + " y");
    expect_close(mr, mean, 1e-5, tag + " mean");
    expect_close(isr, invstd, 1e-5, tag + " invstd");
    expect_close(dxr, dx, 1e-4, tag + " dx");
    expect_close(dgr, dgamma, 1e-5, tag + " dgamma");
    expect_close(dbr, dbeta, 1e-5, tag + " dbeta");
}

EMU_CHECK(layernorm_odd) { ln_case(2, 5, 13, 21, 801); }   // P = 273: 2 pixel blocks, 5 chunks

EMU_CHECK(layernorm_wide_c) { ln_case(1, 67, 5, 9, 811); }
