// EMU_CHECKs of kernels/elementwise.cu, launched as AddOps, MemoryOps, LinearOps / Launcher.biasGrad
// do, against plain references.
#include "op_check.h"

using namespace opcheck;

EMU_CHECK(elementwise_add_fill_copy) {
    const long long n = 3 * 7 * 61;   // 1281: 6 blocks, the last partial
    std::vector<float> a0 = randn(n, 601), b0 = randn(n, 602);
    Buf<float> a(a0), b(b0), y(nans(n));
    launch("add_forward", grid1d(n), block1d(), 0, Args().ptr(a).ptr(b).ptr(y).i64(n));
    std::vector<double> sum(n);
    for (long long i = 0; i < n; i++) sum[i] = (double)a0[i] + b0[i];
    expect_close(sum, y, 1e-6, "add");
    launch("add_forward_inplace", grid1d(n), block1d(), 0, Args().ptr(a).ptr(b).i64(n));
    expect_close(sum, a, 1e-6, "addInPlace");
    // A grid smaller than the data: every thread loops (the grid-stride path of a huge tensor).
    launch("add_forward_inplace", {2}, block1d(), 0, Args().ptr(a).ptr(b).i64(n));
    for (long long i = 0; i < n; i++) sum[i] += b0[i];
    expect_close(sum, a, 1e-6, "addInPlace, 2 blocks");
    Buf<float> t(nans(n));
    launch("fill_forward", grid1d(n), block1d(), 0, Args().ptr(t).f32(2.5f).i64(n));
    for (long long i = 0; i < n; i++) expect(t[i] == 2.5f, "fill " + std::to_string(i));
    // copy_forward: the device-to-device copy kernel (1-D grid-stride, 256 threads).
    Buf<float> c(nans(n));
    launch("copy_forward", grid1d(n), block1d(), 0, Args().ptr(b).ptr(c).i64(n));
    expect(c.host() == b0, "copy");
}

EMU_CHECK(elementwise_bias_add_and_grad) {
    const int N = 2, C = 3, P = 13 * 17;   // P = 221: 4 chunks per image, the last partial
    const long long total = (long long)N * C * P;
    std::vector<float> y0 = randn(total, 611), b0 = randn(C, 612);
    Buf<float> y(y0), b(b0);
    launch("bias_add_channels", grid1d(total), block1d(), 0, Args().ptr(y).ptr(b).i32(C).i32(P).i64(total));
    std::vector<double> yr(total);
    for (long long i = 0; i < total; i++) yr[i] = (double)y0[i] + b0[(i / P) % C];
    expect_close(yr, y, 1e-6, "bias_add_channels");

    int cpi, len;
    chunks(N, C, P, cpi, len);
    expect(cpi > 1, "the bias gradient must span several chunks");
    const int S = N * cpi;
    Buf<float> ws(nans((std::size_t)C * S)), db(nans(C));
    launch("bias_backward_part", Dim(S, C), block1d(), 0, Args().ptr(y).ptr(ws).i32(C).i32(P).i32(cpi).i32(len));
    launch("bias_backward", Dim(C), block1d(), 0, Args().ptr(ws).ptr(db).i32(S));
    std::vector<double> dbr(C, 0.0);
    for (long long i = 0; i < total; i++) dbr[(i / P) % C] += y[i];
    expect_close(dbr, db, 1e-6, "bias grad");
}
