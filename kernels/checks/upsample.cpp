// EMU_CHECKs of kernels/upsample.cu (bilinear x2, align_corners=True, and its adjoint), launched
// as UpsampleOps does, against a reference that scatters each output's weights (the kernel
// gathers), so the adjoint's 8x8 window is checked independently.
#include "op_check.h"

using namespace opcheck;

// Along one axis of n inputs: output o reads i0 with weight l0 and i1 with weight l1 (PyTorch's
// float arithmetic for the source position).
struct Axis { int i0, i1; double l0, l1; };
static Axis axis(int o, int n) {
    float scale = n > 1 ? (float)(n - 1) / (float)(2 * n - 1) : 0.0f;
    float src = scale * (float)o;
    Axis a;
    a.i0 = std::min((int)std::floor(src), n - 1);
    a.i1 = std::min(a.i0 + 1, n - 1);
    a.l1 = (double)(src - (float)a.i0);
    a.l0 = 1.0 - a.l1;
    return a;
}

static void up_case(int N, int C, int H, int W, std::uint64_t seed) {
    const int OH = 2 * H, OW = 2 * W, planes = N * C;
    std::string tag = "upsample " + std::to_string(H) + "x" + std::to_string(W);
    std::vector<float> x0 = randn((std::size_t)planes * H * W, seed), dy0 = randn((std::size_t)planes * OH * OW, seed + 1);
    Buf<float> x(x0), y(nans(dy0.size())), dy(dy0), dx(nans(x0.size()));
    launch("upsample2x_forward", Dim(cdiv(4LL * H * W, THREADS), planes), block1d(), 0, Args().ptr(x).ptr(y).i32(H).i32(W));
    launch("upsample2x_backward", Dim(cdiv((long long)H * W, THREADS), planes), block1d(), 0,
           Args().ptr(dy).ptr(dx).i32(H).i32(W));
    std::vector<double> yr(dy0.size()), dxr(x0.size(), 0.0);
    for (int pl = 0; pl < planes; pl++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                Axis ay = axis(oy, H), ax = axis(ox, W);
                const int iy[2] = {ay.i0, ay.i1}, ix[2] = {ax.i0, ax.i1};
                const double wy[2] = {ay.l0, ay.l1}, wx[2] = {ax.l0, ax.l1};
                std::size_t o = ((std::size_t)pl * OH + oy) * OW + ox;
                for (int a = 0; a < 2; a++)
                    for (int b = 0; b < 2; b++) {
                        std::size_t i = ((std::size_t)pl * H + iy[a]) * W + ix[b];
                        yr[o] += wy[a] * wx[b] * x0[i];
                        dxr[i] += wy[a] * wx[b] * dy0[o];
                    }
            }
    expect_close(yr, y, 1e-5, tag + " y");
    expect_close(dxr, dx, 1e-5, tag + " dx");
}

EMU_CHECK(upsample_odd) { up_case(2, 3, 13, 17, 501); }

EMU_CHECK(upsample_tiny) {
    up_case(1, 2, 1, 1, 511);
    up_case(1, 1, 1, 5, 513);
    up_case(1, 1, 2, 3, 515);
    up_case(1, 1, 9, 1, 517);
}
