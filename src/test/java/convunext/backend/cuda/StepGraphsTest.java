package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.TrainStep;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CUDA Graphs for repeated steps (StepGraphs) on the test device (the emulator in CI: its graphs
 * are recorded call lists, the same Java path): a captured and replayed training step gives the
 * eager steps' results bit for bit (AdamW's per-step learning rate and bias corrections come from
 * device memory, so nothing is stale in a replay); a host scalar baked into a captured launch, or a
 * read inside the step, is detected and the step still computes the right thing, eagerly.
 */
class StepGraphsTest {

    static String lastStats = "";

    private static float[][] train(boolean graphs, int steps, long[] counts) {
        String old = System.getProperty("convunext.cuda.graphs");
        System.setProperty("convunext.cuda.graphs", Boolean.toString(graphs));
        try (CudaBackend be = CudaBackend.open(Parity.DEVICE)) {
            ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.BATCH), be, 5);
            Random r = new Random(11);
            float[] losses = new float[steps];
            try (AdamW opt = AdamW.withDefaults(m.params)) {
                for (int s = 0; s < steps; s++) {
                    float[] x = new float[3 * 64 * 64], y = new float[64 * 64];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    for (int i = 0; i < y.length; i++) y[i] = (i / 64 + i % 64) % 5 == 0 ? 1 : 0;
                    Tensor xt = be.upload(x, 1, 3, 64, 64), yt = be.upload(y, 1, 64, 64);
                    // a learning rate that changes every step, as the poly schedule does
                    losses[s] = (float) TrainStep.run(m, opt, xt, yt, 1e-3 * (1 - s / (double) (steps + 1))).loss();
                    be.release(xt);
                    be.release(yt);
                }
                if (counts != null) System.arraycopy(be.graphCounts(), 0, counts, 0, 3);
                lastStats = be.graphStats();
                return new float[][]{losses, be.download(m.params.flatParams())};
            }
        } finally {
            if (old == null) System.clearProperty("convunext.cuda.graphs");
            else System.setProperty("convunext.cuda.graphs", old);
        }
    }

    @Test void replayedTrainingStepsMatchEagerOnesBitForBit() {
        int steps = 5;
        long[] counts = new long[3];
        float[][] eager = train(false, steps, null), graphed = train(true, steps, counts);
        assertArrayEquals(eager[0], graphed[0], "losses");
        assertArrayEquals(eager[1], graphed[1], "parameters after " + steps + " steps");
        // step 1 fills the pool, step 2 shows it steady (no new memory), step 3 is captured, 4-5 replay
        String stats = lastStats;
        assertEquals(1, counts[0], () -> "graphs captured: " + stats);
        assertEquals(steps - 3, counts[1], () -> "replays: " + stats);
        assertEquals(0, counts[2], () -> "misses: " + stats);
    }

    /** A per-step value passed as a kernel argument is caught, and the step still runs right. */
    @Test void aHostScalarBakedIntoALaunchIsDetected() {
        try (CudaBackend be = CudaBackend.open(Parity.DEVICE)) {
            Tensor t = be.zeros(1000);
            for (int s = 1; s <= 5; s++) {
                try (Backend.StepScope scope = be.step("fill")) {
                    be.fill(t, s);   // fill_forward(t, v = s, n): a host scalar in the launch
                }
                float[] back = be.download(t);
                for (float v : back) assertEquals(s, v, "step " + s);
            }
            String stats = be.graphStats();
            assertTrue(stats.contains("host scalar baked into a captured launch"), stats);
            long[] c = be.graphCounts();
            assertEquals(0, c[1], "no replay may run with a stale scalar: " + stats);
        }
    }

    /** A read of device results inside a step ends its capture; the work before the read still ran. */
    @Test void aReadInsideTheStepEndsTheCapture() {
        try (CudaBackend be = CudaBackend.open(Parity.DEVICE)) {
            Tensor a = be.upload(new float[]{1, 2, 3}, 3), b = be.upload(new float[]{10, 20, 30}, 3);
            for (int s = 0; s < 3; s++) {
                float[] got;
                try (Backend.StepScope scope = be.step("add")) {
                    Tensor c = be.add(a, b);
                    got = be.download(c);
                    be.release(c);
                }
                assertArrayEquals(new float[]{11, 22, 33}, got);
            }
            assertTrue(be.graphStats().contains("a copy to the host inside the step"), be.graphStats());
        }
    }
}
