package convunext.nn;

import static org.junit.jupiter.api.Assertions.*;

import convunext.autograd.Tape;
import convunext.backend.Backend;
import convunext.backend.cpu.CpuBackend;
import convunext.backend.cuda.CudaBackend;
import convunext.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The folded inference model against the model's own eval forward (unfolded BatchNorm through the
 * tape), on weights and running statistics far from their initial values (so the fold is not an
 * identity), BatchNorm and LayerNorm, a size that needs no padding in the Up path and one that does.
 * Normwise relative error ≤ 2e-6: folding only re-rounds each BatchNorm'd layer once (measured
 * 1e-7 … 5e-7 here; float32 spacing is 6e-8).
 */
public class InferenceModelTest {
    /** The folded forward's normwise relative error bound against the eval forward (see the class comment). */
    public static final double TOL = 2e-6;

    /** Weights, γ, β, running mean and variance away from their defaults. */
    public static void perturb(ConvUNeXt m, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (ParamStore.Entry e : m.params.entries().values()) {
            float[] v = m.params.read(e);
            switch (e.kind) {
                case PARAM -> {   // the norms' γ and β; other weights keep their random init
                    if (!e.name.matches("(in_conv\\.1|down\\d\\.0|.*\\.norm\\d?)\\.(weight|bias)")) continue;
                    boolean gamma = e.name.endsWith("weight");
                    for (int i = 0; i < v.length; i++) v[i] = (float) (gamma ? 0.5 + r.nextDouble() : 0.3 * r.nextGaussian());
                }
                case RUNNING_MEAN -> { for (int i = 0; i < v.length; i++) v[i] = (float) (0.5 * r.nextGaussian()); }
                case RUNNING_VAR -> { for (int i = 0; i < v.length; i++) v[i] = (float) (0.3 + 2 * r.nextDouble()); }
                case NUM_BATCHES -> { continue; }
            }
            m.params.write(e, v, e.shape, "test");
        }
    }

    static double relErr(float[] got, float[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            assertTrue(Float.isFinite(got[i]), "non-finite logit at " + i);
            num = Math.max(num, Math.abs((double) got[i] - want[i]));
            den = Math.max(den, Math.abs(want[i]));
        }
        assertTrue(den > 0, "all-zero reference");
        return num / den;
    }

    private static void compare(Backend be, Norm norm, int n, int h, int w) {
        try (ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 3, 4, norm), be, 11)) {
            perturb(m, 12);
            SplittableRandom r = new SplittableRandom(13);
            float[] x = new float[n * 3 * h * w];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            Tensor in = be.upload(x, n, 3, h, w);
            float[] want;
            try (Tape t = new Tape(be, false)) {
                want = be.download(m.forward(t, in, false).value);
            }
            float[] got;
            try (InferenceModel im = InferenceModel.of(m)) {
                Tensor y = im.forward(in);
                assertArrayEquals(new int[] {n, 3, h, w}, y.shape());
                got = be.download(y);
                be.release(y);
            }
            be.release(in);
            double e = relErr(got, want);
            assertTrue(e <= TOL, norm + " " + n + "x" + h + "x" + w + ": folded vs eval forward, relative error " + e);
        }
    }

    @Test void batchNormFolded() {
        Backend be = new CpuBackend();
        compare(be, Norm.BATCH, 2, 64, 64);
        compare(be, Norm.BATCH, 1, 72, 88);   // odd sizes on the way up: zero padding after the upsample
    }

    @Test void layerNormUnfolded() {
        Backend be = new CpuBackend();
        compare(be, Norm.LAYER, 1, 64, 80);
        compare(be, Norm.LAYER, 1, 65, 70);
    }

    /** The same comparison on the emulated CUDA device (Predictor runs the folded model on every backend). */
    @Test void emulatedDeviceMatchesTheEvalForward() {
        try (CudaBackend be = CudaBackend.open("emulated")) {
            compare(be, Norm.BATCH, 1, 72, 88);
            compare(be, Norm.LAYER, 1, 65, 70);
        }
    }

    /** Everything the forward allocates is released again (device pool bytes in use back to the start). */
    @Test void releasesEveryActivation() {
        try (CudaBackend be = CudaBackend.open("emulated");
             ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.BATCH), be, 3)) {
            Tensor in = be.upload(new float[3 * 64 * 72], 1, 3, 64, 72);
            try (InferenceModel im = InferenceModel.of(m)) {
                be.release(im.forward(in));   // warm the pool's buckets
                long before = be.pool().bytesInUse();
                Tensor y = im.forward(in);
                be.release(y);
                assertEquals(before, be.pool().bytesInUse(), "bytes in use after a forward and releasing its logits");
            }
            compare(be, Norm.BATCH, 1, 64, 72);
        }
    }

    @Test void refusesSmallInput() {
        Backend be = new CpuBackend();
        try (ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 4, Norm.BATCH), be, 3); InferenceModel im = InferenceModel.of(m)) {
            Tensor in = be.upload(new float[3 * 32 * 64], 1, 3, 32, 64);
            var e = assertThrows(IllegalArgumentException.class, () -> im.forward(in));
            assertTrue(e.getMessage().contains("64"), e.getMessage());
        }
    }
}
