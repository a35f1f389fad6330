// EMU_CHECKs of kernels/adamw.cu, launched as AdamWOps does, against a double reference.
#include "op_check.h"

using namespace opcheck;

EMU_CHECK(adamw_three_steps) {
    const long long n = 1001;   // 4 blocks, the last one partial
    const float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 1e-2f;
    std::vector<float> p0 = randn(n, 101), m0 = scaled(randn(n, 102), 0.1f, 0), v0 = uniform(n, 1e-4f, 1e-2f, 103);
    Buf<float> p(p0), m(m0), v(v0);
    std::vector<double> pr(p0.begin(), p0.end()), mr(m0.begin(), m0.end()), vr(v0.begin(), v0.end());
    for (int step = 1; step <= 3; step++) {
        std::vector<float> g0 = scaled(randn(n, 110 + step), 0.1f, 0);
        Buf<float> g(g0);
        double bc1 = 1.0 - std::pow((double)b1, step), bc2 = 1.0 - std::pow((double)b2, step);
        float stepSize = (float)(lr / bc1), bc2sqrt = (float)std::sqrt(bc2);
        launch("adamw_forward", grid1d(n), block1d(), 0,
               Args().ptr(p).ptr(g).ptr(m).ptr(v).i64(n).f32(lr).f32(b1).f32(b2).f32(eps).f32(wd).f32(stepSize).f32(bc2sqrt));
        for (long long i = 0; i < n; i++) {
            pr[i] *= 1.0 - (double)lr * wd;
            mr[i] = b1 * mr[i] + (1.0 - b1) * g0[i];
            vr[i] = b2 * vr[i] + (1.0 - b2) * (double)g0[i] * g0[i];
            pr[i] -= lr * (mr[i] / bc1) / (std::sqrt(vr[i] / bc2) + eps);
        }
    }
    expect_close(pr, p, 1e-5, "p");
    expect_close(mr, m, 1e-5, "m");
    expect_close(vr, v, 1e-5, "v");
}
