package convunext.backend.cpu;

import static convunext.backend.cpu.Parity.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import convunext.backend.LossResult;
import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefAdamW;
import convunext.backend.cpu.ref.RefLoss;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * ce_dice against RefLoss (loss, ce, dice to 1e-9 relative: all sums in double; dlogits 1e-6
 * normwise) with a band of ignored pixels, and three AdamW steps against RefAdamW (1e-6).
 */
class LossAdamWParityTest {
    @Test void ceDiceWithIgnoredPixels() {
        Random r = new Random(41);
        int n = 2, k = 3, h = 13, w = 17;
        Tensor logits = randn(r, 0, n, k, h, w);
        float[] t = new float[n * h * w];
        for (int i = 0; i < t.length; i++) t[i] = i < 2 * w ? 255 : r.nextInt(k);
        Tensor target = BE.upload(t, n, h, w);
        RefLoss.Result ref = RefLoss.ceDiceLoss(d(logits), d(target));
        LossResult got = BE.ceDiceLoss(logits, target);
        assertEquals(ref.loss(), got.loss(), 1e-9 * Math.abs(ref.loss()), "loss");
        assertEquals(ref.ce(), got.ce(), 1e-9 * Math.abs(ref.ce()), "ce");
        assertEquals(ref.dice(), got.dice(), 1e-9 * Math.abs(ref.dice()), "dice");
        check("dlogits", ref.dlogits(), got.dlogits(), 1e-6);
    }

    @Test void adamwThreeSteps() {
        Random r = new Random(42);
        int len = 1001;
        Tensor p = randn(r, 0, len), m = randn(r, 0, len), v = uniform(r, 0, 0.1, len);
        D rp = d(p), rm = d(m), rv = d(v);
        for (int step = 1; step <= 3; step++) {
            Tensor g = randn(r, 0.1, len);
            RefAdamW.adamw(rp, d(g), rm, rv, 1e-3, 0.9, 0.999, 1e-8, 0.05, step);
            BE.adamw(p, g, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, step);
        }
        check("adamw p", rp, p, 1e-6);
        check("adamw m", rm, m, 1e-6);
        check("adamw v", rv, v, 1e-6);
    }
}
