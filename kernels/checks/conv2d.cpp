// EMU_CHECKs of kernels/conv2d.cu (implicit-GEMM forward and weight gradient, gather data
// gradient with dynamic shared memory, the padding adjoint), launched as Conv2dOps does, against
// a direct double reference. The weight partials are summed by gemm.cu's reduce, as in Java.
#include "op_check.h"

using namespace opcheck;

// Conv2dOps.shape / forwardBm / weight tiles.
static std::string conv_shape(int k, int s, int pad, bool reflect) {
    if (k == 7 && s == 1 && pad == 3 && reflect) return "k7s1p3r";
    if (k == 2 && s == 2 && pad == 0) return "k2s2p0";
    return "any";
}

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
    const std::string shape = conv_shape(k, s, pad, reflect);
    unsigned owM;
    int owS;
    fast_div(OW, owM, owS);
    {
        const int bmv = shape != "any" && Co <= 32 ? 32 : 64, tiles = (int)cdiv(P, bn(bmv)), rows = (int)cdiv(Co, bmv);
        const int tpb = tiles_per_block((long long)tiles * rows * N, tiles, (int)Kd);
        launch(("conv2d_forward_" + shape + "_bm" + std::to_string(bmv)).c_str(), Dim(cdiv(tiles, tpb), rows, N), block1d(), 0,
               Args().ptr(x).ptr(w).ptr(bias ? b.p : nullptr).ptr(y).i32(Ci).i32(H).i32(W).i32(Co).i32(OH).i32(OW)
                   .i32((int)owM).i32(owS).i32(k).i32(s).i32(pad).i32(ref).i32(tpb));
    }
    // weight gradient and db (Conv2dOps.weightGrad)
    Buf<float> db(nans(Co));
    {
        std::vector<WTile> tiles = shape == "k7s1p3r" ? std::vector<WTile>{{32, 32, 64}}
                                   : shape == "k2s2p0" ? std::vector<WTile>{{128, 128, 256}, {64, 64, 128}}
                                                       : std::vector<WTile>{{64, 64, 128}};
        WTile t = least_padded(tiles, Co, Kd);
        int cpi, len;
        split_k(N, Co, Kd, P, t, cpi, len);
        const int S = N * cpi;
        const long long SS = partial_stride(Co, Kd);
        Buf<float> ws(nans((std::size_t)S * SS));
        launch(("conv2d_backward_weight_part_" + shape + "_" + std::to_string(t.bm) + "x" + std::to_string(t.bn)).c_str(),
               Dim(cdiv(Kd, t.bn), cdiv(Co, t.bm), S), Dim(t.threads), 0,
               Args().ptr(x).ptr(dy).ptr(ws).i32(Ci).i32(H).i32(W).i32(Co).i32(OH).i32(OW).i32((int)owM).i32(owS).i32(k)
                   .i32(s).i32(pad).i32(ref).i32(cpi).i32(len).i64(SS).i32(bias ? 1 : 0));
        const long long E = Co * Kd + (bias ? Co : 0);
        launch("gemm_backward_weight_reduce", Dim(cdiv(E, 32)), Dim(1024), 0,
               Args().ptr(ws).ptr(dw).ptr(bias ? db.p : nullptr).i64(Co * Kd).i64(E).i32(S).i64(SS).i32(0));
    }
    // data gradient: the 2x2 stride-2 GEMM (Conv2dOps.downDataGrad; dx cleared first when H or W
    // is odd), else into the padded workspace + fold, or straight into dx (Conv2dOps.dataGrad)
    if (shape == "k2s2p0") {
        if ((H | W) & 1) std::fill(dx.p, dx.p + dx.n, 0.0f);
        const int m = 2 * Ci, bmv = bm(m), tiles = (int)cdiv(P, bn(bmv)), rows = (int)cdiv(m, bmv);
        const int tpb = tiles_per_block((long long)tiles * rows * 2 * N, tiles, Co);
        launch(("conv2d_backward_data_k2s2p0_bm" + std::to_string(bmv)).c_str(), Dim(cdiv(tiles, tpb), rows, 2 * N),
               block1d(), 0,
               Args().ptr(dy).ptr(w).ptr(dx).i32(Ci).i32(H).i32(W).i32(Co).i32(OH).i32(OW).i32((int)owM).i32(owS).i32(tpb)
                   .i32(0));
    } else {
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
    std::vector<double> yr(y.n, 0.0), dxr(dx.n, 0.0), dwr(dw.n, 0.0), dbr(Co, 0.0);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < Co; o++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    std::size_t yi = (((std::size_t)n * Co + o) * OH + oy) * OW + ox;
                    double acc = bias ? b0[o] : 0.0, d = dy0[yi];
                    dbr[o] += d;
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
    if (bias) expect_close(dbr, db, 1e-5, tag + " db");
}

EMU_CHECK(conv2d_stem_7x7_reflect) { conv_case(2, 3, 9, 9, 11, 7, 1, 3, true, true, 1001); }   // BM 32, fold

EMU_CHECK(conv2d_down_2x2_stride2) { conv_case(1, 11, 40, 9, 13, 2, 2, 0, false, true, 1011); }   // BM 64, 3 occ groups, no fold

EMU_CHECK(conv2d_zero_pad_3x3) { conv_case(2, 4, 6, 7, 9, 3, 1, 1, false, false, 1021); }   // zero fold, no bias

EMU_CHECK(conv2d_reflect_pad_nearly_h) { conv_case(1, 2, 3, 4, 5, 3, 1, 3, true, true, 1031); }

EMU_CHECK(conv2d_stem_wide) { conv_case(1, 3, 40, 12, 12, 7, 1, 3, true, true, 1041); }   // stem: bm64, aligned P

EMU_CHECK(conv2d_down_aligned) { conv_case(1, 64, 120, 8, 16, 2, 2, 0, false, false, 1051); }   // 2x2: aligned, 128x128 dW, bm128 dx

EMU_CHECK(conv2d_down_odd_width) { conv_case(2, 3, 5, 6, 9, 2, 2, 0, false, true, 1071); }   // 2x2: W odd (no float2 pairs), bm32 dx

EMU_CHECK(conv2d_down_bm64_dx) { conv_case(1, 20, 24, 10, 12, 2, 2, 0, false, true, 1081); }   // 2x2: 2Ci = 40 rows, bm64 dx

EMU_CHECK(conv2d_stem_zero_pad) { conv_case(1, 2, 5, 9, 8, 7, 1, 3, false, true, 1061); }   // 7x7 zero pad: the "any" kernels
