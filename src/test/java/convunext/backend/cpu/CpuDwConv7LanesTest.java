package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.RefBackend;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * dwconv7's backward with the channels in the lanes (narrow planes, CpuDwConv7.runLanes) against
 * the per-plane path it replaces there: dx, db, dγ and dβ bit for bit (the same operations per
 * element), dw within DwConv7ParityTest's 1e-5 of the float64 oracle like the per-plane path's
 * (its float chains run in another order); with and without the BatchNorm before it, fresh and
 * into held gradients, at 1 thread and at every thread the pool has; channel counts that leave a
 * partial block of lanes. And the two SimdOps kernels lane by lane against the scalar ones on the
 * lane's own plane (bits: same chains, same order).
 */
class CpuDwConv7LanesTest {
    private static final CpuBackend BE = new CpuBackend();
    private static final RefBackend REF = new RefBackend();

    @Test void partialBlock() { run(2, 19, 13, 17, 1); }

    @Test void smallestPlane() { run(1, 5, 4, 5, 2); }

    @Test void levelFourShape() { run(2, 32, 16, 16, 3); }

    @Test void widest() { run(1, 17, 32, 32, 4); }

    @Test void oddWidthRest() { run(3, 2, 7, 29, 5); }

    private static void run(int n, int c, int h, int w, long seed) {
        Random r = new Random(seed);
        Tensor x = CpuTestTensors.randn(BE, r, 0.3, n, c, h, w), wt = CpuTestTensors.randn(BE, r, 0, c, 1, 7, 7);
        Tensor b = CpuTestTensors.randn(BE, r, 0.1, c), gamma = CpuTestTensors.randn(BE, r, 1, c), beta = CpuTestTensors.randn(BE, r, 0, c);
        Tensor rm = CpuTestTensors.randn(BE, r, 0, c), rv = BE.empty(c);
        BE.fill(rv, 1.5f);
        Tensor[] f = BE.dwconv7Batchnorm(x, wt, b, gamma, beta, rm, rv, 0.1f, 1e-5f);
        Tensor gy = CpuTestTensors.randn(BE, r, 0.2, n, c, h, w), hx = CpuTestTensors.randn(BE, r, -0.1, n, c, h, w);
        String at = n + "x" + c + "x" + h + "x" + w;
        int all = CpuThreads.threads();
        for (boolean withBn : new boolean[] {false, true}) {
            // dw's bits do not depend on the thread count (a block of channels is one thread's)
            assertArrayEquals(BE.download(backward(withBn, true, 1, x, wt, f, gy, gamma, null)[1]),
                    BE.download(backward(withBn, true, all, x, wt, f, gy, gamma, null)[1]), "dw at 1 and " + all + " threads: " + at);
            for (boolean held : new boolean[] {false, true})
                for (int threads : new int[] {1, all}) {
                    String what = at + (withBn ? " after BN" : "") + (held ? " into held dx" : "") + ", " + threads + " thread(s)";
                    Tensor[] planes = backward(withBn, false, threads, x, wt, f, gy, gamma, held ? hx : null);
                    Tensor[] lanes = backward(withBn, true, threads, x, wt, f, gy, gamma, held ? hx : null);
                    for (int i : new int[] {0, 2, 3, 4}) {
                        if (i >= planes.length) continue;
                        assertArrayEquals(BE.download(planes[i]), BE.download(lanes[i]), "gradient " + i + ": " + what);
                    }
                    // dw against float64: dy (BN's dz when withBn) is the same bits on both paths
                    Tensor dyPlanes = withBn ? BE.batchnormBackward(f[0], gy, gamma, f[2], f[3])[0] : gy;
                    float[] want = REF.download(REF.dwconv7Backward(REF.upload(BE.download(x), x.shape()), REF.upload(BE.download(wt), wt.shape()),
                            REF.upload(BE.download(dyPlanes), dyPlanes.shape()))[1]);
                    for (Tensor[] got : new Tensor[][] {planes, lanes}) {
                        double e = relErr(BE.download(got[1]), want);
                        assertTrue(e <= 1e-5, "dw relative error " + e + " > 1e-5 (" + (got == planes ? "planes" : "lanes") + "): " + what);
                    }
                }
        }
    }

    /** {dx, dw, db[, dγ, dβ]} on the per-plane path or the lanes path. */
    private static Tensor[] backward(boolean withBn, boolean lanes, int threads, Tensor x, Tensor wt, Tensor[] f, Tensor gy, Tensor gamma,
                                     Tensor heldDx) {
        int saved = CpuDwConv7.lanesMaxWidth;
        int all = CpuThreads.threads();
        try {
            CpuDwConv7.lanesMaxWidth = lanes ? 32 : 0;
            CpuThreads.setThreads(threads);
            Tensor into = heldDx == null ? null : CpuTestTensors.copy(BE, heldDx);
            return withBn ? BE.dwconv7BatchnormBackwardInto(x, wt, f[0], gy, gamma, f[2], f[3], into, null, null, null, null)
                    : BE.dwconv7BackwardInto(x, wt, gy, into, null, null);
        } finally {
            CpuDwConv7.lanesMaxWidth = saved;
            CpuThreads.setThreads(all);
        }
    }

    private static double relErr(float[] got, float[] want) {
        double d = 0, m = 0;
        for (int i = 0; i < want.length; i++) {
            d = Math.max(d, Math.abs((double) got[i] - want[i]));
            m = Math.max(m, Math.abs((double) want[i]));
        }
        return d / m;
    }

    /** The vector kernels lane by lane equal the scalar ones on that lane's plane (one lane is the plane layout). */
    @Test void kernelsMatchScalarPerLane() {
        SimdOps v = SimdOps.BEST, s = new ScalarOps();
        int lanes = v.lanes();
        Random r = new Random(7);
        for (int[] hw : new int[][] {{4, 5}, {9, 13}, {16, 16}, {11, 32}}) {
            int h = hw[0], w = hw[1], wp = w + 6, wz = w + 12, flush = Math.max(1, 256 / w);
            float[] zp = new float[(h + 12) * wz * lanes], xp = new float[(h + 6) * wp * lanes], wt = new float[49 * lanes];
            for (int i = 0; i < zp.length; i++) zp[i] = (float) r.nextGaussian();
            for (int i = 0; i < xp.length; i++) xp[i] = (float) r.nextGaussian();
            for (int i = 0; i < wt.length; i++) wt[i] = (float) r.nextGaussian();
            float[] outV = new float[(h + 6) * wp * lanes];
            double[] gwV = new double[49 * lanes];
            v.dw7CorrLanes(zp, wz, wt, outV, wp, h + 6, wp);
            v.dw7TapSumsLanes(zp, (6 * wz + 6) * lanes, wz, xp, h, w, flush, gwV);
            for (int l = 0; l < lanes; l++) {
                float[] zl = lane(zp, lanes, l), xl = lane(xp, lanes, l), wl = lane(wt, lanes, l), outS = new float[(h + 6) * wp];
                double[] gwS = new double[49];
                s.dw7CorrLanes(zl, wz, wl, outS, wp, h + 6, wp);
                s.dw7TapSumsLanes(zl, 6 * wz + 6, wz, xl, h, w, flush, gwS);
                assertArrayEquals(outS, lane(outV, lanes, l), "corr, lane " + l + ", " + h + "x" + w);
                double[] gl = new double[49];
                for (int t = 0; t < 49; t++) gl[t] = gwV[t * lanes + l];
                assertArrayEquals(gwS, gl, "tap sums, lane " + l + ", " + h + "x" + w);
            }
        }
    }

    private static float[] lane(float[] a, int lanes, int l) {
        float[] o = new float[a.length / lanes];
        for (int i = 0; i < o.length; i++) o[i] = a[i * lanes + l];
        return o;
    }
}
