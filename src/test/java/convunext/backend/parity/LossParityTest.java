package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import convunext.backend.LossResult;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The loss (cross-entropy with ignore 255 + soft Dice, value and gradient) on every backend
 * against the float64 oracle: ignored pixels and an ignored band, a class missing from an image,
 * several chunks per image. The CPU sums in double: loss, ce and dice to 1e-9 relative, dlogits
 * 1e-6 normwise; the CUDA kernels: 1e-5 on the loss and its parts, 1e-4 on the gradient.
 */
class LossParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void ignoredBand(String b) throws Exception { loss(b, 41, 2, 3, 13, 17, false, 1.0, 2, 0); }

    @OnEveryBackend void twoClasses(String b) throws Exception { loss(b, 71, 2, 2, 13, 17, false, 2.0, 1, 10); }

    @OnEveryBackend void threeClassesMissingOne(String b) throws Exception { loss(b, 72, 2, 3, 9, 11, true, 2.0, 1, 10); }

    @OnEveryBackend void manyChunks(String b) throws Exception { loss(b, 73, 1, 4, 40, 37, false, 2.0, 1, 10); }

    /**
     * Rows [0, ignoredRows) of image 0 are ignored (row 2 when ignoredRows is 1), and 1 in
     * {@code ignoreOneIn} other pixels (none when 0); class 1 is missing from image 0 when asked.
     */
    private static void loss(String backend, long seed, int n, int k, int h, int w, boolean dropClass1FromImage0,
                             double logitScale, int ignoredRows, int ignoreOneIn) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "loss n" + n + " k" + k + " " + h + "x" + w;
            float[] t = new float[n * h * w];
            for (int i = 0; i < t.length; i++) {
                int cls = p.rnd.nextInt(k);
                if (dropClass1FromImage0 && i < h * w && cls == 1) cls = 0;
                t[i] = ignoreOneIn > 0 && p.rnd.nextInt(ignoreOneIn) == 0 ? 255f : cls;
            }
            if (ignoredRows == 1) for (int x = 0; x < w; x++) t[2 * w + x] = 255f;
            else for (int i = 0; i < ignoredRows * w; i++) t[i] = 255f;
            Tensor[] logits = p.normalT(logitScale, 0, n, k, h, w), target = p.up(t, n, h, w);
            LossResult got = p.be.ceDiceLoss(logits[0], target[0]), ref = p.ref.ceDiceLoss(logits[1], target[1]);
            double tol = p.tol(1e-9, 1e-5);
            assertEquals(ref.loss(), got.loss(), tol * Math.abs(ref.loss()), tag + " loss [" + backend + "]");
            assertEquals(ref.ce(), got.ce(), tol * Math.abs(ref.ce()), tag + " ce [" + backend + "]");
            assertEquals(ref.dice(), got.dice(), tol * Math.max(Math.abs(ref.dice()), 1e-3), tag + " dice [" + backend + "]");
            p.check(tag + " dlogits", got.dlogits(), ref.dlogits(), p.tol(1e-6, 1e-4));
        }
    }
}
