// EMU_CHECKs of kernels/dwconv7.cu (depthwise 7x7, reflect pad 3: forward, reflect-adjoint data
// gradient, tiled weight/bias gradient), launched as DwConv7Ops does, against a direct double
// reference: single and several 32x64 tiles, partial tiles, the smallest plane (4x4), and blocks
// that loop over several tiles (DwConv7Ops.setWeightGradBlocks lowered).
#include "op_check.h"

using namespace opcheck;

static int refl(int i, int n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; }

static void dw_case(int N, int C, int H, int W, int gradBlocks, std::uint64_t seed) {
    std::string tag = "dwconv7 " + std::to_string(N) + "x" + std::to_string(C) + "x" + std::to_string(H) + "x" +
                      std::to_string(W) + " blocks " + std::to_string(gradBlocks);
    const std::size_t total = (std::size_t)N * C * H * W;
    std::vector<float> x0 = randn(total, seed), w0 = randn((std::size_t)C * 49, seed + 1), b0 = randn(C, seed + 2);
    std::vector<float> dy0 = randn(total, seed + 3);
    Buf<float> x(x0), w(w0), b(b0), dy(dy0), y(nans(total)), dx(nans(total)), dw(nans(w0.size())), db(nans(C));
    const Dim block(32, 8), tilesGrid(cdiv(W, 32), cdiv(H, 64), N * C);   // DwConv7Ops: 32x64 tiles
    launch("dwconv7_forward", tilesGrid, block, 0, Args().ptr(x).ptr(w).ptr(b).ptr(y).i32(C).i32(H).i32(W));
    launch("dwconv7_backward_data", tilesGrid, block, 0, Args().ptr(dy).ptr(w).ptr(dx).i32(C).i32(H).i32(W).i32(0));
    std::vector<float> dxBase = randn(total, seed + 4), dwBase = randn(w0.size(), seed + 5), dbBase = randn(C, seed + 6);
    Buf<float> dxAcc(dxBase), dwAcc(dwBase), dbAcc(dbBase);
    launch("dwconv7_backward_data", tilesGrid, block, 0, Args().ptr(dy).ptr(w).ptr(dxAcc).i32(C).i32(H).i32(W).i32(1));
    const int tilesX = cdiv(W, 32), tiles = tilesX * cdiv(H, 64);
    int nb = std::max(1, std::min(tiles, (int)cdiv(gradBlocks, (long long)N * C)));
    const int tpb = cdiv(tiles, nb);
    nb = cdiv(tiles, tpb);
    const int S = N * nb;
    {
        Buf<float> ws(nans((std::size_t)C * 50 * S));
        launch("dwconv7_backward_weight_part", Dim(nb, N * C), block, 0,
               Args().ptr(x).ptr(dy).ptr(ws).i32(C).i32(H).i32(W).i32(tilesX).i32(tiles).i32(tpb).i32(S));
        launch("dwconv7_backward_weight", Dim(C * 50), block1d(), 0, Args().ptr(ws).ptr(dw).ptr(db).i32(C).i32(S).i32(0));
        launch("dwconv7_backward_weight", Dim(C * 50), block1d(), 0, Args().ptr(ws).ptr(dwAcc).ptr(dbAcc).i32(C).i32(S).i32(3));
    }
    std::vector<double> yr(total), dxr(total, 0.0), dwr(w0.size(), 0.0), dbr(C, 0.0);
    for (int pl = 0; pl < N * C; pl++) {
        int c = pl % C;
        const float* xp = &x0[(std::size_t)pl * H * W];
        for (int p = 0; p < H; p++)
            for (int q = 0; q < W; q++) {
                std::size_t o = ((std::size_t)pl * H + p) * W + q;
                double acc = b0[c], d = dy0[o];
                for (int a = 0; a < 7; a++)
                    for (int e = 0; e < 7; e++) {
                        int yy = refl(p + a - 3, H), xx = refl(q + e - 3, W);
                        double wv = w0[c * 49 + a * 7 + e];
                        acc += wv * xp[yy * W + xx];
                        dxr[((std::size_t)pl * H + yy) * W + xx] += wv * d;
                        dwr[c * 49 + a * 7 + e] += d * xp[yy * W + xx];
                    }
                yr[o] = acc;
                dbr[c] += d;
            }
    }
    expect_close(yr, y, 1e-5, tag + " y");
    expect_close(dxr, dx, 1e-5, tag + " dx");
    expect_close(dwr, dw, 1e-5, tag + " dw");
    expect_close(dbr, db, 1e-5, tag + " db");
    for (std::size_t i = 0; i < total; i++) dxr[i] += dxBase[i];
    for (std::size_t i = 0; i < dwr.size(); i++) dwr[i] += dwBase[i];
    for (int c = 0; c < C; c++) dbr[c] += dbBase[c];
    expect_close(dxr, dxAcc, 1e-5, tag + " dx accumulated");
    expect_close(dwr, dwAcc, 1e-5, tag + " dw accumulated");
    expect_close(dbr, dbAcc, 1e-5, tag + " db accumulated");
}

EMU_CHECK(dwconv7_odd) { dw_case(2, 3, 13, 17, 1024, 1101); }

EMU_CHECK(dwconv7_several_tiles) { dw_case(1, 2, 37, 35, 1024, 1111); }

EMU_CHECK(dwconv7_blocks_loop_over_tiles) { dw_case(1, 1, 70, 45, 2, 1121); }   // 4 tiles, one block

EMU_CHECK(dwconv7_tall_planes) {   // bottom border in the second tile row; both mirrors of a 5-row plane
    dw_case(1, 2, 69, 9, 1024, 1141);
    dw_case(1, 1, 5, 40, 1024, 1143);
}

EMU_CHECK(dwconv7_smallest_planes) {
    dw_case(2, 2, 4, 4, 1024, 1131);
    dw_case(1, 1, 5, 7, 1024, 1133);
}
