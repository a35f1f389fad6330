// EMU_CHECKs of kernels/conv2d.cu (implicit-GEMM forward and weight gradient, gather data
// gradient with dynamic shared memory, the padding adjoint), launched as Conv2dOps does, against
// a direct double reference. The weight partials are summed by gemm.cu's reduce, as in Java.
#include "op_check.h"

using namespace opcheck;

static std::string variant(const char* kernel, int m) { return bm(m) == 32 ? std::string(kernel) + "_bm32" : kernel; }

static int refl(int i, int n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; }

static void conv_case(int N, int Ci, int Co, int H, int W, int k, int s, int pad, bool reflect, bool bias,
                      std::uint64_t seed) {
    std::string tag = "conv " + std::to_string(k) + "x" + std::to_string(k) + " s" + std::to_string(s) + " p" +
                      std::to_string(pad) + (reflect ? " reflect" : " zero") + " ci" + std::to_string(Ci) + " co" +
                      std::to_string(Co) + " " + std::to_string(H) + "x" + std::to_string(W);
    const int OH = (H + 2 * pad - k) / s + 1, OW = (W + 2 * pad - k) / s + 1, P = OH * OW, kk = k * k;
    const long long Kd = (long long)Ci * kk;
    std::vector<float> x0 = randn((std::size_t)N * Ci * H * W, seed), w0 = randn((std::size_t)Co * Kd, seed + 1);
    std::vector<float> b0 = randn(Co, seed + 2), dy0 = randn((std::size_t)N * Co * P, seed + 3);
    Buf<float> x(x0), w(w0), b(b0), dy(dy0);
    Buf<float> y(nans(dy0.size())), dx(nans(x0.size())), dw(nans(w0.size()));
    const int ref = reflect ? 1 : 0;
    launch(variant("conv2d_forward", Co).c_str(), Dim(cdiv(P, 64), cdiv(Co, bm(Co)), N), block1d(), 0,
           Args().ptr(x).ptr(w).ptr(bias ? b.p : nullptr).ptr(y).i32(Ci).i32(H).i32(W).i32(Co).i32(OH).i32(OW).i32(k)
               .i32(s).i32(pad).i32(ref));
    // weight gradient (Conv2dOps.weightGrad)
    int cpi, len;
    split_k(N, Co, Kd, P, cpi, len);
    const int S = N * cpi;
    {
        Buf<float> ws(nans((std::size_t)S * Co * Kd));
        launch(variant("conv2d_backward_weight_part", Co).c_str(), Dim(cdiv(Kd, 64), cdiv(Co, bm(Co)), S), block1d(), 0,
               Args().ptr(x).ptr(dy).ptr(ws).i32(Ci).i32(H).i32(W).i32(Co).i32(OH).i32(OW).i32(k).i32(s).i32(pad).i32(ref)
                   .i32(cpi).i32(len));
        launch("gemm_backward_weight_reduce", Dim(cdiv(Co * Kd, THREADS)), block1d(), 0,
               Args().ptr(ws).ptr(dw).i64(Co * Kd).i32(S));
    }
    // data gradient (Conv2dOps.dataGrad): into the padded workspace + fold, or straight into dx
    {
        const int Hp = H + 2 * pad, Wp = W + 2 * pad, ICB = 8;
        const int occ = std::max(1, std::min(16, 8192 / (ICB * kk)));
        const std::size_t smem = (std::size_t)occ * ICB * kk * 4;
        Buf<float> ws(nans(pad > 0 ? (std::size_t)N * Ci * Hp * Wp : 1));
        launch("conv2d_backward_data", Dim(cdiv((long long)Hp * Wp, THREADS), cdiv(Ci, ICB), N), block1d(), smem,
               Args().ptr(dy).ptr(w).ptr(pad > 0 ? ws.p : dx.p).i32(Ci).i32(Hp).i32(Wp).i32(Co).i32(OH).i32(OW).i32(k)
                   .i32(s).i32(occ));
        if (pad > 0)
            launch("conv2d_backward_fold", Dim(cdiv((long long)H * W, THREADS), N * Ci), block1d(), 0,
                   Args().ptr(ws).ptr(dx).i32(H).i32(W).i32(pad).i32(ref));
    }
    std::vector<double> yr(y.n, 0.0), dxr(dx.n, 0.0), dwr(dw.n, 0.0);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < Co; o++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    std::size_t yi = (((std::size_t)n * Co + o) * OH + oy) * OW + ox;
                    double acc = bias ? b0[o] : 0.0, d = dy0[yi];
                    for (int i = 0; i < Ci; i++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int yy = oy * s + ky - pad, xx = ox * s + kx - pad;
                                if (reflect) {
                                    yy = refl(yy, H);
                                    xx = refl(xx, W);
                                } else if (yy < 0 || yy >= H || xx < 0 || xx >= W) {
                                    continue;
                                }
                                std::size_t xi = (((std::size_t)n * Ci + i) * H + yy) * W + xx;
                                std::size_t wi = (((std::size_t)o * Ci + i) * k + ky) * k + kx;
                                acc += (double)w0[wi] * x0[xi];
                                dxr[xi] += w0[wi] * d;
                                dwr[wi] += x0[xi] * d;
                            }
                    yr[yi] = acc;
                }
    expect_close(yr, y, 1e-5, tag + " y");
    expect_close(dwr, dw, 1e-5, tag + " dw");
    expect_close(dxr, dx, 1e-5, tag + " dx");
}

EMU_CHECK(conv2d_stem_7x7_reflect) { conv_case(2, 3, 9, 9, 11, 7, 1, 3, true, true, 1001); }   // BM 32, fold

EMU_CHECK(conv2d_down_2x2_stride2) { conv_case(1, 11, 40, 9, 13, 2, 2, 0, false, true, 1011); }   // BM 64, 3 occ groups, no fold

EMU_CHECK(conv2d_zero_pad_3x3) { conv_case(2, 4, 6, 7, 9, 3, 1, 1, false, false, 1021); }   // zero fold, no bias

EMU_CHECK(conv2d_reflect_pad_nearly_h) { conv_case(1, 2, 3, 4, 5, 3, 1, 3, true, true, 1031); }
