// EMU_CHECKs of kernels/gemm.cu (Linear / 1x1 conv: forward, data and weight gradients, the
// split-K reduction), launched as GemmOps does, for both tile heights (BM 32 when M <= 32, else
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
