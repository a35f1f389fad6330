package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The inference block tail gelu(res + mlp(x)) with the residual and GELU in the second GEMM's
 * epilogue (CpuMlp.forwardAddGelu) is bit for bit addGelu(res, mlp(x)) — the two ops it replaces —
 * with both SimdOps, at 1 thread and at every thread the pool has, on odd shapes: a partial last
 * pixel block, scalar tails, Hd > 256 (two K blocks), one pixel, no biases. The ops it is made of
 * have their own float64 checks (CpuMlpTest, CpuAddGeluTest); MlpParityTest checks it on every backend.
 */
class CpuMlpAddGeluTest {
    private static final CpuBackend BE = new CpuBackend();
    private static final List<SimdOps> OPS = List.of(SimdOps.BEST, new ScalarOps());

    @Test void oddSizes() { run(2, 5, 19, 7, 5, 7, true, 11); }

    @Test void level0ChannelsSeveralBlocks() { run(2, 32, 128, 32, 23, 37, true, 12); }

    @Test void wideHiddenNoBias() { run(1, 13, 600, 11, 17, 13, false, 13); }

    @Test void onePixel() { run(3, 9, 36, 9, 1, 1, true, 14); }

    private static void run(int n, int c, int hd, int co, int h, int w, boolean bias, long seed) {
        Random r = new Random(seed);
        Tensor x = CpuTestTensors.randn(BE, r, 0.1, n, c, h, w), w1 = CpuTestTensors.randn(BE, r, 0, hd, c);
        Tensor w2 = CpuTestTensors.randn(BE, r, 0, co, hd), res = CpuTestTensors.randn(BE, r, 0.2, n, co, h, w);
        Tensor b1 = bias ? CpuTestTensors.randn(BE, r, 0.1, hd) : null, b2 = bias ? CpuTestTensors.randn(BE, r, 0.1, co) : null;
        CpuTestTensors.scale(w1, 1 / Math.sqrt(c));   // pre and y ~ N(·, 1): GELU's curved part and both tails
        CpuTestTensors.scale(w2, 1 / Math.sqrt(hd));
        String at = n + "x" + c + "→" + hd + "→" + co + " @" + h + "x" + w + (bias ? " bias" : "");
        for (SimdOps ops : OPS) {
            String what = at + " " + ops.describe();
            Tensor y = CpuMlp.forward(BE, x, w1, b1, w2, b2, false, ops)[0];
            Tensor want = CpuAddGelu.addGelu(BE, res, y, false, ops)[0];
            float[] wa = BE.download(want);
            boolean negative = false, positive = false;
            for (float v : wa) { negative |= v < -1e-3f; positive |= v > 1e-3f; }
            assertTrue(negative && positive, "both signs of GELU's input are covered: " + what);
            int all = CpuThreads.threads();
            try {
                CpuThreads.setThreads(1);
                Tensor one = CpuMlp.forwardAddGelu(BE, x, w1, b1, w2, b2, res, ops);
                assertArrayEquals(wa, BE.download(one), "fused vs mlp then addGelu, 1 thread: " + what);
                BE.release(one);
            } finally {
                CpuThreads.setThreads(all);
            }
            Tensor many = CpuMlp.forwardAddGelu(BE, x, w1, b1, w2, b2, res, ops);
            assertArrayEquals(wa, BE.download(many), "fused vs mlp then addGelu, " + all + " threads: " + what);
            BE.release(many);
            BE.release(y);
            BE.release(want);
        }
        // the backend entry point and the interface's default composition give the same bits
        Tensor fused = BE.mlpAddGelu(x, w1, b1, w2, b2, res);
        Tensor y = BE.mlp(x, w1, b1, w2, b2, false)[0];
        assertArrayEquals(BE.download(BE.addGelu(res, y, false)[0]), BE.download(fused), "CpuBackend.mlpAddGelu: " + at);
    }

    @Test void residualOfTheWrongShapeIsRefusedBeforeWork() {
        Random r = new Random(15);
        Tensor x = CpuTestTensors.randn(BE, r, 0, 1, 4, 3, 5), w1 = CpuTestTensors.randn(BE, r, 0, 16, 4), w2 = CpuTestTensors.randn(BE, r, 0, 4, 16);
        Tensor res = CpuTestTensors.randn(BE, r, 0, 1, 4, 5, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> BE.mlpAddGelu(x, w1, null, w2, null, res));
        assertTrue(e.getMessage().contains("mlpAddGelu") && e.getMessage().contains("res"), e.getMessage());
    }
}
