// EMU_CHECKs of kernels/gelu.cu, launched as GeluOps does, against a double reference.
#include "op_check.h"

using namespace opcheck;

EMU_CHECK(gelu_forward_backward) {
    const long long n = 2 * 5 * 11 * 13;   // 1430: 6 blocks, the last partial
    std::vector<float> x0 = scaled(randn(n, 201), 3.0f, 0), dy0 = randn(n, 202);
    Buf<float> x(x0), dy(dy0), y(nans(n)), dx(nans(n));
    launch("gelu_forward", grid1d(n), block1d(), 0, Args().ptr(x).ptr(y).i64(n));
    launch("gelu_backward", grid1d(n), block1d(), 0, Args().ptr(x).ptr(dy).ptr(dx).i64(n));
    std::vector<double> yr(n), dxr(n);
    for (long long i = 0; i < n; i++) {
        double v = x0[i], cdf = 0.5 * (1 + std::erf(v / std::sqrt(2.0)));
        yr[i] = v * cdf;
        dxr[i] = dy0[i] * (cdf + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI));
    }
    expect_close(yr, y, 1e-5, "gelu y");
    expect_close(dxr, dx, 1e-5, "gelu dx");
}
