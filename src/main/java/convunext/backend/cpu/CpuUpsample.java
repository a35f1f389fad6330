package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * Bilinear ×2 upsampling with align_corners=True and its adjoint, threaded over the N·C planes;
 * the adjoint scatters within one plane, so tasks never share output. The forward is two
 * separable passes over a per-thread scratch of h × 2w floats: every input row interpolated along
 * x once (the gathers), then each output row a blend of two of those rows ({@link SimdOps#blend}):
 * 13.5 → 7.5 ms at level 0, one thread (the four-tap gather per output ran at ≈ 9 % of copy
 * bandwidth). Same bits: each output is still h0·(w0·a + w1·b) +
 * h1·(w0·c + w1·d), the x-interpolation computed once per input row. (The adjoint in the
 * reverse order measured no faster; its scatter's terms are now summed per input column, which
 * vectorises: see {@link #upsample2xBackward}.)
 */
final class CpuUpsample {
    private CpuUpsample() {}

    /**
     * Source index pairs and weights along one axis. The coordinate is computed in double and the
     * weights rounded once (PyTorch's float path rounds the scale first, an error of up to ~1e-5
     * in λ at 256 pixels; the float64 reference fixtures have none).
     */
    private record Axis(int[] i0, int[] i1, float[] l0, float[] l1) {
        static Axis of(int in, int out) {
            int[] i0 = new int[out], i1 = new int[out];
            float[] l0 = new float[out], l1 = new float[out];
            for (int o = 0; o < out; o++) {
                double real = out > 1 ? (double) o * (in - 1) / (out - 1) : 0;
                int lo = Math.min((int) real, in - 1);
                i0[o] = lo;
                i1[o] = lo < in - 1 ? lo + 1 : lo;
                l1[o] = (float) (real - lo);
                l0[o] = (float) (1 - (real - lo));
            }
            return new Axis(i0, i1, l0, l1);
        }
    }

    private static final CpuScratch SCRATCH = new CpuScratch();

    /**
     * The ×2 x axis split by output parity, where its sources are regular: output 2j reads input
     * columns j − 1 and j, output 2j + 1 reads j and j + 1, for j in [1, w − 1) (align_corners puts
     * the interpolation point of 2j just left of input j and that of 2j + 1 just right of it).
     * l0e[j], l1e[j] are output 2j's weights, l0o[j], l1o[j] output 2j + 1's; null where some column
     * breaks the pattern or a half is shorter than one vector (the gather loop then runs). The four edge outputs 0, 1, 2w − 2,
     * 2w − 1 are always made by the gather loop's formula. Same products and sums per output as the
     * gather loop, so the same bits.
     */
    private record Halves(float[] l0e, float[] l1e, float[] l0o, float[] l1o) {
        static Halves of(Axis a, int w) {
            if (w - 2 < SimdOps.BEST.lanes()) return null;   // under one vector a half: the gather loop was faster (16² inputs: 0.19 against 0.23 ms)
            float[] l0e = new float[w], l1e = new float[w], l0o = new float[w], l1o = new float[w];
            for (int j = 1; j < w - 1; j++) {
                int e = 2 * j, o = e + 1;
                if (a.i0[e] != j - 1 || a.i1[e] != j || a.i0[o] != j || a.i1[o] != j + 1) return null;
                l0e[j] = a.l0[e];
                l1e[j] = a.l1[e];
                l0o[j] = a.l0[o];
                l1o[j] = a.l1[o];
            }
            return new Halves(l0e, l1e, l0o, l1o);
        }
    }

    static Tensor upsample2x(CpuBackend be, Tensor x) {
        OpShapes.upsample2x(of(x));
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), ho = 2 * h, wo = 2 * w;
        Tensor y = be.empty(n, c, ho, wo);
        Axis ay = Axis.of(h, ho), ax = Axis.of(w, wo);
        float[] xa = x.array(), ya = y.array();
        Halves hx = Halves.of(ax, w);
        CpuThreads.chunks(n * c, 1, 4, (p0, p1) -> {
            float[] rows = SCRATCH.get(h * wo + 2 * w);   // rows[r·wo + ox]: input row r interpolated along x; then two halves of a row
            int eo = h * wo, oo = eo + w;
            for (int pl = p0; pl < p1; pl++) {
                int xb = x.off() + pl * h * w, yb = y.off() + pl * ho * wo;
                for (int r = 0; r < h; r++) {
                    if (hx == null) gatherRow(ax, xa, xb + r * w, rows, r * wo, 0, wo);
                    else halvesRow(ax, hx, xa, xb + r * w, w, rows, r * wo, eo, oo);
                }
                for (int oy = 0; oy < ho; oy++)
                    SimdOps.BEST.blend(rows, ay.i0[oy] * wo, ay.l0[oy], rows, ay.i1[oy] * wo, ay.l1[oy], ya, yb + oy * wo, wo);
            }
        });
        return y;
    }

    /** rows[d + ox] for ox in [o0, o1): input row src interpolated along x, two gathers per output. */
    private static void gatherRow(Axis ax, float[] xa, int src, float[] rows, int d, int o0, int o1) {
        for (int ox = o0; ox < o1; ox++) rows[d + ox] = ax.l0[ox] * xa[src + ax.i0[ox]] + ax.l1[ox] * xa[src + ax.i1[ox]];
    }

    /**
     * {@link #gatherRow} over the whole row through {@link Halves}: outputs 2j and 2j + 1 for j in
     * [1, w − 1), the even ones from x[j − 1], x[j] and the odd ones from x[j], x[j + 1], each half
     * one vector loop into rows[eo …] and rows[oo …], then interleaved; the four edge outputs gathered.
     * (Its own method: in one loop with the gather branch, a JVM that met the other branch late ran
     * the 16² planes 2.5× slower.)
     */
    private static void halvesRow(Axis ax, Halves hx, float[] xa, int src, int w, float[] rows, int d, int eo, int oo) {
        SimdOps.BEST.blendEach(hx.l0e, 1, xa, src, hx.l1e, 1, xa, src + 1, rows, eo + 1, w - 2);
        SimdOps.BEST.blendEach(hx.l0o, 1, xa, src + 1, hx.l1o, 1, xa, src + 2, rows, oo + 1, w - 2);
        CpuConvS2D.DEINTERLEAVE.interleave(rows, eo + 1, oo + 1, rows, d + 2, w - 2);
        gatherRow(ax, xa, src, rows, d, 0, 2);
        gatherRow(ax, xa, src, rows, d, 2 * w - 2, 2 * w);
    }

    /**
     * The adjoint's terms per input column along x: slot s of column c is the s-th term the scatter
     * adds into c (outputs in order; for each, its i0 term before its i1 term), as the output index
     * idx[s·in + c] and its weight wt[s·in + c]. Unused slots point at index out, a zero after the
     * copied row, with weight 0. (×2: four terms a column, five at most.)
     */
    private record Slots(int[] idx, float[] wt, int slots) {
        static Slots of(Axis a, int in) {
            int out = a.i0.length, k = 0;
            int[] count = new int[in], filled = new int[in];
            for (int o = 0; o < out; o++) {
                count[a.i0[o]]++;
                count[a.i1[o]]++;
            }
            for (int c : count) k = Math.max(k, c);
            int[] idx = new int[k * in];
            float[] wt = new float[k * in];
            java.util.Arrays.fill(idx, out);
            for (int o = 0; o < out; o++) {
                int c = a.i0[o], e = filled[c]++ * in + c;
                idx[e] = o;
                wt[e] = a.l0[o];
                c = a.i1[o];
                e = filled[c]++ * in + c;
                idx[e] = o;
                wt[e] = a.l1[o];
            }
            return new Slots(idx, wt, k);
        }

        /**
         * Whether the interior columns [2, in − 1) have the ×2 pattern {@link SimdOps#upsampleAdjointHalves}
         * takes (terms from outputs 2c − 1, 2c, 2c + 1, 2c + 2, the other slots unused) and at least
         * three vectors of them: with fewer, the scalar tail of in − 3 columns costs more than the
         * gathers save (32-wide inputs: 0.72 against 0.66 ms; 64-wide: 0.88 against 1.18).
         */
        boolean halves(int in) {
            if (in - 3 < 3 * SimdOps.BEST.lanes() || slots < 4) return false;
            int out = 2 * in;
            for (int c = 2; c < in - 1; c++) {
                for (int s = 0; s < 4; s++)
                    if (idx[s * in + c] != 2 * c - 1 + s) return false;
                for (int s = 4; s < slots; s++)
                    if (idx[s * in + c] != out || wt[s * in + c] != 0f) return false;
            }
            return true;
        }
    }

    private static final CpuScratch ROW = new CpuScratch();

    /**
     * One output row's adjoint into input rows r0 and r1 with the interior columns from dy's row
     * split by output parity (contiguous loads, no gathers: {@link SimdOps#upsampleAdjointHalves})
     * and the three edge columns by the gather loop. (Its own method, as the forward's halvesRow.)
     */
    private static void adjointHalvesRow(Slots sx, float[] ga, int o, float[] row, int ev, int od, int w, float h0, float h1,
                                         float[] da, int r0, int r1) {
        CpuConvS2D.DEINTERLEAVE.run(ga, o, row, ev, od, w);
        EDGES.upsampleAdjointRows(row, sx.idx, sx.wt, sx.slots, w, h0, h1, da, r0, r1, 0, 2);
        SimdOps.BEST.upsampleAdjointHalves(row, ev, row, od, sx.wt, w, h0, h1, da, r0, r1, 2, w - 1);
        EDGES.upsampleAdjointRows(row, sx.idx, sx.wt, sx.slots, w, h0, h1, da, r0, r1, w - 1, w);
    }

    /** The edge columns' loop (three columns): the scalar one, which is also the vector loop's tail, so the same bits. */
    private static final SimdOps EDGES = new ScalarOps();

    /**
     * The adjoint: every dy element scattered into its four sources, in the order (oy, ox; for each
     * ox its i0 column before its i1 column; row i0 before row i1). Where an output row reads two
     * input rows (all but the last), both rows are made per input column instead, their terms in
     * that order ({@link Slots}), L columns at a time ({@link SimdOps#upsampleAdjointRows}): each
     * element sees the same float products and sums in the same order, so the same bits. The last
     * output row reads one input row twice, so its terms interleave: it keeps the scatter.
     */
    static Tensor upsample2xBackward(CpuBackend be, Tensor dy) {
        OpShapes.upsample2xBackward(of(dy));
        int n = dy.dim(0), c = dy.dim(1), ho = dy.dim(2), wo = dy.dim(3);
        int h = ho / 2, w = wo / 2;
        Tensor dx = be.zeros(n, c, h, w);
        Axis ay = Axis.of(h, ho), ax = Axis.of(w, wo);
        Slots sx = Slots.of(ax, w);
        float[] ga = dy.array(), da = dx.array();
        boolean halves = sx.halves(w);
        CpuThreads.chunks(n * c, 1, 4, (p0, p1) -> {
            float[] row = ROW.get(wo + 1 + 2 * w);   // the dy row, a zero, then (halves) its even and odd outputs
            row[wo] = 0f;
            int ev = wo + 1, od = ev + w;
            for (int pl = p0; pl < p1; pl++) {
                int xb = dx.off() + pl * h * w, yb = dy.off() + pl * ho * wo;
                for (int oy = 0; oy < ho; oy++) {
                    int r0 = xb + ay.i0[oy] * w, r1 = xb + ay.i1[oy] * w, o = yb + oy * wo;
                    float h0 = ay.l0[oy], h1 = ay.l1[oy];
                    if (r0 != r1) {
                        System.arraycopy(ga, o, row, 0, wo);
                        if (halves) adjointHalvesRow(sx, ga, o, row, ev, od, w, h0, h1, da, r0, r1);
                        else SimdOps.BEST.upsampleAdjointRows(row, sx.idx, sx.wt, sx.slots, w, h0, h1, da, r0, r1, 0, w);
                        continue;
                    }
                    for (int ox = 0; ox < wo; ox++) {
                        float g = ga[o + ox];
                        int c0 = ax.i0[ox], c1 = ax.i1[ox];
                        float w0 = ax.l0[ox], w1 = ax.l1[ox];
                        da[r0 + c0] += h0 * w0 * g;
                        da[r0 + c1] += h0 * w1 * g;
                        da[r1 + c0] += h1 * w0 * g;
                        da[r1 + c1] += h1 * w1 * g;
                    }
                }
            }
        });
        return dx;
    }
}
