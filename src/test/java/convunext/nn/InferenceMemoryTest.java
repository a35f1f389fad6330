package convunext.nn;

import static org.junit.jupiter.api.Assertions.*;

import convunext.autograd.Tape;
import convunext.backend.cuda.CudaBackend;
import convunext.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * In inference the tape frees each activation once nothing needs it: the peak device memory of an
 * eval forward is well below that of a recorded forward (which must keep everything for backward),
 * and the logits are identical.
 */
class InferenceMemoryTest {
    @Test void evalForwardHoldsOnlyLiveActivations() {
        try (CudaBackend be = CudaBackend.open("emulated");
             ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.LAYER), be, 3)) {
            float[] x = new float[3 * 64 * 80];
            SplittableRandom r = new SplittableRandom(5);
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            Tensor in = be.upload(x, 1, 3, 64, 80);
            long base = be.pool().peakBytesInUse();
            be.pool().resetPeak();
            float[] recorded;
            try (Tape t = new Tape(be, true)) {
                recorded = be.download(m.forward(t, in, false).value);
            }
            long peakRecorded = be.pool().peakBytesInUse() - base;
            be.pool().resetPeak();
            float[] inferred;
            try (Tape t = new Tape(be, false)) {
                inferred = be.download(m.forward(t, in, false).value);
            }
            long peakInference = be.pool().peakBytesInUse() - base;
            assertArrayEquals(recorded, inferred);
            assertTrue(peakInference < 0.5 * peakRecorded, "inference peak " + peakInference + " B vs recorded " + peakRecorded + " B");
        }
    }
}
