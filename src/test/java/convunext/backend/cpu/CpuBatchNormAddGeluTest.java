package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CPU's one-pass training BatchNorm + residual + GELU (CpuBatchNorm.batchnormAddGelu) is bit
 * for bit the composition it replaces — batchnormTrain, then addGelu(res, y) or gelu(y) — in every
 * output (out, mean, invstd, pre) and in the running statistics it updates, with and without the
 * residual and the saved pre, at 1 thread and at every thread the pool has, on planes that are odd,
 * shorter than one step, and across step boundaries (1517 floats). BatchNormParityTest checks it
 * against float64 on every backend.
 */
class CpuBatchNormAddGeluTest {
    private static final CpuBackend BE = new CpuBackend();

    @Test void oddPlane() { run(3, 5, 7, 9, 1); }

    @Test void planeAcrossSteps() { run(2, 3, 37, 41, 2); }

    @Test void onePixelPlanes() { run(4, 6, 1, 1, 3); }

    private static void run(int n, int c, int h, int w, long seed) {
        Random r = new Random(seed);
        Tensor x = CpuTestTensors.randn(BE, r, 2.0, n, c, h, w), res = CpuTestTensors.randn(BE, r, -0.3, n, c, h, w);
        Tensor g = CpuTestTensors.randn(BE, r, 1.0, c), b = CpuTestTensors.randn(BE, r, 0.0, c);
        Tensor rm0 = CpuTestTensors.randn(BE, r, 0, c), rv0 = CpuTestTensors.randn(BE, r, 3, c);
        String at = n + "x" + c + "x" + h + "x" + w;
        for (boolean withRes : new boolean[] {true, false})
            for (boolean keep : new boolean[] {true, false}) {
                String what = at + (withRes ? " res" : " no res") + (keep ? " keep pre" : "");
                Tensor rmW = CpuTestTensors.copy(BE, rm0), rvW = CpuTestTensors.copy(BE, rv0);
                Tensor[] bn = CpuBatchNorm.batchnormTrain(BE, x, g, b, rmW, rvW, 0.1f, 1e-5f);
                Tensor[] ag = withRes ? CpuAddGelu.addGelu(BE, res, bn[0], keep, SimdOps.BEST) : new Tensor[] {BE.gelu(bn[0]), keep ? bn[0] : null};
                // kept: GELU's slope at pre (the form the CPU's backward takes), the bits of geluBackward(pre, 1)
                Tensor ones = BE.empty(x.shape());
                BE.fill(ones, 1f);
                float[][] want = {BE.download(ag[0]), BE.download(bn[1]), BE.download(bn[2]), ag[1] == null ? null : BE.download(BE.geluBackward(ag[1], ones)),
                        BE.download(rmW), BE.download(rvW)};
                boolean negative = false, positive = false;
                for (float v : want[0]) { negative |= v < -1e-3f; positive |= v > 1e-3f; }
                assertTrue(negative && positive, "GELU's both sides are covered: " + what);
                int all = CpuThreads.threads();
                for (int threads : new int[] {1, all}) {
                    Tensor rm = CpuTestTensors.copy(BE, rm0), rv = CpuTestTensors.copy(BE, rv0);
                    Tensor[] got;
                    try {
                        CpuThreads.setThreads(threads);
                        got = BE.batchnormAddGelu(x, withRes ? res : null, g, b, rm, rv, 0.1f, 1e-5f, keep);
                    } finally {
                        CpuThreads.setThreads(all);
                    }
                    String t = what + ", " + threads + " thread(s)";
                    assertArrayEquals(want[0], BE.download(got[0]), "out: " + t);
                    assertArrayEquals(want[1], BE.download(got[1]), "mean: " + t);
                    assertArrayEquals(want[2], BE.download(got[2]), "invstd: " + t);
                    if (keep) assertArrayEquals(want[3], BE.download(got[3]), "gelu'(pre): " + t);
                    else assertNull(got[3], "nothing kept without keepPre: " + t);
                    assertArrayEquals(want[4], BE.download(rm), "running mean: " + t);
                    assertArrayEquals(want[5], BE.download(rv), "running var: " + t);
                }
            }
    }

    @Test void residualOfAnotherShapeIsRefusedBeforeWork() {
        Random r = new Random(9);
        Tensor x = CpuTestTensors.randn(BE, r, 0, 2, 3, 4, 5), res = CpuTestTensors.randn(BE, r, 0, 2, 3, 5, 4);
        Tensor g = CpuTestTensors.randn(BE, r, 1, 3), b = CpuTestTensors.randn(BE, r, 0, 3);
        Tensor rm = CpuTestTensors.randn(BE, r, 0, 3), rv = CpuTestTensors.randn(BE, r, 3, 3);
        float[] before = BE.download(rm);
        var e = assertThrows(IllegalArgumentException.class, () -> BE.batchnormAddGelu(x, res, g, b, rm, rv, 0.1f, 1e-5f, true));
        assertTrue(e.getMessage().contains("batchnormAddGelu"), e.getMessage());
        assertArrayEquals(before, BE.download(rm), "running statistics untouched by a refused call");
    }
}
