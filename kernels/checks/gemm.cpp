// EMU_CHECKs of kernels/gemm.cu (Linear / 1x1 conv: forward, data and weight gradients with the
// bias gradient, the split-K reduction, plain and accumulating), launched as LinearOps does, for
// every tile (forward / data: BM 128, 64, 32; weight: 128x128, 128x32, 32x128, 64x64, 32x32), on
// sizes that are not multiples of the tiles (scalar paths) and on multiples of 4 (16-byte
// paths), against a double reference.
#include "op_check.h"

using namespace opcheck;

static std::string variant(const char* kernel, int m) { return std::string(kernel) + "_bm" + std::to_string(bm(m)); }

// The weight gradient as LinearOps.backwardWeight launches it: split-K partials (dW, and the row
// sums of dy as db when db is non-null), then the deterministic reduce.
static void weight_grad(const Buf<float>& dy, const float* x, float* dw, float* db, int N, int M, int Nc, int P,
                        int accumulate = 0) {
    WTile t = gemm_weight_tile(M, Nc);
    int cpi, len;
    split_k(N, M, Nc, P, t, cpi, len);
    const int S = N * cpi;
    const long long SS = partial_stride(M, Nc);
    Buf<float> ws(nans((std::size_t)S * SS));
    launch(("gemm_backward_weight_part_" + std::to_string(t.bm) + "x" + std::to_string(t.bn)).c_str(),
           Dim(cdiv(Nc, t.bn), cdiv(M, t.bm), S), Dim(t.threads), 0,
           Args().ptr(dy).ptr(x).ptr(ws).i32(M).i32(Nc).i32(P).i64((long long)M * P).i64((long long)Nc * P).i32(cpi)
               .i32(len).i64(SS).i32(db ? 1 : 0));
    long long E = (long long)M * Nc + (db ? M : 0);
    launch("gemm_backward_weight_reduce", Dim(cdiv(E, 32)), Dim(1024), 0,
           Args().ptr(ws).ptr(dw).ptr(db).i64((long long)M * Nc).i64(E).i32(S).i64(SS).i32(accumulate));
}

// y [N,Co,P] = w [Co,Ci] . x [N,Ci,P] + b;  dx = w^T . dy;  dw = sum_n dy[n] . x[n]^T.
// xOff: x starts that many floats into its buffer (1: an unaligned view, which must take the
// scalar paths; UBSan reports a misaligned 16-byte access otherwise).
static void linear_case(int N, int Ci, int Co, int P, bool bias, std::uint64_t seed, int xOff = 0) {
    std::string tag = "gemm n" + std::to_string(N) + " ci" + std::to_string(Ci) + " co" + std::to_string(Co) + " p" + std::to_string(P);
    std::vector<float> x0 = randn((std::size_t)N * Ci * P, seed), w0 = randn((std::size_t)Co * Ci, seed + 1);
    std::vector<float> b0 = randn(Co, seed + 2), dy0 = randn((std::size_t)N * Co * P, seed + 3);
    std::vector<float> xb0(xOff, 0.0f);
    xb0.insert(xb0.end(), x0.begin(), x0.end());
    Buf<float> xb(xb0), w(w0), b(b0), dy(dy0);
    const float* x = xb.p + xOff;
    Buf<float> y(nans((std::size_t)N * Co * P)), dx(nans(x0.size())), dw(nans(w0.size())), db(nans(Co));
    int tpb;
    // forward: M = Co, K = Ci
    Dim g = gemm_grid(N, Co, P, Ci, tpb);
    launch(variant("gemm_forward", Co).c_str(), g, block1d(), 0,
           Args().ptr(w).ptr(x).ptr(bias ? b.p : nullptr).ptr(y).i32(Co).i32(P).i32(Ci).i64((long long)Ci * P)
               .i64((long long)Co * P).i32(tpb));
    // data gradient: M = Ci, K = Co
    g = gemm_grid(N, Ci, P, Co, tpb);
    launch(variant("gemm_backward_data", Ci).c_str(), g, block1d(), 0,
           Args().ptr(w).ptr(dy).ptr(dx).i32(Ci).i32(P).i32(Co).i64((long long)Co * P).i64((long long)Ci * P).i32(tpb)
               .i32(0));
    std::vector<float> dxBase = randn(x0.size(), seed + 8);
    Buf<float> dxAcc(dxBase);   // adding into a gradient already held
    launch(variant("gemm_backward_data", Ci).c_str(), g, block1d(), 0,
           Args().ptr(w).ptr(dy).ptr(dxAcc).i32(Ci).i32(P).i32(Co).i64((long long)Co * P).i64((long long)Ci * P).i32(tpb)
               .i32(1));
    // weight gradient: M = Co, Nc = Ci, split over P; db = row sums of dy
    weight_grad(dy, x, dw.p, bias ? db.p : nullptr, N, Co, Ci, P);
    std::vector<double> yr(y.n, 0.0), dxr(dx.n, 0.0), dwr(dw.n, 0.0), dbr(Co, 0.0);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < Co; o++)
            for (int i = 0; i < Ci; i++)
                for (int p = 0; p < P; p++) {
                    std::size_t xi = ((std::size_t)n * Ci + i) * P + p, yi = ((std::size_t)n * Co + o) * P + p;
                    double wv = w0[(std::size_t)o * Ci + i];
                    yr[yi] += wv * x0[xi];
                    dxr[xi] += wv * dy0[yi];
                    dwr[(std::size_t)o * Ci + i] += (double)dy0[yi] * x0[xi];
                    if (i == 0) dbr[o] += dy0[yi];
                }
    if (bias)
        for (std::size_t e = 0; e < yr.size(); e++) yr[e] += b0[(e / P) % Co];
    expect_close(yr, y, 1e-5, tag + " y");
    expect_close(dxr, dx, 1e-5, tag + " dx");
    {
        std::vector<double> want(dxr);
        for (std::size_t e = 0; e < want.size(); e++) want[e] += dxBase[e];
        expect_close(want, dxAcc, 1e-5, tag + " dx accumulated");
    }
    expect_close(dwr, dw, 1e-5, tag + " dw");
    if (bias) expect_close(dbr, db, 1e-5, tag + " db");
    // accumulate: the reduce adds to what dw holds (a parameter's slice of the flat gradient)
    if (Ci > 0) {
        std::vector<float> base = randn(w0.size(), seed + 7);
        Buf<float> acc(base), accb(nans(1));
        weight_grad(dy, x, acc.p, nullptr, N, Co, Ci, P, 1);
        std::vector<double> want(dwr);
        for (std::size_t e = 0; e < want.size(); e++) want[e] += base[e];
        expect_close(want, acc, 1e-5, tag + " dw accumulated");
    }
}

EMU_CHECK(gemm_bm32) { linear_case(2, 5, 7, 13 * 17, true, 901); }     // every kernel in its BM 32 form, 4 K chunks

EMU_CHECK(gemm_bm64) { linear_case(2, 37, 70, 9 * 11, false, 911); }   // BM 64, two row tiles, no bias

EMU_CHECK(gemm_long_k) { linear_case(1, 131, 33, 5 * 3, true, 921); }  // K = 131 in the forward: 9 K slices

EMU_CHECK(gemm_aligned) { linear_case(2, 36, 130, 12 * 11, true, 961); }  // P, K multiples of 4: 16-byte paths, BM 128

EMU_CHECK(gemm_unaligned_view) { linear_case(1, 12, 40, 8 * 8, true, 965, 1); }  // aligned shape, x one float off

EMU_CHECK(gemm_weight_tiles) {   // every weight-gradient tile: 128x128, 128x32, 32x128, 64x64, 32x32
    linear_case(1, 128, 128, 7 * 5, true, 971);
    linear_case(1, 24, 120, 8 * 4, true, 972);
    linear_case(1, 120, 20, 8 * 4, false, 973);
    linear_case(1, 60, 60, 9, true, 974);
    linear_case(2, 3, 2, 9 * 9, true, 975);
}

// Several column tiles per block (tpb > 1, chosen by LinearOps for K <= 128 and large grids; here
// forced to 3 with a last block of 2 tiles), aligned and not, forward and data gradient.
EMU_CHECK(gemm_tiles_per_block) {
    for (int P : {7 * 256 + 4, 7 * 256 + 5}) {
        const int N = 2, K = 8, M = 32, tpb = 3;
        std::vector<float> x0 = randn((std::size_t)N * K * P, 981), w0 = randn((std::size_t)M * K, 982);
        std::vector<float> b0 = randn(M, 983);
        Buf<float> x(x0), w(w0), b(b0), y(nans((std::size_t)N * M * P)), dx(nans((std::size_t)N * K * P));
        const int tiles = (int)cdiv(P, bn(bm(M)));
        launch(variant("gemm_forward", M).c_str(), Dim(cdiv(tiles, tpb), 1, N), block1d(), 0,
               Args().ptr(w).ptr(x).ptr(b).ptr(y).i32(M).i32(P).i32(K).i64((long long)K * P).i64((long long)M * P).i32(tpb));
        // dx = w^T . y (M = K rows of 8: BM 32; K = M = 32)
        launch(variant("gemm_backward_data", K).c_str(), Dim(cdiv(tiles, tpb), 1, N), block1d(), 0,
               Args().ptr(w).ptr(y).ptr(dx).i32(K).i32(P).i32(M).i64((long long)M * P).i64((long long)K * P).i32(tpb).i32(0));
        std::vector<double> yr(y.n, 0.0), dxr(dx.n, 0.0);
        for (int n = 0; n < N; n++)
            for (int o = 0; o < M; o++)
                for (int p = 0; p < P; p++) {
                    double acc = b0[o];
                    for (int i = 0; i < K; i++) acc += (double)w0[(std::size_t)o * K + i] * x0[((std::size_t)n * K + i) * P + p];
                    yr[((std::size_t)n * M + o) * P + p] = acc;
                }
        for (int n = 0; n < N; n++)
            for (int i = 0; i < K; i++)
                for (int p = 0; p < P; p++) {
                    double acc = 0;
                    for (int o = 0; o < M; o++) acc += (double)w0[(std::size_t)o * K + i] * y.p[((std::size_t)n * M + o) * P + p];
                    dxr[((std::size_t)n * K + i) * P + p] = acc;
                }
        expect_close(yr, y, 1e-5, "gemm_tiles_per_block y, P " + std::to_string(P));
        expect_close(dxr, dx, 1e-5, "gemm_tiles_per_block dx, P " + std::to_string(P));
    }
}

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
    int tpb;
    const Dim fwGrid = gemm_grid(N, Co, P, Ci, tpb);
    const float* bp = bias ? (const float*)b.p : nullptr;
    launch(variant("gemm_forward_gelu", Co).c_str(), fwGrid, block1d(), 0,
           Args().ptr(w).ptr(x).ptr(bp).ptr(h).ptr(pre).i32(Co).i32(P).i32(Ci).i64((long long)Ci * P).i64((long long)Co * P)
               .i32(tpb));
    launch(variant("gemm_forward_gelu", Co).c_str(), fwGrid, block1d(), 0,
           Args().ptr(w).ptr(x).ptr(bp).ptr(h2).ptr(nullptr).i32(Co).i32(P).i32(Ci).i64((long long)Ci * P).i64((long long)Co * P)
               .i32(tpb));
    // data gradient through pwconv2 and the GELU: M = Co (channels of pre), K = K2
    const Dim bdGrid = gemm_grid(N, Co, P, K2, tpb);
    launch(variant("gemm_backward_data_gelu", Co).c_str(), bdGrid, block1d(), 0,
           Args().ptr(w2).ptr(dy).ptr(pre0d).ptr(dpre).i32(Co).i32(P).i32(K2).i64((long long)K2 * P).i64((long long)Co * P)
               .i32(tpb));
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

EMU_CHECK(gemm_gelu_aligned) { linear_gelu_case(2, 16, 40, 12, 10 * 12, true, 991); }  // 16-byte paths, BM 64
