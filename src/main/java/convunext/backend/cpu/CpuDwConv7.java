package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Depthwise 7×7 convolution with reflect padding 3, stride 1. Each (n,c) plane is first copied
 * into a reflect-padded (H+6)×(W+6) buffer, so the 49 taps become border-free shifted
 * multiply-adds along a row, a loop C2 vectorises. Forward is threaded over the N·C planes,
 * backward over channels (each task owns dw[c], db[c] and the dx planes of its channel). With the
 * training BatchNorm after it (the ConvNeXt block's norm1): the forward per channel with BN over
 * its planes in cache ({@link #forwardBatchnorm}), the backward with BN's dz made per plane
 * ({@link #backwardOfBatchnorm}). Planes at most {@link #lanesMaxWidth} wide run the backward with
 * the channels in the vector lanes ({@link #runLanes}).
 */
final class CpuDwConv7 {
    private CpuDwConv7() {}

    private static final int K = 7, P = 3;

    static Tensor forward(CpuBackend be, Tensor x, Tensor w, Tensor b) {
        OpShapes.dwconv7(of(x), of(w), of(b));
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        Tensor y = be.empty(x.shape());
        float[] xa = x.array(), wa = w.array(), ba = b.array(), ya = y.array();
        int xo = x.off(), wo = w.off(), bo = b.off(), yo = y.off(), plane = h * wd;
        int[] taps = SimdOps.taps7(wd + 2 * P);
        CpuThreads.chunks(n * c, 1, 4, (p0, p1) -> {
            float[] pad = Scratch.of(h, wd).pad;
            for (int pl = p0; pl < p1; pl++) {
                int ch = pl % c;
                padPlane(xa, xo + pl * plane, h, wd, pad);
                planeForward(pad, h, wd, wa, wo + ch * K * K, ba[bo + ch], ya, yo + pl * plane, taps);
            }
        });
        return y;
    }

    /**
     * dwconv7 then training BatchNorm of its output, {z, y, mean, invstd}: threaded over channels;
     * per channel its n planes of z (as {@link #forward}), then BN's statistics and affine over them
     * ({@link CpuBatchNorm#statistics}, {@link CpuBatchNorm#affine}) while they are in L2 (n planes:
     * 512 KiB at level 0 of a 256² input, batch 2). The composition read z back from memory for the
     * statistics. Same bits: the same operations on the same planes in the same order.
     */
    static Tensor[] forwardBatchnorm(CpuBackend be, Tensor x, Tensor w, Tensor b, Tensor gamma, Tensor beta, Tensor runMean,
                                     Tensor runVar, float momentum, float eps) {
        OpShapes.dwconv7(of(x), of(w), of(b));
        OpShapes.batchnormTrain(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        Tensor z = be.empty(x.shape()), y = be.empty(x.shape()), mean = be.empty(c), invstd = be.empty(c);
        float[] xa = x.array(), wa = w.array(), ba = b.array(), za = z.array();
        int xo = x.off(), wo = w.off(), bo = b.off(), zo = z.off(), plane = h * wd;
        int[] taps = SimdOps.taps7(wd + 2 * P);
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            float[] pad = Scratch.of(h, wd).pad, ma = new float[2];
            for (int ch = c0; ch < c1; ch++) {
                for (int i = 0; i < n; i++) {
                    int pl = i * c + ch;
                    padPlane(xa, xo + pl * plane, h, wd, pad);
                    planeForward(pad, h, wd, wa, wo + ch * K * K, ba[bo + ch], za, zo + pl * plane, taps);
                }
                CpuBatchNorm.statistics(z, gamma, runMean, runVar, momentum, eps, ch, mean, invstd, ma);
                CpuBatchNorm.affine(za, zo, y.array(), y.off(), n, c, plane, ch, ma[0], ma[1], beta.array()[beta.off() + ch]);
            }
        });
        return new Tensor[] {z, y, mean, invstd};
    }

    /** Reflect-pads one plane by 3 on every side into pad [(h+6)×(w+6)]. */
    static void padPlane(float[] x, int xo, int h, int w, float[] pad) {
        int wp = w + 2 * P;
        for (int yp = 0; yp < h + 2 * P; yp++) {
            int sy = reflect(yp - P, h), s = xo + sy * w, d = yp * wp;
            System.arraycopy(x, s, pad, d + P, w);
            for (int i = 1; i <= P; i++) {
                pad[d + P - i] = x[s + i];
                pad[d + P + w - 1 + i] = x[s + w - 1 - i];
            }
        }
    }

    private static int reflect(int i, int size) {
        return i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i;
    }

    /** Four, then two output rows per call (each padded source row loaded once for all): the bits of row7 per row. */
    private static void planeForward(float[] pad, int h, int w, float[] wt, int wo, float bias, float[] y, int yo, int[] taps) {
        int r = 0;
        for (; r + 3 < h; r += 4) SimdOps.BEST.row7x4(pad, r * (w + 2 * P), w + 2 * P, wt, wo, bias, y, yo + r * w, w, w, taps);
        for (; r + 1 < h; r += 2) SimdOps.BEST.row7x2(pad, r * (w + 2 * P), w + 2 * P, wt, wo, bias, y, yo + r * w, w, w, taps);
        if (r < h) SimdOps.BEST.row7(pad, r * (w + 2 * P), w + 2 * P, wt, wo, bias, y, yo + r * w, w, taps);
    }

    static Tensor[] backward(CpuBackend be, Tensor x, Tensor w, Tensor dy) { return backward(be, x, w, dy, null, null, null); }

    /**
     * {dx, dw, db}, each added into its held gradient where one is given (and returned in its slot)
     * as it is made: dx as each plane is folded, dw and db as each channel's sums are rounded. Held +
     * fresh per element, the bits of the interface's default, which wrote the gradients fresh and
     * added them in a second pass.
     */
    static Tensor[] backward(CpuBackend be, Tensor x, Tensor w, Tensor dy, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        OpShapes.dwconv7Backward(of(x), of(w), of(dy));
        checkHeld("dwconv7Backward", x, w, dxInto, dwInto, dbInto);
        return run(be, x, w, dy, null, dxInto, dwInto, dbInto);
    }

    private static void checkHeld(String op, Tensor x, Tensor w, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        if (dxInto != null) Shapes.same(op, x, dxInto);
        if (dwInto != null) Shapes.shape(op, "dw", dwInto, w.shape());
        if (dbInto != null) Shapes.shape(op, "db", dbInto, x.dim(1));
    }

    /** The BatchNorm whose backward feeds the convolution's ({@link #backwardOfBatchnorm}): z its input, dγ and dβ its gradients. */
    private record Bn(Tensor z, Tensor gamma, Tensor mean, Tensor invstd, Tensor dg, boolean addG, Tensor dbeta, boolean addBeta) {}

    /**
     * The backward of dwconv7 then training BatchNorm (z = dwconv7(x), y = BN(z); gy the gradient of
     * y): per channel BN's sums, dγ and dβ ({@link CpuBatchNorm#channelCoefficients}), then per image
     * BN's dz plane into this thread's scratch and the convolution's backward of it while it is in
     * cache. The composition wrote dz (a plane per channel and image) to memory and read it back.
     * Same bits: dz's values by the same {@link SimdOps#bnBackwardApply} over the same planes, the
     * convolution's backward as {@link #backward} of them. Returns {dx, dw, db, dγ, dβ}, each the held
     * tensor where one is given.
     */
    static Tensor[] backwardOfBatchnorm(CpuBackend be, Tensor x, Tensor w, Tensor z, Tensor gy, Tensor gamma, Tensor mean,
                                        Tensor invstd, Tensor dxInto, Tensor dwInto, Tensor dbInto, Tensor dgInto, Tensor dbetaInto) {
        String op = "dwconv7BatchnormBackward";
        OpShapes.dwconv7Backward(of(x), of(w), of(gy));
        OpShapes.batchnormBackward(of(z), of(gy), of(gamma), of(mean), of(invstd));
        Shapes.same(op, x, z);
        checkHeld(op, x, w, dxInto, dwInto, dbInto);
        Tensor[] aff = CpuBatchNorm.heldOrFreshAffine(be, op, x.dim(1), dgInto, dbetaInto);
        Tensor[] d = run(be, x, w, gy, new Bn(z, gamma, mean, invstd, aff[0], dgInto != null, aff[1], dbetaInto != null),
                dxInto, dwInto, dbInto);
        return new Tensor[] {d[0], d[1], d[2], aff[0], aff[1]};
    }

    /** {@link #backward}'s work; with bn, dy is BN's gy and each dy plane is BN's dz, made per plane. */
    private static Tensor[] run(CpuBackend be, Tensor x, Tensor w, Tensor dy, Bn bn, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), plane = h * wd;
        boolean add = dxInto != null, addW = dwInto != null, addB = dbInto != null;
        Tensor dx = add ? dxInto : be.empty(x.shape()), dw = addW ? dwInto : be.empty(c, 1, K, K), db = addB ? dbInto : be.empty(c);
        float[] xa = x.array(), wa = w.array(), dya = dy.array(), dxa = dx.array(), dwa = dw.array(), dba = db.array();
        int xo = x.off(), wo = w.off(), dyo = dy.off(), dxo = dx.off(), dwo = dw.off(), dbo = db.off();
        if (lanesApply(wd)) {
            runLanes(x, w, dy, bn, dx, dw, db, add, addW, addB);
            return new Tensor[] {dx, dw, db};
        }
        int[] taps = SimdOps.taps7(wd + 4 * P);   // inputGrad's zero-padded rows
        CpuThreads.chunks(c, 1, 4, (c0, c1) -> {
            Scratch sc = Scratch.of(h, wd);
            float[] pad = sc.pad, zpad = sc.zpad(h, wd), flipped = sc.flipped;
            double[] gw = sc.gw;
            float[] k = sc.k, dz = bn != null ? sc.dz(plane) : null;
            for (int ch = c0; ch < c1; ch++) {
                java.util.Arrays.fill(gw, 0);
                for (int t = 0; t < K * K; t++) flipped[t] = wa[wo + ch * K * K + K * K - 1 - t];
                if (bn != null)
                    CpuBatchNorm.channelCoefficients(bn.z, dya, dyo + ch * plane, c * plane, bn.gamma, bn.mean, bn.invstd, ch,
                            bn.dg.array(), bn.dg.off(), bn.addG, bn.dbeta.array(), bn.dbeta.off(), bn.addBeta, k, 0);
                double gb = 0;
                for (int i = 0; i < n; i++) {
                    int pl = (i * c + ch) * plane;
                    float[] g = dya;   // this plane's dy: gy's, or BN's dz made from it in the scratch
                    int go = dyo + pl;
                    if (bn != null) {
                        SimdOps.BEST.bnBackwardApply(bn.z.array(), bn.z.off() + pl, dya, dyo + pl, dz, 0, plane,
                                bn.mean.array()[bn.mean.off() + ch], k[0], k[1], k[2]);
                        g = dz;
                        go = 0;
                    }
                    padPlane(xa, xo + pl, h, wd, pad);
                    // Σ dy in double through BatchNorm's vector sums (a fixed order; sums[1], Σ dy², unused):
                    // 0.08 ns an element against 0.45 for the scalar 4-chain loop, 0.94–0.97 of the
                    // whole backward (bench/NOTES.md, CPU round 24).
                    double[] sums = sc.sums;
                    sums[0] = 0;
                    sums[1] = 0;
                    SimdOps.BEST.bnSums(g, go, plane, 0.0, sums);
                    gb += sums[0];
                    SimdOps.BEST.tapSums(g, go, pad, h, wd, gw);
                    inputGrad(g, go, h, wd, flipped, zpad, sc.dpad, dxa, dxo + pl, add, taps);
                }
                for (int t = 0; t < K * K; t++) {
                    int e = dwo + ch * K * K + t;
                    dwa[e] = addW ? dwa[e] + (float) gw[t] : (float) gw[t];
                }
                dba[dbo + ch] = addB ? dba[dbo + ch] + (float) gb : (float) gb;
            }
        });
        return new Tensor[] {dx, dw, db};
    }

    // ------------------------------------------------------------------ narrow planes, channels in the lanes

    /**
     * Planes at most this wide run the backward with the channels in the vector lanes
     * ({@link #runLanes}); 0: never (tests and benchmarks compare). Not final: benchmarks switch it.
     */
    static volatile int lanesMaxWidth = 32;

    static boolean lanesApply(int w) { return SimdOps.BEST.lanes() > 1 && w <= lanesMaxWidth; }

    /**
     * The backward on narrow planes with L = lanes() channels in the vector lanes
     * ({@link SimdOps#dw7TapSumsLanes}, {@link SimdOps#dw7CorrLanes}; VectorDw7Lanes says why):
     * per block of L channels and image, x reflect-padded and dy (or BN's dz, made per plane as in
     * {@link #run}) zero-padded by 6 are copied into lanes planes; the tap sums and dx's padded
     * correlation run on them; the reflected borders are folded back in the lanes plane; dx goes
     * back to its planes. dx has the per-plane path's bits (the same FMA chain per element, the same
     * fold in the same order), and db too (the same sums of the same dy plane); dw's float chains
     * run over pixels in another order (each chain at most as many terms: ≤ 128 pixels a block).
     */
    private static void runLanes(Tensor x, Tensor w, Tensor dy, Bn bn, Tensor dx, Tensor dw, Tensor db, boolean add, boolean addW,
                                 boolean addB) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), plane = h * wd, L = SimdOps.BEST.lanes();
        int wp = wd + 2 * P, wz = wd + 4 * P, flush = Math.max(1, 256 / wd);   // two chains a tap: ≤ 128 pixels each a block
        float[] xa = x.array(), wa = w.array(), dya = dy.array(), dxa = dx.array(), dwa = dw.array(), dba = db.array();
        int xo = x.off(), wo = w.off(), dyo = dy.off(), dxo = dx.off(), dwo = dw.off(), dbo = db.off();
        CpuThreads.chunks((c + L - 1) / L, 1, 2, (b0, b1) -> {
            Scratch sc = Scratch.of(h, wd);
            Lanes lp = sc.lanes(h, wd, L);
            float[] dz = bn != null ? sc.dz(L * plane) : null, k = lp.k;
            int[] reflectCol = lp.reflectCol;
            double[] sums = sc.sums;
            for (int blk = b0; blk < b1; blk++) {
                int ch0 = blk * L, cn = Math.min(L, c - ch0);
                if (cn < L) lp.clear();   // lanes past the last channel: zeros in, nothing out
                java.util.Arrays.fill(lp.gw, 0);
                java.util.Arrays.fill(lp.gb, 0);
                java.util.Arrays.fill(lp.wt, 0f);
                for (int l = 0; l < cn; l++) {
                    int ch = ch0 + l;
                    for (int t = 0; t < K * K; t++) lp.wt[t * L + l] = wa[wo + ch * K * K + K * K - 1 - t];
                    if (bn != null)
                        CpuBatchNorm.channelCoefficients(bn.z, dya, dyo + ch * plane, c * plane, bn.gamma, bn.mean, bn.invstd, ch,
                                bn.dg.array(), bn.dg.off(), bn.addG, bn.dbeta.array(), bn.dbeta.off(), bn.addBeta, k, 3 * l);
                }
                for (int i = 0; i < n; i++) {
                    int base = (i * c + ch0) * plane;   // lane l's planes at base + l·plane
                    float[] g = dya;   // dy's planes: gy's, or BN's dz made from them in the scratch
                    int go = dyo + base;
                    if (bn != null) {
                        for (int l = 0; l < cn; l++)
                            SimdOps.BEST.bnBackwardApply(bn.z.array(), bn.z.off() + base + l * plane, dya, dyo + base + l * plane, dz,
                                    l * plane, plane, bn.mean.array()[bn.mean.off() + ch0 + l], k[3 * l], k[3 * l + 1], k[3 * l + 2]);
                        g = dz;
                        go = 0;
                    }
                    for (int l = 0; l < cn; l++) {
                        sums[0] = 0;
                        sums[1] = 0;
                        SimdOps.BEST.bnSums(g, go + l * plane, plane, 0.0, sums);
                        lp.gb[l] += sums[0];
                    }
                    // into the lanes planes a row at a time, lane by lane: each lane's row read in order, the
                    // row's lanes plane (≤ 38 × L floats) in L1 while its lanes are interleaved. (Pixel by
                    // pixel, reading L planes a plane apart, ran 1.4× slower at 32²: planes of 4 KiB alias
                    // in L1's sets.)
                    for (int r = 0; r < h; r++) {
                        int d0 = ((r + 2 * P) * wz + 2 * P) * L, e0 = go + r * wd;
                        for (int l = 0; l < cn; l++)
                            for (int q = 0, d = d0 + l, e = e0 + l * plane; q < wd; q++, d += L, e++) lp.zp[d] = g[e];
                    }
                    for (int yp = 0; yp < h + 2 * P; yp++) {
                        int d0 = yp * wp * L, e0 = xo + base + reflect(yp - P, h) * wd;
                        for (int l = 0; l < cn; l++)
                            for (int q = 0, d = d0 + l, e = e0 + l * plane; q < wp; q++, d += L) lp.xp[d] = xa[e + reflectCol[q]];
                    }
                    SimdOps.BEST.dw7TapSumsLanes(lp.zp, (2 * P * wz + 2 * P) * L, wz, lp.xp, h, wd, flush, lp.gw);
                    SimdOps.BEST.dw7CorrLanes(lp.zp, wz, lp.wt, lp.dp, wp, h + 2 * P, wp);
                    foldLanes(lp.dp, h, wd, L);
                    for (int r = 0; r < h; r++) {
                        int d0 = ((r + P) * wp + P) * L, e0 = dxo + base + r * wd;
                        for (int l = 0; l < cn; l++)
                            if (add) for (int q = 0, d = d0 + l, e = e0 + l * plane; q < wd; q++, d += L, e++) dxa[e] = dxa[e] + lp.dp[d];
                            else for (int q = 0, d = d0 + l, e = e0 + l * plane; q < wd; q++, d += L, e++) dxa[e] = lp.dp[d];
                    }
                }
                for (int l = 0; l < cn; l++) {
                    int ch = ch0 + l;
                    for (int t = 0; t < K * K; t++) {
                        int e = dwo + ch * K * K + t;
                        dwa[e] = addW ? dwa[e] + (float) lp.gw[t * L + l] : (float) lp.gw[t * L + l];
                    }
                    dba[dbo + ch] = addB ? dba[dbo + ch] + (float) lp.gb[l] : (float) lp.gb[l];
                }
            }
        });
    }

    /** {@link #inputGrad}'s fold of the reflected borders, lane by lane in the same order (the same bits). */
    private static void foldLanes(float[] dp, int h, int w, int L) {
        int wp = w + 2 * P;
        for (int yp = 0; yp < h + 2 * P; yp++) {
            int d = yp * wp;
            for (int i = 1; i <= P; i++) {
                int a = (d + P + i) * L, a0 = (d + P - i) * L, b = (d + P + w - 1 - i) * L, b0 = (d + P + w - 1 + i) * L;
                for (int l = 0; l < L; l++) dp[a + l] += dp[a0 + l];
                for (int l = 0; l < L; l++) dp[b + l] += dp[b0 + l];
            }
        }
        for (int i = 1; i <= P; i++) {
            int top = (P - i) * wp, topSrc = (P + i) * wp, bot = (P + h - 1 + i) * wp, botSrc = (P + h - 1 - i) * wp;
            for (int q = P; q < P + w; q++) {
                for (int l = 0; l < L; l++) dp[(topSrc + q) * L + l] += dp[(top + q) * L + l];
                for (int l = 0; l < L; l++) dp[(botSrc + q) * L + l] += dp[(bot + q) * L + l];
            }
        }
    }

    /** runLanes' per-thread lanes planes (zp's 6-wide zero frame is never written), weights, sums and tables, kept between calls. */
    private static final class Lanes {
        final int h, w, lanes;
        final float[] xp, zp, dp, wt, k;   // k: BN's dz coefficients per lane (3 each)
        final double[] gw, gb;
        final int[] reflectCol;   // padded column → source column

        Lanes(int h, int w, int lanes) {
            this.h = h;
            this.w = w;
            this.lanes = lanes;
            xp = new float[(h + 2 * P) * (w + 2 * P) * lanes];
            dp = new float[(h + 2 * P) * (w + 2 * P) * lanes];
            zp = new float[(h + 4 * P) * (w + 4 * P) * lanes];
            wt = new float[K * K * lanes];
            gw = new double[K * K * lanes];
            gb = new double[lanes];
            k = new float[3 * lanes];
            reflectCol = new int[w + 2 * P];
            for (int i = 0; i < w + 2 * P; i++) reflectCol[i] = reflect(i - P, w);
        }

        /** Zeros in every lane of x's and dy's planes (a partial block leaves its last lanes unwritten). */
        void clear() {
            java.util.Arrays.fill(xp, 0f);
            java.util.Arrays.fill(zp, 0f);
        }
    }

    /**
     * Per-thread buffers, kept between calls (every step repeats the same few plane shapes; new
     * arrays per task were ≈ 19 MiB of heap per training step in the backward). zpad's 6-wide zero
     * frame is never written, so it is cleared only when the plane shape changes.
     */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> TL = ThreadLocal.withInitial(Scratch::new);
        float[] pad = new float[0], dpad = new float[0], zpad = new float[0], dzPlane = new float[0];
        final float[] flipped = new float[K * K], k = new float[3];
        final double[] gw = new double[K * K], sums = new double[2];
        private int zh = -1, zw = -1;

        /** This thread's buffers with pad and dpad of at least (h+6)·(w+6) floats. */
        static Scratch of(int h, int w) {
            Scratch s = TL.get();
            int np = (h + 2 * P) * (w + 2 * P);
            if (s.pad.length < np) { s.pad = new float[np]; s.dpad = new float[np]; }
            return s;
        }

        private Lanes lanes;

        /** The lanes planes for an h×w plane (made again when the shape changes). */
        Lanes lanes(int h, int w, int l) {
            if (lanes == null || lanes.h != h || lanes.w != w || lanes.lanes != l) lanes = new Lanes(h, w, l);
            return lanes;
        }

        /** A plane of at least p floats for BN's dz ({@link #backwardOfBatchnorm}). */
        float[] dz(int p) {
            if (dzPlane.length < p) dzPlane = new float[p];
            return dzPlane;
        }

        /** zpad for an h×w plane: (h+12)·(w+12) floats whose 6-wide frame is zero. */
        float[] zpad(int h, int w) {
            if (zh != h || zw != w) {
                int nz = (h + 4 * P) * (w + 4 * P);
                if (zpad.length < nz) zpad = new float[nz];
                else java.util.Arrays.fill(zpad, 0, nz, 0f);
                zh = h;
                zw = w;
            }
            return zpad;
        }
    }

    /**
     * dx = fold(dpad), dpad[yp][xp] = Σ_taps w[ky][kx]·dy[yp−ky][xp−kx]: a correlation of dy,
     * zero-padded by 6, with the flipped kernel (four, then two padded rows per call: each source row
     * loaded once for all); then the reflected borders are added back onto their sources.
     * (Measured and not kept: the middle columns of the middle rows straight from dy into dx with
     * the outer columns from narrow zero-padded strips, which saves the copies through zpad and
     * dpad: no faster at 256², 10–25 % slower at 32²–128², where the strips' extra vectors cost
     * more than the copies.)
     */
    private static void inputGrad(float[] dy, int dyo, int h, int w, float[] wf, float[] zpad, float[] dpad, float[] dx, int dxo,
                                  boolean add, int[] taps) {
        int wp = w + 2 * P, wz = w + 4 * P;
        for (int r = 0; r < h; r++) System.arraycopy(dy, dyo + r * w, zpad, (r + 2 * P) * wz + 2 * P, w);
        int yp = 0;
        for (; yp + 3 < h + 2 * P; yp += 4) SimdOps.BEST.row7x4(zpad, yp * wz, wz, wf, 0, 0f, dpad, yp * wp, wp, wp, taps);
        for (; yp + 1 < h + 2 * P; yp += 2) SimdOps.BEST.row7x2(zpad, yp * wz, wz, wf, 0, 0f, dpad, yp * wp, wp, wp, taps);
        if (yp < h + 2 * P) SimdOps.BEST.row7(zpad, yp * wz, wz, wf, 0, 0f, dpad, yp * wp, wp, taps);
        for (yp = 0; yp < h + 2 * P; yp++) {
            int d = yp * wp;
            for (int i = 1; i <= P; i++) {
                dpad[d + P + i] += dpad[d + P - i];
                dpad[d + P + w - 1 - i] += dpad[d + P + w - 1 + i];
            }
        }
        for (int i = 1; i <= P; i++) {
            int top = (P - i) * wp, topSrc = (P + i) * wp, bot = (P + h - 1 + i) * wp, botSrc = (P + h - 1 - i) * wp;
            for (int x = P; x < P + w; x++) {
                dpad[topSrc + x] += dpad[top + x];
                dpad[botSrc + x] += dpad[bot + x];
            }
        }
        if (!add) {
            for (int r = 0; r < h; r++) System.arraycopy(dpad, (r + P) * wp + P, dx, dxo + r * w, w);
            return;
        }
        for (int r = 0; r < h; r++) CpuAdd.add(dx, dxo + r * w, dpad, (r + P) * wp + P, dx, dxo + r * w, w);
    }
}
