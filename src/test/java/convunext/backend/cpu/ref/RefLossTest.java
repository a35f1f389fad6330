package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import convunext.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class RefLossTest {

    /** Random integer targets in [0,k), with a fraction of pixels set to 255. */
    private static D targets(Random rnd, int n, int h, int w, int k, double ignored) {
        D t = new D(n, h, w);
        for (int i = 0; i < t.data.length; i++) t.data[i] = rnd.nextDouble() < ignored ? 255 : rnd.nextInt(k);
        return t;
    }

    private static void gradCheck(String what, D logits, D target) {
        RefLoss.Result res = RefLoss.ceDiceLoss(logits, target);
        assertEquals(res.ce() + res.dice(), res.loss(), 1e-15);
        D one = new D(new double[] {1}, 1);
        GradCheck.check("ceDiceLoss " + what, new String[] {"logits"}, new D[] {logits},
                in -> new D(new double[] {RefLoss.ceDiceLoss(in[0], target).loss()}, 1), one,
                new D[] {res.dlogits()});
    }

    @Test void gradientsWithIgnoredPixelsAndAMissingClass() {
        Random rnd = new Random(81);
        int n = 2, k = 3, h = 5, w = 7;
        D logits = D.uniform(rnd, -3, 3, n, k, h, w);
        D target = targets(rnd, n, h, w, k, 0.2);
        // Image 1 has no pixel of class 2 (Σt = 0 for that image and class).
        for (int p = 0; p < h * w; p++) if (target.data[h * w + p] == 2) target.data[h * w + p] = 0;
        int ignored = 0;
        for (double t : target.data) if (t == 255) ignored++;
        assertTrue(ignored > 0, "the test needs ignored pixels");
        gradCheck("mixed", logits, target);
        // Ignored pixels get no gradient.
        RefLoss.Result r = RefLoss.ceDiceLoss(logits, target);
        for (int in = 0; in < n; in++)
            for (int p = 0; p < h * w; p++)
                if (target.data[in * h * w + p] == 255)
                    for (int c = 0; c < k; c++) assertEquals(0, r.dlogits().data[(in * k + c) * h * w + p], 0);
    }

    @Test void gradientsWithAWhollyIgnoredImage() {
        Random rnd = new Random(82);
        int n = 2, k = 4, h = 3, w = 5;
        D logits = D.uniform(rnd, -2, 2, n, k, h, w);
        D target = targets(rnd, n, h, w, k, 0.1);
        for (int p = 0; p < h * w; p++) target.data[p] = 255;   // image 0: Σp+Σt = 0 → Dice 1
        gradCheck("empty image", logits, target);
    }

    /** Uniform logits, K = 2, one image, targets (0, 1, 255): p = 1/2 everywhere kept. */
    @Test void valueByHand() {
        D logits = new D(new double[] {0.3, 0.3, 0.3, 0.3, 0.3, 0.3}, 1, 2, 1, 3);
        D target = new D(new double[] {0, 1, 255}, 1, 1, 3);
        RefLoss.Result r = RefLoss.ceDiceLoss(logits, target);
        assertEquals(Math.log(2), r.ce(), 1e-15);
        // Each class: I = 1/2, S = Σp + Σt = 1 + 1 → d = (1 + 1e-6)/(2 + 1e-6).
        double d = (1 + 1e-6) / (2 + 1e-6);
        assertEquals(1 - d, r.dice(), 1e-15);
        assertEquals(Math.log(2) + 1 - d, r.loss(), 1e-15);
    }

    @Test void allIgnoredGivesZeroCeAndDiceOne() {
        D logits = D.uniform(new Random(83), -1, 1, 1, 3, 2, 2);
        D target = new D(new double[] {255, 255, 255, 255}, 1, 2, 2);
        RefLoss.Result r = RefLoss.ceDiceLoss(logits, target);
        assertEquals(0, r.ce(), 0);
        assertEquals(0, r.dice(), 1e-15);
        for (double g : r.dlogits().data) assertEquals(0, g, 0);
    }

    @Test void rejectsTargetValuesThatAreNoClass() {
        D logits = new D(1, 2, 1, 2);
        assertThrows(IllegalArgumentException.class, () -> RefLoss.ceDiceLoss(logits, new D(new double[] {0, 2}, 1, 1, 2)));
        assertThrows(IllegalArgumentException.class, () -> RefLoss.ceDiceLoss(logits, new D(new double[] {0, 0.5}, 1, 1, 2)));
    }

    /**
     * Against PyTorch: the golden fixture's float64 logits and target give its loss, and since
     * out_conv is the last layer, d loss / d out_conv.bias[k] = Σ_{n,y,x} dlogits[n,k,y,x].
     */
    @Test void matchesPyTorchGolden() {
        Path file = Path.of("testdata/golden/convunext_c8_in3_k2_2x64x64.safetensors");
        Assumptions.assumeTrue(Files.exists(file), "golden fixture not present");
        SafeTensors.Contents c = SafeTensors.read(file);
        SafeTensors.Entry l = c.require("logits", file), t = c.require("target", file);
        RefLoss.Result r = RefLoss.ceDiceLoss(new D(l.data(), l.shape()), new D(t.data(), t.shape()));
        assertEquals(c.require("loss", file).data()[0], r.loss(), 1e-12);
        double[] gb = c.require("grad.out_conv.0.bias", file).data();
        int n = l.shape()[0], k = l.shape()[1], hw = l.shape()[2] * l.shape()[3];
        for (int ch = 0; ch < k; ch++) {
            double s = 0;
            for (int in = 0; in < n; in++)
                for (int p = 0; p < hw; p++) s += r.dlogits().data[(in * k + ch) * hw + p];
            // the fixture stores gradients as F32: rounded by at most 2^-24 relative
            assertEquals(gb[ch], s, 0x1p-24 * Math.abs(gb[ch]) + 1e-12, "d loss / d out_conv.bias[" + ch + "]");
        }
    }
}
