package convunext.train;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.cpu.CpuBackend;
import convunext.backend.cuda.CudaBackend;
import convunext.nn.ConvUNeXt;
import convunext.nn.InferenceModelTest;
import convunext.nn.Norm;
import convunext.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Predictor (what predict, evaluate, the API, Spark and validation run) uses the BatchNorm-folded
 * model on every backend: its probabilities match the softmax of the unfolded eval forward
 * (TrainStep.inferLogits). Bound: with e the unfolded logits' normwise error against the float64
 * oracle, the folded ones are within foldedBound(e) of the oracle (InferenceModelTest), so within
 * (e + foldedBound(e)) × max|logit| of the unfolded ones; softmax's Jacobian diag(p) − p pᵀ has
 * ∞-norm ≤ 1/2, so each probability moves by at most half that; 1e-6 more for float32 softmax and
 * blending.
 */
class PredictorFoldTest {

    private static void check(Backend be, Norm norm) {
        int c = 3, h = 72, w = 88;
        ConvUNeXt.Config cfg = new ConvUNeXt.Config(c, 2, 4, norm);
        try (ConvUNeXt m = new ConvUNeXt(cfg, be, 21)) {
            InferenceModelTest.perturb(m, 22);
            SplittableRandom r = new SplittableRandom(23);
            float[] img = new float[c * h * w];
            for (int i = 0; i < img.length; i++) img[i] = (float) r.nextGaussian();
            float[] logits;
            Tensor x = be.upload(img, 1, c, h, w);
            try {
                logits = TrainStep.inferLogits(m, x);
            } finally {
                be.release(x);
            }
            double zmax = 0;
            for (float z : logits) zmax = Math.max(zmax, Math.abs(z));
            float[] want = Predictor.softmax(logits.clone(), h * w);
            float[] got;
            try (Predictor p = new Predictor(m, 128, 32, false)) {   // one window: the whole image
                got = p.probabilities(img, c, h, w);
                assertArrayEquals(got, p.probabilities(img, c, h, w), 0f, "a second call (replayed) gives the same bits");
            }
            double e = InferenceModelTest.relErr(logits, InferenceModelTest.oracleLogits(cfg, 21, 22, img, 1, h, w));
            double bound = (e + InferenceModelTest.foldedBound(e)) * zmax / 2 + 1e-6, worst = 0;
            for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((double) got[i] - want[i]));
            assertTrue(worst <= bound, be.name() + " " + norm + ": folded probabilities differ by " + worst + " > " + bound);
        }
    }

    @Test void cpuMatchesTheEvalForward() {
        check(new CpuBackend(), Norm.BATCH);
    }

    @Test void emulatedMatchesTheEvalForward() {
        try (CudaBackend be = CudaBackend.open("emulated")) {
            check(be, Norm.BATCH);
            check(be, Norm.LAYER);
        }
    }
}
