package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuBackend's BatchNorm backwards that add into held gradients are bit for bit the interface's
 * default compositions: batchnormAddGeluBackwardInto, which makes d = gelu'(pre)·dout per channel
 * into scratch and runs BatchNorm's two passes from there (the default: geluBackward,
 * batchnormBackward, then each held gradient + the fresh one), and batchnormBackwardInto, which adds
 * each dx plane into the held one as it is made (the default: batchnormBackward, then the adds) —
 * for every subset of held gradients, at 1 thread and at every thread the pool has, on odd planes
 * with vector tails, planes of more than one vector chunk, one and three images.
 * BatchNormParityTest checks both against float64 on every backend.
 */
class CpuBatchNormIntoTest {
    private static final CpuBackend BE = new CpuBackend();

    @Test void oddPlanes() { run(2, 3, 13, 17, 1); }

    @Test void oneImageWidePlanes() { run(1, 2, 67, 71, 2); }

    @Test void threeImagesTinyPlanes() { run(3, 5, 4, 5, 3); }

    private static void run(int n, int c, int h, int w, long seed) {
        Random r = new Random(seed);
        Tensor x = CpuTestTensors.randn(BE, r, 0.7, n, c, h, w), res = CpuTestTensors.randn(BE, r, 0.2, n, c, h, w);
        Tensor gamma = CpuTestTensors.randn(BE, r, 1, c), beta = CpuTestTensors.randn(BE, r, 0, c);
        Tensor rm = CpuTestTensors.randn(BE, r, 0, c), rv = BE.empty(c);
        BE.fill(rv, 1.5f);
        Tensor[] f = BE.batchnormAddGelu(x, res, gamma, beta, rm, rv, 0.1f, 1e-5f, true);   // {out, mean, invstd, gelu'(pre)}
        Tensor dout = CpuTestTensors.randn(BE, r, 0.1, n, c, h, w);
        // The default composition, fresh: d = geluBackward(pre, dout), then BN's backward of d; pre
        // made again by the composition (same bits as the fused op's, CpuBatchNormAddGeluTest).
        Tensor[] bnf = BE.batchnormTrain(x, gamma, beta, CpuTestTensors.copy(BE, rm), CpuTestTensors.copy(BE, rv), 0.1f, 1e-5f);
        Tensor d = BE.geluBackward(BE.addGelu(res, bnf[0], true)[1], dout);
        Tensor[] bn = BE.batchnormBackward(x, d, gamma, f[1], f[2]);
        Tensor[] fresh = {d, bn[0], bn[1], bn[2]};
        Tensor[] held = {CpuTestTensors.randn(BE, r, -0.3, n, c, h, w), CpuTestTensors.randn(BE, r, 0.4, n, c, h, w),
                CpuTestTensors.randn(BE, r, 0, c), CpuTestTensors.randn(BE, r, 0, c)};
        String what = n + "x" + c + "x" + h + "x" + w;
        CpuTestTensors.checkHeldSubsets(BE, what, fresh, held,
                into -> BE.batchnormAddGeluBackwardInto(x, dout, f[3], gamma, f[1], f[2], into[0], into[1], into[2], into[3]));
        // BatchNorm's own backward into held dx, dγ, dβ (dout as its dy)
        Tensor[] plain = BE.batchnormBackward(x, dout, gamma, f[1], f[2]);
        CpuTestTensors.checkHeldSubsets(BE, what + " batchnormBackwardInto", plain, new Tensor[] {held[1], held[2], held[3]},
                into -> BE.batchnormBackwardInto(x, dout, gamma, f[1], f[2], into[0], into[1], into[2]));
    }

    @Test void heldGradientOfAnotherShapeIsRefusedBeforeWork() {
        Random r = new Random(4);
        Tensor x = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7), dout = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7);
        Tensor pre = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7), g = CpuTestTensors.randn(BE, r, 1, 2);
        Tensor mean = CpuTestTensors.randn(BE, r, 0, 2), inv = BE.empty(2);
        BE.fill(inv, 1f);
        Tensor bad = CpuTestTensors.randn(BE, r, 0, 1, 2, 7, 6), ok = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7);
        float[] before = BE.download(ok);
        var e = assertThrows(IllegalArgumentException.class,
                () -> BE.batchnormAddGeluBackwardInto(x, dout, pre, g, mean, inv, ok, bad, null, null));
        assertTrue(e.getMessage().contains("batchnormAddGeluBackward"), e.getMessage());
        assertArrayEquals(before, BE.download(ok), "the held residual gradient is untouched");
        assertThrows(IllegalArgumentException.class,
                () -> BE.batchnormAddGeluBackwardInto(x, dout, pre, g, mean, inv, null, null, CpuTestTensors.randn(BE, r, 0, 3), null));
        var e2 = assertThrows(IllegalArgumentException.class, () -> BE.batchnormBackwardInto(x, dout, g, mean, inv, bad, null, null));
        assertTrue(e2.getMessage().contains("batchnormBackward"), e2.getMessage());
    }
}
