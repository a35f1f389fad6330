// EMU_CHECKs of kernels/layout.cu (pad / crop, concat / slice), launched as LayoutOps does;
// these are copies, so the results must be exact.
#include "op_check.h"

using namespace opcheck;

EMU_CHECK(layout_pad_and_crop) {
    const int N = 2, C = 3, H = 5, W = 7, top = 1, bottom = 2, left = 0, right = 3;
    const int Ho = H + top + bottom, Wo = W + left + right;
    std::vector<float> x0 = randn((std::size_t)N * C * H * W, 401);
    Buf<float> x(x0), y(nans((std::size_t)N * C * Ho * Wo));
    launch("pad2d_forward", Dim(cdiv((long long)Ho * Wo, THREADS), N * C), block1d(), 0,
           Args().ptr(x).ptr(y).i32(H).i32(W).i32(Ho).i32(Wo).i32(top).i32(left));
    for (int pl = 0; pl < N * C; pl++)
        for (int oy = 0; oy < Ho; oy++)
            for (int ox = 0; ox < Wo; ox++) {
                int iy = oy - top, ix = ox - left;
                float want = iy >= 0 && iy < H && ix >= 0 && ix < W ? x0[(pl * H + iy) * W + ix] : 0.0f;
                expect(y[(pl * Ho + oy) * Wo + ox] == want, "pad2d at " + std::to_string((pl * Ho + oy) * Wo + ox));
            }
    // Crop a 4x5 window at (3, 2) out of a 9x8 dy (the adjoint of a pad with top 3, left 2).
    const int Hi = 9, Wi = 8, h = 4, w = 5, ct = 3, cl = 2;
    std::vector<float> dy0 = randn((std::size_t)N * C * Hi * Wi, 402);
    Buf<float> dy(dy0), dx(nans((std::size_t)N * C * h * w));
    launch("pad2d_backward", Dim(cdiv((long long)h * w, THREADS), N * C), block1d(), 0,
           Args().ptr(dy).ptr(dx).i32(Hi).i32(Wi).i32(h).i32(w).i32(ct).i32(cl));
    for (int pl = 0; pl < N * C; pl++)
        for (int yy = 0; yy < h; yy++)
            for (int xx = 0; xx < w; xx++)
                expect(dx[(pl * h + yy) * w + xx] == dy0[(pl * Hi + yy + ct) * Wi + xx + cl], "crop");
}

// P % 4 == 0 takes the float4 path (LayoutOps: 4 elements per thread), else 4 scalars per thread.
static void concat_case(int P) {
    const int N = 2, Ca = 3, Cb = 4, C = Ca + Cb;
    std::vector<float> a0 = randn((std::size_t)N * Ca * P, 411), b0 = randn((std::size_t)N * Cb * P, 412);
    Buf<float> a(a0), b(b0), y(nans((std::size_t)N * C * P));
    launch("concat_forward", Dim(cdiv((long long)C * P, 4 * THREADS), N), block1d(), 0,
           Args().ptr(a).ptr(b).ptr(y).i32(Ca).i32(Cb).i32(P));
    std::vector<float> yr((std::size_t)N * C * P);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < P; p++)
                yr[((std::size_t)n * C + c) * P + p] = c < Ca ? a0[((std::size_t)n * Ca + c) * P + p]
                                                              : b0[((std::size_t)n * Cb + c - Ca) * P + p];
    expect(y.host() == yr, "concat");
    const int ranges[3][2] = {{0, 3}, {3, 7}, {2, 5}};
    for (auto& r : ranges) {
        int c0 = r[0], Cs = r[1] - r[0];
        Buf<float> s(nans((std::size_t)N * Cs * P));
        launch("concat_backward", Dim(cdiv((long long)Cs * P, 4 * THREADS), N), block1d(), 0,
               Args().ptr(y).ptr(s).i32(C).i32(c0).i32(Cs).i32(P));
        for (int n = 0; n < N; n++)
            for (int c = 0; c < Cs; c++)
                for (int p = 0; p < P; p++)
                    expect(s[((std::size_t)n * Cs + c) * P + p] == yr[((std::size_t)n * C + c0 + c) * P + p],
                           "slice [" + std::to_string(c0) + "," + std::to_string(c0 + Cs) + ")");
    }
}

EMU_CHECK(layout_concat_and_slice) { concat_case(9 * 11); }   // P = 99: scalar path, partial pieces

EMU_CHECK(layout_concat_and_slice_aligned) { concat_case(12 * 13); }   // P = 156: float4 path
