package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import convunext.backend.LossResult;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * loss.cu (CE with ignore 255 + soft Dice, value and gradient) vs the float64 oracle: ignored
 * pixels, a class missing from an image, several chunks per image. Tolerance 1e-5 relative on
 * the loss and its parts, 1e-4 on the gradient.
 */
class LossParityTest {
    static Parity p;

    @BeforeAll static void open() { p = new Parity(71); }

    @AfterAll static void close() { p.close(); }

    void lossCase(int n, int k, int h, int w, boolean dropClass1FromImage0) {
        String tag = "ceDice n" + n + " k" + k + " " + h + "x" + w;
        float[] t = new float[n * h * w];
        for (int i = 0; i < t.length; i++) {
            int cls = p.rnd.nextInt(k);
            if (dropClass1FromImage0 && i < h * w && cls == 1) cls = 0;
            t[i] = p.rnd.nextInt(10) == 0 ? 255f : cls;
        }
        for (int x = 0; x < w; x++) t[2 * w + x] = 255f;   // an ignored row in image 0
        Tensor[] logits = p.up(p.gauss(n * k * h * w, 2.0, 0.0), n, k, h, w), target = p.up(t, n, h, w);
        LossResult rc = p.cuda.ceDiceLoss(logits[0], target[0]);
        LossResult rr = p.ref.ceDiceLoss(logits[1], target[1]);
        assertEquals(rr.loss(), rc.loss(), 1e-5 * Math.abs(rr.loss()), tag + " loss");
        assertEquals(rr.ce(), rc.ce(), 1e-5 * Math.abs(rr.ce()), tag + " ce");
        assertEquals(rr.dice(), rc.dice(), 1e-5 * Math.max(Math.abs(rr.dice()), 1e-3), tag + " dice");
        p.check(tag + " dlogits", rc.dlogits(), rr.dlogits(), 1e-4);
    }

    @Test void twoClasses() { lossCase(2, 2, 13, 17, false); }

    @Test void threeClassesMissingOne() { lossCase(2, 3, 9, 11, true); }

    @Test void manyChunks() { lossCase(1, 4, 40, 37, false); }
}
