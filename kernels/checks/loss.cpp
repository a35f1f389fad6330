// EMU_CHECKs of kernels/loss.cu (softmax CE with ignored pixels + soft Dice: value and
// d loss / d logits), launched as LossOps does, with its workspaces at their exact sizes,
// against a double reference of the math in loss.cu's header; plus the invariant that the
// gradient of every kept pixel sums to zero over the classes (softmax) and ignored pixels get 0.
#include "op_check.h"

using namespace opcheck;

static void loss_case(int N, int K, int H, int W, std::uint64_t seed) {
    std::string tag = "ce_dice n" + std::to_string(N) + " k" + std::to_string(K) + " " + std::to_string(H) + "x" + std::to_string(W);
    const int P = H * W, slots = 2 + 3 * K;
    std::vector<float> z0 = scaled(randn((std::size_t)N * K * P, seed), 2.0f, 0.0f);
    std::vector<float> t0((std::size_t)N * P);
    std::mt19937_64 r(seed + 1);
    for (std::size_t i = 0; i < t0.size(); i++) {
        int u = (int)(r() % 20);
        int cls = (int)(r() % K);
        if (i < (std::size_t)P && cls == 1) cls = 0;   // class 1 missing from image 0
        t0[i] = u == 0 ? 255.0f : u == 1 ? 0.5f : u == 2 ? -1.0f : (float)cls;   // 0.5, -1: ignored too
    }
    int cpi = std::max(1, std::min((int)cdiv(264, N), (int)cdiv(P, 256)));
    const int len = cdiv(P, cpi);
    cpi = cdiv(P, len);
    Buf<float> z(z0), t(t0), dz(nans(z0.size()));
    Buf<float> lse(nans((std::size_t)N * P)), part(nans(2 * (std::size_t)N * cpi * slots)), sums(nans(2 * (std::size_t)N * slots));
    Buf<float> out(nans(2 * (4 + 2 * (std::size_t)N * K)));
    const Dim pix(cdiv(P, THREADS), N);
    launch("ce_dice_forward_lse", pix, block1d(), 0, Args().ptr(z).ptr(t).ptr(lse).i32(K).i32(P));
    launch("ce_dice_forward_part", Dim(N * cpi), block1d(), 0, Args().ptr(z).ptr(t).ptr(lse).ptr(part).i32(K).i32(P).i32(cpi).i32(len));
    launch("ce_dice_forward_reduce", Dim(1), block1d(), 0, Args().ptr(part).ptr(sums).ptr(out).i32(N).i32(K).i32(cpi));
    launch("ce_dice_backward", pix, block1d(), 0, Args().ptr(z).ptr(t).ptr(lse).ptr(out).ptr(dz).i32(K).i32(P));

    // Reference (double): softmax per pixel, CE over kept pixels, Dice per (image, class).
    auto cls = [&](std::size_t i) {
        float v = t0[i];
        int c = (int)v;
        return v >= 0 && c < K && (float)c == v ? c : -1;
    };
    std::vector<double> prob(z0.size(), 0.0), I((std::size_t)N * K, 0.0), Ssum((std::size_t)N * K, 0.0);
    double ce = 0, M = 0;
    for (int n = 0; n < N; n++)
        for (int p = 0; p < P; p++) {
            int c = cls((std::size_t)n * P + p);
            if (c < 0) continue;
            double mx = -1e300, s = 0;
            for (int k = 0; k < K; k++) mx = std::max(mx, (double)z0[((std::size_t)n * K + k) * P + p]);
            for (int k = 0; k < K; k++) s += std::exp(z0[((std::size_t)n * K + k) * P + p] - mx);
            double l = mx + std::log(s);
            ce += l - z0[((std::size_t)n * K + c) * P + p];
            M += 1;
            for (int k = 0; k < K; k++) {
                double pk = std::exp(z0[((std::size_t)n * K + k) * P + p] - l);
                prob[((std::size_t)n * K + k) * P + p] = pk;
                Ssum[n * K + k] += pk + (k == c);
                if (k == c) I[n * K + k] += pk;
            }
        }
    ce /= M;
    double dice = 0, scale = 1.0 / ((double)K * N);
    std::vector<double> A((std::size_t)N * K, 0.0), B((std::size_t)N * K, 0.0);
    for (int e = 0; e < N * K; e++) {
        if (Ssum[e] == 0) { dice += 1; continue; }
        double den = Ssum[e] + 1e-6;
        dice += (2 * I[e] + 1e-6) / den;
        A[e] = 2 / den * scale;
        B[e] = (2 * I[e] + 1e-6) / (den * den) * scale;
    }
    double diceLoss = 1 - dice * scale;
    std::vector<double> dzr(z0.size(), 0.0);
    for (int n = 0; n < N; n++)
        for (int p = 0; p < P; p++) {
            int c = cls((std::size_t)n * P + p);
            if (c < 0) continue;
            double sg = 0;
            for (int k = 0; k < K; k++) sg += prob[((std::size_t)n * K + k) * P + p] * -((k == c ? A[n * K + k] : 0) - B[n * K + k]);
            for (int k = 0; k < K; k++) {
                double pk = prob[((std::size_t)n * K + k) * P + p], g = -((k == c ? A[n * K + k] : 0) - B[n * K + k]);
                dzr[((std::size_t)n * K + k) * P + p] = (pk - (k == c)) / M + pk * (g - sg);
            }
        }
    const double* o = (const double*)out.p;
    expect_near(ce + diceLoss, o[0], 1e-5, tag + " loss");
    expect_near(ce, o[1], 1e-5, tag + " ce");
    expect_near(diceLoss, o[2], 1e-5, tag + " dice");
    expect_near(1 / M, o[3], 1e-12, tag + " 1/M");
    expect_close(dzr, dz, 1e-4, tag + " dlogits");
    for (int n = 0; n < N; n++)
        for (int p = 0; p < P; p++) {
            double s = 0, sa = 0;
            for (int k = 0; k < K; k++) {
                double v = dz[((std::size_t)n * K + k) * P + p];
                s += v;
                sa += std::fabs(v);
            }
            bool ignored = cls((std::size_t)n * P + p) < 0;
            expect(ignored ? sa == 0 : std::fabs(s) <= 1e-5 * (sa + 1e-3), tag + " gradient sum at pixel " + std::to_string(p));
        }
}

EMU_CHECK(loss_two_classes) { loss_case(2, 2, 13, 17, 1201); }

EMU_CHECK(loss_three_classes_missing_one) { loss_case(2, 3, 9, 11, 1211); }

EMU_CHECK(loss_many_chunks) { loss_case(1, 4, 23, 29, 1221); }   // P = 667: 3 chunks, 3 pixel blocks
