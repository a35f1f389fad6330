// EMU_CHECKs of kernels/selftest.cu for the ASan/UBSan self-test binary.
#include <algorithm>
#include <cmath>

#include "check.h"

using namespace emucheck;

EMU_CHECK(selftest_block_sums) {
    for (int dyn = 0; dyn < 2; dyn++) {
        int n = 1001, block = dyn ? 128 : 256, blocks = (n + block - 1) / block;
        std::vector<float> x = randn(n, 1 + dyn);
        Buf<float> px(x), po(blocks);
        launch(dyn ? "selftest_block_sum_dynamic" : "selftest_block_sum_static", {(unsigned)blocks}, {(unsigned)block},
               dyn ? block * 4 : 0, Args().ptr(px).ptr(po).i32(n));
        for (int b = 0; b < blocks; b++) {
            double s = 0;
            for (int i = b * block; i < std::min(n, (b + 1) * block); i++) s += x[i];
            expect_near(s, po[b], 1e-5, "block " + std::to_string(b));
        }
    }
}

EMU_CHECK(selftest_warp_ops) {
    int n = 203, warps = (n + 31) / 32;
    std::vector<float> x = randn(n, 3);
    Buf<float> px(x), pd(warps), pa(n), ps(n), pb(n);
    launch("selftest_warp_ops", {3}, {96}, 0, Args().ptr(px).ptr(pd).ptr(pa).ptr(ps).ptr(pb).i32(n));
    for (int w = 0; w < warps; w++) {
        double s = 0, prefix = 0;
        for (int i = w * 32; i < std::min(n, w * 32 + 32); i++) s += x[i];
        expect_near(s, pd[w], 1e-5, "down warp " + std::to_string(w));
        for (int i = w * 32; i < std::min(n, w * 32 + 32); i++) {
            prefix += x[i];
            expect_near(s, pa[i], 1e-5, "xor " + std::to_string(i));
            expect_near(prefix, ps[i], 1e-5, "scan " + std::to_string(i));
            expect(pb[i] == (w * 32 + 5 < n ? x[w * 32 + 5] : 0.0f), "broadcast " + std::to_string(i));
        }
    }
}

EMU_CHECK(selftest_ballot) {
    int n = 150;
    std::vector<float> x = randn(n, 4);
    Buf<float> px(x);
    Buf<int> bits(6), flags(6);
    launch("selftest_ballot", {3}, {64}, 0, Args().ptr(px).ptr(bits).ptr(flags).i32(n));
    for (int w = 0; w < 5; w++) {
        unsigned want = 0;
        for (int l = 0; l < 32; l++)
            if (w * 32 + l < n && x[w * 32 + l] > 0) want |= 1u << l;
        expect((unsigned)bits[w] == want, "ballot warp " + std::to_string(w));
        expect(flags[w] == (want != 0) + 2 * (want == 0xffffffffu), "any/all warp " + std::to_string(w));
    }
}

EMU_CHECK(selftest_atomics) {
    int n = 3000;
    std::vector<float> x = randn(n, 5);
    Buf<float> px(x), fsum(1);
    Buf<int> cnt(1), imax(1);
    Buf<unsigned> umin(1);
    Buf<double> dsum(1);
    imax[0] = INT32_MIN;
    umin[0] = 0xffffffffu;
    launch("selftest_atomics", {(unsigned)(n + 255) / 256}, {256}, 0,
           Args().ptr(px).ptr(fsum).ptr(cnt).ptr(imax).ptr(umin).ptr(dsum).i32(n));
    double s = 0;
    int c = 0, m = INT32_MIN;
    unsigned u = 0xffffffffu;
    for (int i = 0; i < n; i++) {
        s += x[i];
        c += x[i] > 0;
        m = std::max(m, (int)(x[i] * 1000.0f));
        if (x[i] < 0) u = std::min(u, (unsigned)i + 1);
    }
    expect_near(s, fsum[0], 1e-3, "float sum");
    expect_near(s, dsum[0], 1e-12, "double sum");
    expect(cnt[0] == c, "count");
    expect(imax[0] == m, "max");
    expect(umin[0] == u, "cas min");
}

EMU_CHECK(selftest_matmul_and_grids) {
    int M = 21, N = 18, K = 35;
    std::vector<float> a = randn(M * K, 6), b = randn(K * N, 7);
    Buf<float> pa(a), pb(b), pc(M * N);
    launch("selftest_matmul", {(unsigned)(N + 15) / 16, (unsigned)(M + 15) / 16}, {16, 16}, 0,
           Args().ptr(pa).ptr(pb).ptr(pc).i32(M).i32(N).i32(K));
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int q = 0; q < K; q++) s += (double)a[i * K + q] * b[q * N + j];
            expect_near(s, pc[i * N + j], 1e-5, "C " + std::to_string(i) + "," + std::to_string(j));
        }
    Buf<float> img(13 * 9);
    launch("selftest_grid2d", {2, 2}, {8, 8}, 0, Args().ptr(img).i32(13).i32(9));
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 13; x++) expect(img[y * 13 + x] == (float)(y * 4096 + x), "grid2d");
    Buf<float> idx(2 * 3 * 24);
    launch("selftest_index3d", {2, 3, 1}, {4, 3, 2}, 0, Args().ptr(idx));
    expect(idx[1 * 24 + 4 * 2 + 1] == 1 + 20 + 1000, "index3d");
}

EMU_CHECK(selftest_sync_count) {
    int n = 300;
    std::vector<float> x = randn(n, 8);
    Buf<float> px(x), po(9);
    launch("selftest_sync_count", {3}, {128}, 0, Args().ptr(px).ptr(po).i32(n));
    for (int b = 0; b < 3; b++) {
        int c = 0;
        for (int i = b * 128; i < std::min(n, (b + 1) * 128); i++) c += x[i] > 0;
        expect(po[3 * b] == c && po[3 * b + 1] == (c == 128) && po[3 * b + 2] == (c > 0), "block " + std::to_string(b));
    }
}

EMU_CHECK(selftest_race_and_bad_barriers) {
    std::uint64_t seed = cuemu::configured_seed();
    Buf<float> out(512);
    launch("selftest_racy", {2}, {256}, 0, Args().ptr(out).i32(1));
    for (int i = 0; i < 512; i++) expect(out[i] == (float)((i % 256 + 1) % 256 + 1), "fixed racy " + std::to_string(i));
    cuemu::configure(2, 0, true);
    launch("selftest_racy", {2}, {256}, 0, Args().ptr(out).i32(0));
    std::vector<float> in_order = out.host();
    int differing = 0;
    for (std::uint64_t s = 1; s <= 4; s++) {
        cuemu::configure(2, s, true);
        launch("selftest_racy", {2}, {256}, 0, Args().ptr(out).i32(0));
        differing += out.host() != in_order;
    }
    expect(differing > 0, "no seed changed the racy kernel's result");
    cuemu::configure(2, seed, true);
    for (int mode = 0; mode < 4; mode++) {
        std::string e = try_launch("selftest_bad_sync", {1}, {64}, 0, Args().ptr(out).i32(mode));
        expect(e.find(mode == 3 ? "device assert failed" : mode == 2 ? "warp 0" : "deadlock") != std::string::npos,
               "bad_sync mode " + std::to_string(mode) + ": " + e);
    }
    expect(try_launch("selftest_saxpy", {1}, {2048}, 0, Args().ptr(out).ptr(out).f32(1).i32(1)).find("exceeds") !=
               std::string::npos, "block limit");
    // A kernel's __launch_bounds__ (conv2d.cu's 7x7 weight-gradient part: (64, 8)) is recorded, and a
    // larger block is refused before anything runs, as a GPU refuses it; a macro bound is read too.
    const cuemu::KernelInfo* k7 = cuemu::find_kernel("conv2d_backward_weight_part_k7s1p3r_32x32");
    const cuemu::KernelInfo* bn = cuemu::find_kernel("batchnorm_forward_fused");
    expect(k7 && k7->maxThreads == 64, "conv2d_backward_weight_part_k7s1p3r_32x32's recorded __launch_bounds__");
    expect(bn && bn->maxThreads > 0, "batchnorm_forward_fused's __launch_bounds__(BN_FUSED_THREADS) recorded");
    Args conv;
    for (int i = 0; i < 6; i++) conv.ptr(out.p);
    for (int i = 0; i < 14; i++) conv.i32(1);
    conv.i64(1).i32(1).i32(0);
    std::string lb = try_launch("conv2d_backward_weight_part_k7s1p3r_32x32", {1}, {65}, 0, conv);
    expect(lb.find("exceeds the kernel's __launch_bounds__ (64)") != std::string::npos, "__launch_bounds__ refusal: " + lb);
}

EMU_CHECK(selftest_saxpy_and_barrier_loop) {
    int n = 300;
    std::vector<float> x = randn(n, 9), y0 = randn(n, 10);
    Buf<float> px(x), py(y0);
    launch("selftest_saxpy", {(unsigned)(n + 255) / 256}, {256}, 0, Args().ptr(py).ptr(px).f32(0.5f).i32(n));
    for (int i = 0; i < n; i++) expect_near(0.5 * x[i] + y0[i], py[i], 1e-6, "saxpy " + std::to_string(i));
    int block = 96, iters = 5;
    Buf<float> out(2 * block);
    launch("selftest_barrier_loop", {2}, {(unsigned)block}, 0, Args().ptr(out).i32(iters));
    for (int i = 0; i < 2 * block; i++) {
        int t = i % block;
        double s = 0;
        for (int k = 0; k < iters; k++) s += (t + k) % block;
        expect(out[i] == (float)s, "barrier loop " + std::to_string(i));
    }
    // selftest_bad_sync's assert holds when the block has at most 5 threads.
    launch("selftest_bad_sync", {1}, {5}, 0, Args().ptr(out).i32(3));
    for (int t = 0; t < 5; t++) expect(out[t] == 1.0f, "bad_sync with a true assert");
}

// What a GPU leaves undefined is NaN in the shuffled mode: a static __shared__ array at the start
// of every block (not the previous block's values) and freshly allocated device memory.
EMU_CHECK(selftest_poisoned_memory) {
    std::uint64_t seed = cuemu::configured_seed();
    cuemu::configure(2, 0x5eed, true);
    {
        float* fresh = static_cast<float*>(cuemu::dev_malloc(64 * 4));
        Buf<float> out(128);
        launch("selftest_read_unwritten", {1}, {64}, 0, Args().ptr(fresh).ptr(out).i32(1));
        for (int t = 0; t < 64; t++) expect(out[t] == (float)t, "written shared " + std::to_string(t));
        launch("selftest_read_unwritten", {3}, {64}, 0, Args().ptr(fresh).ptr(out).i32(0));
        for (int t = 0; t < 128; t++) expect(std::isnan(out[t]), "unwritten element " + std::to_string(t) + " is not NaN");
        cuemu::dev_free(fresh);
    }
    cuemu::configure(2, seed, true);
}
