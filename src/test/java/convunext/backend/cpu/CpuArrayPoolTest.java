package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.TrainStep;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The CPU array pool reuses released arrays, ignores views, rejects double release, stays within
 * its cap, and (poisoned: reused arrays are NaN) training steps match a backend without pooling,
 * which shows no op relies on a zeroed {@code empty()} result.
 */
class CpuArrayPoolTest {

    @Test void reusesReleasedArraysAndZeroesOnlyOnRequest() {
        CpuBackend be = new CpuBackend(new CpuArrayPool(1 << 20, false));
        Tensor a = be.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        float[] arr = a.array();
        be.release(a);
        Tensor b = be.empty(3, 2);                    // same length, other shape: same bucket
        assertSame(arr, b.array());
        be.release(b);
        Tensor z = be.zeros(6);
        assertSame(arr, z.array());
        assertArrayEquals(new float[6], be.download(z));
        assertNotSame(arr, be.empty(7).array(), "other lengths are not served from that bucket");
    }

    @Test void viewsAreIgnoredAndDoubleReleaseThrows() {
        CpuBackend be = new CpuBackend(new CpuArrayPool(1 << 20, false));
        Tensor a = be.empty(4, 5);
        Tensor whole = be.view(a, 0, 20), part = be.view(a, 5, 3);
        be.release(whole);                            // a view, even of the whole array: ignored
        be.release(part);
        assertNotSame(a.array(), be.empty(4, 5).array(), "a view's release must not free its base");
        be.release(a);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> be.release(a));
        assertTrue(e.getMessage().contains("[4, 5]"), e.getMessage());
        be.release(whole);                            // a view of a released base: still ignored
        assertThrows(IllegalArgumentException.class, () -> be.release(new CpuBackend().empty(2)));
    }

    @Test void staysWithinItsCapDroppingTheOldest() {
        int len = 40 + CpuArrayPool.PAD;                          // each array: 40 floats and the alignment room
        CpuArrayPool pool = new CpuArrayPool(4L * (2 * len + 20), false);   // room for two of them
        CpuBackend be = new CpuBackend(pool);
        Tensor a = be.empty(40), b = be.empty(40), c = be.empty(40), big = be.empty(2 * len + 21);
        float[] aa = a.array(), ca = c.array();
        be.release(a);
        be.release(b);
        be.release(c);                                // evicts a (oldest)
        be.release(big);                              // larger than the cap: dropped
        assertTrue(pool.cachedBytes() <= 4L * (2 * len + 20), pool.stats());
        assertEquals(4L * 2 * len, pool.cachedBytes(), pool.stats());
        float[] r1 = be.empty(40).array(), r2 = be.empty(40).array(), r3 = be.empty(40).array();
        assertSame(ca, r1, "most recently released first");
        assertNotSame(aa, r2);
        assertNotSame(aa, r3);
        assertEquals(0, pool.cachedBytes());
    }

    @Test void poisonFillsEmptyAndReleasedArraysWithNaN() {
        CpuBackend be = new CpuBackend(new CpuArrayPool(1 << 20, true));
        Tensor a = be.empty(3);
        assertTrue(Float.isNaN(be.download(a)[1]));
        float[] arr = a.array();
        be.release(a);
        assertTrue(Float.isNaN(arr[0]), "a use after release reads NaN");
        assertArrayEquals(new float[3], be.download(be.zeros(3)), "zeros() is zeros even when poisoning");
        assertArrayEquals(new float[] {7, 8}, be.download(be.upload(new float[] {7, 8}, 2)));
    }

    /**
     * Three training steps and a forward/backward, poisoned pool vs no pool: losses and gradients
     * agree to float32 rounding. (Weights after AdamW are not compared: on parameters whose
     * gradient is ~0, AdamW turns last-bit differences between a cold and a warm JIT into
     * lr-sized steps, pool or not.)
     */
    @Test void poisonedTrainingStepsMatchAnUnpooledBackend() {
        CpuArrayPool pool = new CpuArrayPool(64L << 20, true);
        float[][] pooled = train(new CpuBackend(pool));
        float[][] plain = train(new CpuBackend(new CpuArrayPool(0, false)));
        assertTrue(pool.hits() > 100, "steps reuse arrays: " + pool.stats());
        for (int s = 0; s < 3; s++) assertEquals(plain[0][s], pooled[0][s], 1e-5 * Math.abs(plain[0][s]), "loss of step " + s);
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < plain[1].length; i++) {
            assertFalse(Float.isNaN(pooled[1][i]), "NaN gradient " + i + ": an op read a poisoned (uninitialised) value");
            maxDiff = Math.max(maxDiff, Math.abs(plain[1][i] - pooled[1][i]));
            maxAbs = Math.max(maxAbs, Math.abs(plain[1][i]));
        }
        assertTrue(maxAbs > 0 && maxDiff <= 1e-4 * maxAbs, "gradients differ by " + maxDiff + " (max |g| " + maxAbs + ")");
    }

    /** {losses of 3 steps, gradients of a 4th forward/backward}; odd sizes so every op's edge paths run. */
    private static float[][] train(CpuBackend be) {
        SplittableRandom r = new SplittableRandom(11);
        int n = 2, h = 66, w = 70;
        float[] x = new float[n * 3 * h * w], y = new float[n * h * w];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = r.nextInt(10) == 0 ? 255 : r.nextInt(2);
        float[] losses = new float[3];
        try (ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.BATCH), be, 5);
             AdamW opt = new AdamW(m.params, 0.9f, 0.999f, 1e-8f, 1e-4f)) {
            Tensor images = be.upload(x, n, 3, h, w), targets = be.upload(y, n, h, w);
            for (int s = 0; s < 3; s++) losses[s] = (float) TrainStep.run(m, opt, images, targets, 1e-3).loss();
            TrainStep.forwardBackward(m, images, targets);
            float[] grads = be.download(m.params.flatGrads());
            be.release(images);
            be.release(targets);
            return new float[][] {losses, grads};
        }
    }
}
