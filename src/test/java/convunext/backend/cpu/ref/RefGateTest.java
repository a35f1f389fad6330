package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefGateTest {

    @Test void gateInGradients() {
        Random rnd = new Random(61);
        int c = 3;
        D g = D.uniform(rnd, -2, 2, 2, 3 * c, 5, 7), s = D.uniform(rnd, -2, 2, 2, c, 5, 7);
        D u = RefGate.gateIn(g, s);
        D r = GradCheck.weights(rnd, u);
        GradCheck.check("gateIn", new String[] {"g", "s"}, new D[] {g, s}, in -> RefGate.gateIn(in[0], in[1]), r,
                new D[] {RefGate.gateInBackward(r, 3 * c), r});
    }

    @Test void gateOutGradients() {
        Random rnd = new Random(62);
        int c = 3;
        D a = D.uniform(rnd, -3, 3, 2, c, 5, 7), s = D.uniform(rnd, -2, 2, 2, c, 5, 7);
        D g = D.uniform(rnd, -3, 3, 2, 3 * c, 5, 7);
        D out = RefGate.gateOut(a, s, g);
        D r = GradCheck.weights(rnd, out);
        D[] d = RefGate.gateOutBackward(a, s, g, r);
        GradCheck.check("gateOut", new String[] {"a", "s", "g"}, new D[] {a, s, g},
                in -> RefGate.gateOut(in[0], in[1], in[2]), r, d);
        for (int n = 0; n < 2; n++)
            for (int ch = 0; ch < c; ch++) assertEquals(0, d[2].get(n, ch, 2, 3), 0, "dg block 0 must be zero");
    }

    @Test void gateByHand() {
        // C = 1, one pixel: g = (g1, g2, g3) = (0.5, 0, 0.3), s = 2, a = 0.
        D g = new D(new double[] {0.5, 0, 0.3}, 1, 3, 1, 1), s = new D(new double[] {2}, 1, 1, 1, 1);
        assertEquals(2.5, RefGate.gateIn(g, s).data[0], 0);
        D out = RefGate.gateOut(new D(new double[] {0}, 1, 1, 1, 1), s, g);
        assertEquals(0.5 * 2 + 0.5 * Math.tanh(0.3), out.data[0], 1e-15);
        assertThrows(IllegalArgumentException.class, () -> RefGate.gateIn(new D(1, 2, 1, 1), s));
    }
}
