package convunext.nn;

import static org.junit.jupiter.api.Assertions.*;

import convunext.autograd.Tape;
import convunext.backend.Backend;
import convunext.backend.cpu.CpuBackend;
import convunext.backend.cpu.ref.RefBackend;
import convunext.backend.cuda.CudaBackend;
import convunext.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The folded inference model against the model's own eval forward (unfolded BatchNorm through the
 * tape), on weights and running statistics far from their initial values (so the fold is not an
 * identity), BatchNorm and LayerNorm, a size that needs no padding in the Up path and one that does.
 *
 * <p>Both forwards are float32 evaluations of the same function, so each is measured against the
 * same eval forward on the float64 oracle ({@link RefBackend}: every op exact, rounded once), and
 * the folded one may be at most {@link #foldedBound} less accurate than the unfolded one on the
 * same backend: err_folded ≤ 2·err_eval + 4u (u = 2⁻²⁴). Why 2: each fold re-rounds the layers it
 * merges once, a rounding of the size the unfolded forward already has; measured err_folded /
 * err_eval 0.46–1.28 over eight shapes on the CPU and the emulator (BatchNorm: both 1.4–3.4e-7;
 * LayerNorm at base_c 4: both 1e-6–2e-5, because LayerNorm over 4 channels divides by a small
 * σ and amplifies every rounding before it). A wrong fold (a missed bias, a transposed product)
 * is off by orders of magnitude. The 4u floor covers shapes where the eval forward happens to
 * round to the oracle's bits.
 */
public class InferenceModelTest {
    /** float32's unit roundoff. */
    static final double U = 0x1p-24;

    /** How much less accurate than the unfolded eval forward the folded one may be (see the class comment). */
    public static double foldedBound(double evalErr) { return 2 * evalErr + 4 * U; }

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

    /** Logits of the eval forward on the float64 oracle for a model of cfg built and perturbed as here. */
    public static float[] oracleLogits(ConvUNeXt.Config cfg, long seed, long perturbSeed, float[] x, int n, int h, int w) {
        Backend be = new RefBackend();
        try (ConvUNeXt m = new ConvUNeXt(cfg, be, seed)) {
            perturb(m, perturbSeed);
            Tensor in = be.upload(x, n, cfg.inChannels(), h, w);
            try (Tape t = new Tape(be, false)) {
                return be.download(m.forward(t, in, false).value);
            }
        }
    }

    /** Normwise relative error max|got − want| / max|want|. */
    public static double relErr(float[] got, float[] want) {
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
        ConvUNeXt.Config cfg = new ConvUNeXt.Config(3, 3, 4, norm);
        try (ConvUNeXt m = new ConvUNeXt(cfg, be, 11)) {
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
            float[] exact = oracleLogits(cfg, 11, 12, x, n, h, w);
            double ee = relErr(want, exact), ef = relErr(got, exact);
            assertTrue(ef <= foldedBound(ee), norm + " " + n + "x" + h + "x" + w + ": folded forward's relative error " + ef
                    + " against the oracle, eval forward's " + ee + ": more than " + foldedBound(ee));
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
