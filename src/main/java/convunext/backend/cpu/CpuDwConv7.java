package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Depthwise 7×7 convolution with reflect padding 3, stride 1. Each (n,c) plane is first copied
 * into a reflect-padded (H+6)×(W+6) buffer, so the 49 taps become border-free shifted
 * multiply-adds along a row, a loop C2 vectorises. Forward is threaded over the N·C planes,
 * backward over channels (each task owns dw[c], db[c] and the dx planes of its channel).
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
        if (dxInto != null) Shapes.same("dwconv7Backward", x, dxInto);
        if (dwInto != null) Shapes.shape("dwconv7Backward", "dw", dwInto, w.shape());
        if (dbInto != null) Shapes.shape("dwconv7Backward", "db", dbInto, x.dim(1));
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), plane = h * wd;
        boolean add = dxInto != null, addW = dwInto != null, addB = dbInto != null;
        Tensor dx = add ? dxInto : be.empty(x.shape()), dw = addW ? dwInto : be.empty(c, 1, K, K), db = addB ? dbInto : be.empty(c);
        float[] xa = x.array(), wa = w.array(), dya = dy.array(), dxa = dx.array(), dwa = dw.array(), dba = db.array();
        int xo = x.off(), wo = w.off(), dyo = dy.off(), dxo = dx.off(), dwo = dw.off(), dbo = db.off();
        int[] taps = SimdOps.taps7(wd + 4 * P);   // inputGrad's zero-padded rows
        CpuThreads.chunks(c, 1, 4, (c0, c1) -> {
            Scratch sc = Scratch.of(h, wd);
            float[] pad = sc.pad, zpad = sc.zpad(h, wd), flipped = sc.flipped;
            double[] gw = sc.gw;
            for (int ch = c0; ch < c1; ch++) {
                java.util.Arrays.fill(gw, 0);
                for (int t = 0; t < K * K; t++) flipped[t] = wa[wo + ch * K * K + K * K - 1 - t];
                double gb = 0;
                for (int i = 0; i < n; i++) {
                    int pl = (i * c + ch) * plane;
                    padPlane(xa, xo + pl, h, wd, pad);
                    // Σ dy in double through BatchNorm's vector sums (a fixed order; sums[1], Σ dy², unused):
                    // 0.08 ns an element against 0.45 for the scalar 4-chain loop, 0.94–0.97 of the
                    // whole backward (bench/NOTES.md, CPU round 24).
                    double[] sums = sc.sums;
                    sums[0] = 0;
                    sums[1] = 0;
                    SimdOps.BEST.bnSums(dya, dyo + pl, plane, 0.0, sums);
                    gb += sums[0];
                    SimdOps.BEST.tapSums(dya, dyo + pl, pad, h, wd, gw);
                    inputGrad(dya, dyo + pl, h, wd, flipped, zpad, sc.dpad, dxa, dxo + pl, add, taps);
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

    /**
     * Per-thread buffers, kept between calls (every step repeats the same few plane shapes; new
     * arrays per task were ≈ 19 MiB of heap per training step in the backward). zpad's 6-wide zero
     * frame is never written, so it is cleared only when the plane shape changes.
     */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> TL = ThreadLocal.withInitial(Scratch::new);
        float[] pad = new float[0], dpad = new float[0], zpad = new float[0];
        final float[] flipped = new float[K * K];
        final double[] gw = new double[K * K], sums = new double[2];
        private int zh = -1, zw = -1;

        /** This thread's buffers with pad and dpad of at least (h+6)·(w+6) floats. */
        static Scratch of(int h, int w) {
            Scratch s = TL.get();
            int np = (h + 2 * P) * (w + 2 * P);
            if (s.pad.length < np) { s.pad = new float[np]; s.dpad = new float[np]; }
            return s;
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
