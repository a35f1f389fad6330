package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefAdamWTest {

    /** Three steps against the textbook form (m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)), fresh gradients each step. */
    @Test void threeStepsMatchHandRolledSequence() {
        Random rnd = new Random(91);
        int n = 37;
        double lr = 1.5e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
        D p = D.uniform(rnd, -1, 1, n), m = new D(n), v = new D(n);
        double[] ep = p.data.clone(), em = new double[n], ev = new double[n];
        for (int t = 1; t <= 3; t++) {
            D g = D.uniform(rnd, -2, 2, n);
            RefAdamW.adamw(p, g, m, v, lr, b1, b2, eps, wd, t);
            for (int i = 0; i < n; i++) {
                ep[i] -= lr * wd * ep[i];
                em[i] = b1 * em[i] + (1 - b1) * g.data[i];
                ev[i] = b2 * ev[i] + (1 - b2) * g.data[i] * g.data[i];
                double mh = em[i] / (1 - Math.pow(b1, t)), vh = ev[i] / (1 - Math.pow(b2, t));
                ep[i] -= lr * mh / (Math.sqrt(vh) + eps);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(em[i], m.data[i], 1e-15, "m after step " + t + " at " + i);
                assertEquals(ev[i], v.data[i], 1e-15, "v after step " + t + " at " + i);
                assertEquals(ep[i], p.data[i], 1e-14, "p after step " + t + " at " + i);
            }
        }
    }

    /** Step 1 from zero moments moves each weight by lr·g/(|g|+eps) after the decay. */
    @Test void firstStepClosedForm() {
        D p = new D(new double[] {0.5, -2, 1}, 3), g = new D(new double[] {0.1, 3, -0.02}, 3);
        RefAdamW.adamw(p, g, new D(3), new D(3), 0.01, 0.9, 0.999, 1e-8, 0.1, 1);
        double[] p0 = {0.5, -2, 1}, g0 = {0.1, 3, -0.02};
        for (int i = 0; i < 3; i++)
            assertEquals(p0[i] * (1 - 0.001) - 0.01 * g0[i] / (Math.abs(g0[i]) + 1e-8), p.data[i], 1e-15);
    }
}
