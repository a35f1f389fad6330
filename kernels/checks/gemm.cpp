// EMU_CHECKs of kernels/gemm.cu (Linear / 1x1 conv: forward, data and weight gradients, the
// split-K reduction), launched as LinearOps does, for both tile heights (BM 32 when M <= 32, else
// 64), on sizes that are not multiples of the 64x64x16 tile, against a double reference.
#include "op_check.h"

using namespace opcheck;

static std::string variant(const char* kernel, int m) { return bm(m) == 32 ? std::string(kernel) + "_bm32" : kernel; }

// y [N,Co,P] = w [Co,Ci] . x [N,Ci,P] + b;  dx = w^T . dy;  dw = sum_n dy[n] . x[n]^T.
static void linear_case(int N, int Ci, int Co, int P, bool bias, std::uint64_t seed) {
    std::string tag = "gemm n" + std::to_string(N) + " ci" + std::to_string(Ci) + " co" + std::to_string(Co) + " p" + std::to_string(P);
    std::vector<float> x0 = randn((std::size_t)N * Ci * P, seed), w0 = randn((std::size_t)Co * Ci, seed + 1);
    std::vector<float> b0 = randn(Co, seed + 2), dy0 = randn((std::size_t)N * Co * P, seed + 3);
    Buf<float> x(x0), w(w0), b(b0), dy(dy0);
    Buf<float> y(nans((std::size_t)N * Co * P)), dx(nans(x0.size())), dw(nans(w0.size()));
    // forward: M = Co, K = Ci
    launch(variant("gemm_forward", Co).c_str(), Dim(cdiv(P, 64), cdiv(Co, bm(Co)), N), block1d(), 0,
           Args().ptr(w).ptr(x).ptr(bias ? b.p : nullptr).ptr(y).i32(Co).i32(P).i32(Ci).i64((long long)Ci * P).i64((long long)Co * P));
    // data gradient: M = Ci, K = Co
    launch(variant("gemm_backward_data", Ci).c_str(), Dim(cdiv(P, 64), cdiv(Ci, bm(Ci)), N), block1d(), 0,
           Args().ptr(w).ptr(dy).ptr(dx).i32(Ci).i32(P).i32(Co).i64((long long)Co * P).i64((long long)Ci * P));
    // weight gradient: M = Co, Nc = Ci, split over P
    int cpi, len;
    split_k(N, Co, Ci, P, cpi, len);
    const int S = N * cpi;
    {
        Buf<float> ws(nans((std::size_t)S * Co * Ci));
        launch(variant("gemm_backward_weight_part", Co).c_str(), Dim(cdiv(Ci, 64), cdiv(Co, bm(Co)), S), block1d(), 0,
               Args().ptr(dy).ptr(x).ptr(ws).i32(Co).i32(Ci).i32(P).i64((long long)Co * P).i64((long long)Ci * P).i32(cpi).i32(len));
        launch("gemm_backward_weight_reduce", Dim(cdiv((long long)Co * Ci, THREADS)), block1d(), 0,
               Args().ptr(ws).ptr(dw).i64((long long)Co * Ci).i32(S));
    }
    std::vector<double> yr(y.n, 0.0), dxr(dx.n, 0.0), dwr(dw.n, 0.0);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < Co; o++)
            for (int i = 0; i < Ci; i++)
                for (int p = 0; p < P; p++) {
                    std::size_t xi = ((std::size_t)n * Ci + i) * P + p, yi = ((std::size_t)n * Co + o) * P + p;
                    double wv = w0[(std::size_t)o * Ci + i];
                    yr[yi] += wv * x0[xi];
                    dxr[xi] += wv * dy0[yi];
                    dwr[(std::size_t)o * Ci + i] += (double)dy0[yi] * x0[xi];
                }
    if (bias)
        for (std::size_t e = 0; e < yr.size(); e++) yr[e] += b0[(e / P) % Co];
    expect_close(yr, y, 1e-5, tag + " y");
    expect_close(dxr, dx, 1e-5, tag + " dx");
    expect_close(dwr, dw, 1e-5, tag + " dw (" + std::to_string(S) + " chunks)");
}

EMU_CHECK(gemm_bm32) { linear_case(2, 5, 7, 13 * 17, true, 901); }     // every kernel in its BM 32 form, 4 K chunks

EMU_CHECK(gemm_bm64) { linear_case(2, 37, 70, 9 * 11, false, 911); }   // BM 64, two row tiles, no bias

EMU_CHECK(gemm_long_k) { linear_case(1, 131, 33, 5 * 3, true, 921); }  // K = 131 in the forward: 9 K slices

// The GELU epilogues, launched as LinearOps.linearGelu / linearBackwardDataGelu:
//   h = gelu(W1 . x + b) and, when pre is passed, pre = W1 . x + b (W1 [Co,Ci]; run with pre and
//   with a null pre, whose h must be the same); dpre = (W2^T . dy) * gelu'(pre0) with
//   W2 [K2,Co], dy [N,K2,P], pre0 [N,Co,P] (random, scaled so gelu' spans its range).
// Co is M of both kernels, so Co <= 32 runs the _bm32 forms.
static double gelu_d(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }

static double gelu_grad_d(double v) {
    return 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
}

static void linear_gelu_case(int N, int Ci, int Co, int K2, int P, bool bias, std::uint64_t seed) {
    std::string tag = "gemm_gelu n" + std::to_string(N) + " ci" + std::to_string(Ci) + " co" + std::to_string(Co)
                      + " k2 " + std::to_string(K2) + " p" + std::to_string(P);
    const std::size_t hidden = (std::size_t)N * Co * P;
    std::vector<float> x0 = randn((std::size_t)N * Ci * P, seed), w0 = randn((std::size_t)Co * Ci, seed + 1);
    std::vector<float> b0 = randn(Co, seed + 2), w20 = randn((std::size_t)K2 * Co, seed + 3);
    std::vector<float> dy0 = randn((std::size_t)N * K2 * P, seed + 4), pre0 = scaled(randn(hidden, seed + 5), 2.0f, 0);
    Buf<float> x(x0), w(w0), b(b0), w2(w20), dy(dy0), pre0d(pre0);
    Buf<float> h(nans(hidden)), pre(nans(hidden)), h2(nans(hidden)), dpre(nans(hidden));
    const Dim fwGrid(cdiv(P, 64), cdiv(Co, bm(Co)), N);
    const float* bp = bias ? (const float*)b.p : nullptr;
    launch(variant("gemm_forward_gelu", Co).c_str(), fwGrid, block1d(), 0,
           Args().ptr(w).ptr(x).ptr(bp).ptr(h).ptr(pre).i32(Co).i32(P).i32(Ci).i64((long long)Ci * P).i64((long long)Co * P));
    launch(variant("gemm_forward_gelu", Co).c_str(), fwGrid, block1d(), 0,
           Args().ptr(w).ptr(x).ptr(bp).ptr(h2).ptr(nullptr).i32(Co).i32(P).i32(Ci).i64((long long)Ci * P).i64((long long)Co * P));
    // data gradient through pwconv2 and the GELU: M = Co (channels of pre), K = K2
    launch(variant("gemm_backward_data_gelu", Co).c_str(), fwGrid, block1d(), 0,
           Args().ptr(w2).ptr(dy).ptr(pre0d).ptr(dpre).i32(Co).i32(P).i32(K2).i64((long long)K2 * P).i64((long long)Co * P));
    std::vector<double> prer(hidden, 0.0), hr(hidden), dprer(hidden, 0.0);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < Co; o++)
            for (int p = 0; p < P; p++) {
                std::size_t e = ((std::size_t)n * Co + o) * P + p;
                double s = bias ? b0[o] : 0.0, d = 0.0;
                for (int i = 0; i < Ci; i++) s += (double)w0[(std::size_t)o * Ci + i] * x0[((std::size_t)n * Ci + i) * P + p];
                for (int k = 0; k < K2; k++) d += (double)w20[(std::size_t)k * Co + o] * dy0[((std::size_t)n * K2 + k) * P + p];
                prer[e] = s;
                hr[e] = gelu_d(s);
                dprer[e] = d * gelu_grad_d(pre0[e]);
            }
    expect_close(prer, pre, 1e-5, tag + " pre");
    expect_close(hr, h, 1e-5, tag + " h");
    expect_close(hr, h2, 1e-5, tag + " h (pre null)");
    expect_close(dprer, dpre, 1e-5, tag + " dpre");
}

EMU_CHECK(gemm_gelu_bm32) { linear_gelu_case(2, 5, 7, 9, 13 * 17, true, 931); }       // Co 7: BM 32, 4 column tiles

EMU_CHECK(gemm_gelu_bm64) { linear_gelu_case(2, 37, 70, 19, 9 * 11, false, 941); }    // Co 70: BM 64, two row tiles, no bias

EMU_CHECK(gemm_gelu_level0) { linear_gelu_case(1, 32, 128, 32, 67, true, 951); }      // pwconv1/2 channels (32 -> 128 -> 32)
