package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import convunext.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuUpsample's forward and adjoint against the loops they replaced. The adjoint, which sums each input column's terms per row pair (vectorised on the
 * Vector API), is bit for bit the element scatter it replaced (written out below): on odd planes,
 * planes narrower than one vector, one wider than two vectors plus a tail, 1×1 and single-row
 * inputs (every output row then reads one input row twice), at 1 thread and at every thread the
 * pool has; dy holds ±0, ±∞ and NaN. Both SimdOps give the same bits for the row pairs.
 * UpsampleParityTest checks the adjoint against float64 on every backend.
 */
class CpuUpsampleTest {
    private static final CpuBackend BE = new CpuBackend();

    @Test void adjointIsTheScatterBitForBit() {
        int[][] shapes = {{2, 3, 13, 17}, {1, 2, 1, 1}, {1, 2, 1, 9}, {1, 3, 7, 1}, {2, 2, 5, 3}, {1, 2, 16, 37}, {1, 1, 33, 64},
                {1, 2, 9, 128}, {2, 1, 4, 19}};
        CpuTestTensors.atOneAndAllThreads(shapes, (s, t) -> {
            Random r = new Random(s[2] * 131 + s[3]);
            Tensor dy = CpuTestTensors.randn(BE, r, 0.1, s[0], s[1], 2 * s[2], 2 * s[3]);
            float[] g = dy.array();
            g[dy.off()] = -0f;
            if (dy.numel() > 40) {
                g[dy.off() + 7] = Float.POSITIVE_INFINITY;
                g[dy.off() + 19] = Float.NaN;
                g[dy.off() + 30] = Float.NEGATIVE_INFINITY;
                g[dy.off() + (int) dy.numel() - 1] = 0f;
            }
            Tensor dx = BE.upsample2xBackward(dy);
            float[] want = scatter(dy, s[0] * s[1], s[2], s[3]);
            String tag = "upsample2xBackward " + s[0] + "x" + s[1] + "x" + s[2] + "x" + s[3] + ", " + t + " threads";
            assertArrayEquals(CpuTestTensors.bits(want), CpuTestTensors.bits(BE.download(dx)), tag);
        });
    }


    /** The adjoint as it was: each dy element added into its four sources, (oy, ox) in order. */
    private static float[] scatter(Tensor dy, int planes, int h, int w) {
        int ho = 2 * h, wo = 2 * w;
        Axis y = Axis.of(h, ho), x = Axis.of(w, wo);
        int[][] ay = y.i(), ax = x.i();
        float[][] ly = y.l(), lx = x.l();
        float[] da = new float[planes * h * w], ga = dy.array();
        for (int pl = 0; pl < planes; pl++) {
            int xb = pl * h * w, yb = dy.off() + pl * ho * wo;
            for (int oy = 0; oy < ho; oy++) {
                int r0 = xb + ay[0][oy] * w, r1 = xb + ay[1][oy] * w, o = yb + oy * wo;
                float h0 = ly[0][oy], h1 = ly[1][oy];
                for (int ox = 0; ox < wo; ox++) {
                    float gv = ga[o + ox];
                    int c0 = ax[0][ox], c1 = ax[1][ox];
                    float w0 = lx[0][ox], w1 = lx[1][ox];
                    da[r0 + c0] += h0 * w0 * gv;
                    da[r0 + c1] += h0 * w1 * gv;
                    da[r1 + c0] += h1 * w0 * gv;
                    da[r1 + c1] += h1 * w1 * gv;
                }
            }
        }
        return da;
    }

    /** Source indices i[0], i[1] and weights l[0], l[1] along one axis, align_corners = True (PyTorch's formula, in double). */
    private record Axis(int[][] i, float[][] l) {
        static Axis of(int in, int out) {
            Axis a = new Axis(new int[2][out], new float[2][out]);
            for (int o = 0; o < out; o++) {
                double real = out > 1 ? (double) o * (in - 1) / (out - 1) : 0;
                int lo = Math.min((int) real, in - 1);
                a.i[0][o] = lo;
                a.i[1][o] = lo < in - 1 ? lo + 1 : lo;
                a.l[1][o] = (float) (real - lo);
                a.l[0][o] = (float) (1 - (real - lo));
            }
            return a;
        }
    }

    /**
     * The forward (x pass by output parity with vector blends, then the row blends) is bit for bit
     * the two separable gathers written out below: widths 1–5 (the edge outputs, and the gather
     * loop where the parity split does not apply), odd widths, one over two vectors plus a tail,
     * 1 and all threads; x holds ±0, ±∞ and NaN.
     */
    @Test void forwardIsTheSeparableGatherBitForBit() {
        int[][] shapes = {{1, 2, 1, 1}, {1, 2, 3, 2}, {1, 2, 4, 3}, {2, 3, 5, 4}, {1, 2, 6, 5}, {2, 3, 13, 17}, {1, 2, 16, 37}, {1, 1, 9, 128}};
        CpuTestTensors.atOneAndAllThreads(shapes, (s, t) -> {
            Random r = new Random(s[2] * 37 + s[3]);
            Tensor x = CpuTestTensors.randn(BE, r, 0.1, s);
            float[] xa = x.array();
            if (x.numel() > 40) {
                xa[x.off() + 3] = -0f;
                xa[x.off() + 11] = Float.POSITIVE_INFINITY;
                xa[x.off() + 23] = Float.NaN;
            }
            float[] want = gathers(x, s[0] * s[1], s[2], s[3]);
            String tag = "upsample2x " + java.util.Arrays.toString(s) + ", " + t + " threads";
            assertArrayEquals(CpuTestTensors.bits(want), CpuTestTensors.bits(BE.download(BE.upsample2x(x))), tag);
        });
    }

    /** The forward as two gathers: each input row along x (l0·a + l1·b), then each output row a blend of two of those. */
    private static float[] gathers(Tensor x, int planes, int h, int w) {
        int ho = 2 * h, wo = 2 * w;
        Axis ay = Axis.of(h, ho), axx = Axis.of(w, wo);
        float[] xa = x.array(), y = new float[planes * ho * wo], rows = new float[h * wo];
        for (int pl = 0; pl < planes; pl++) {
            int xb = x.off() + pl * h * w;
            for (int r = 0; r < h; r++)
                for (int ox = 0; ox < wo; ox++)
                    rows[r * wo + ox] = axx.l[0][ox] * xa[xb + r * w + axx.i[0][ox]] + axx.l[1][ox] * xa[xb + r * w + axx.i[1][ox]];
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    y[pl * ho * wo + oy * wo + ox] = ay.l[0][oy] * rows[ay.i[0][oy] * wo + ox] + ay.l[1][oy] * rows[ay.i[1][oy] * wo + ox];
        }
        return y;
    }

    /** The parity-split row-pair loop: ScalarOps and the best SimdOps agree bit for bit (vector body and tail). */
    @Test void halvesScalarAndVectorAgree() {
        Random r = new Random(10);
        int w = 53, stride = w;
        float[] ev = new float[w + 1], od = new float[w + 1], wt = new float[4 * stride];
        for (int i = 0; i < w; i++) { ev[i] = (float) r.nextGaussian(); od[i] = (float) r.nextGaussian(); }
        od[7] = Float.NEGATIVE_INFINITY;
        ev[11] = Float.NaN;
        for (int i = 0; i < wt.length; i++) wt[i] = r.nextFloat();
        float[] da0 = new float[3 * w];
        for (int i = 0; i < da0.length; i++) da0[i] = (float) r.nextGaussian();
        scalarAndBestAgree(da0, "upsampleAdjointHalves",
                (ops, da) -> ops.upsampleAdjointHalves(ev, 0, od, 0, wt, stride, 0.625f, 0.375f, da, 0, 2 * w, 2, w - 1));
    }

    /** call(ops, da) on a copy of da0 with ScalarOps and with the best SimdOps: the same bits. */
    private static void scalarAndBestAgree(float[] da0, String what, java.util.function.BiConsumer<SimdOps, float[]> call) {
        int[][] out = new int[2][];
        int k = 0;
        for (SimdOps ops : List.of(new ScalarOps(), SimdOps.BEST)) {
            float[] da = da0.clone();
            call.accept(ops, da);
            out[k++] = CpuTestTensors.bits(da);
        }
        assertArrayEquals(out[0], out[1], what + " scalar vs " + SimdOps.BEST.describe());
    }

    /** The row-pair loop: ScalarOps and the best SimdOps agree bit for bit, also from an odd first column. */
    @Test void rowPairsScalarAndVectorAgree() {
        Random r = new Random(9);
        int w = 45, wo = 2 * w, slots = 5;
        float[] row = new float[wo + 1];
        for (int i = 0; i < wo; i++) row[i] = (float) r.nextGaussian();
        row[3] = Float.POSITIVE_INFINITY;
        int[] idx = new int[slots * w];
        float[] wt = new float[slots * w];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = r.nextInt(wo + 1);
            wt[i] = r.nextInt(7) == 0 ? 0f : r.nextFloat();
        }
        float[] da0 = new float[3 * w];
        for (int i = 0; i < da0.length; i++) da0[i] = (float) r.nextGaussian();
        scalarAndBestAgree(da0, "upsampleAdjointRows",
                (ops, da) -> ops.upsampleAdjointRows(row, idx, wt, slots, w, 0.625f, 0.375f, da, 0, 2 * w, 3, w));
    }
}
