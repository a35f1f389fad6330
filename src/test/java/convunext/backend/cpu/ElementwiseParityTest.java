package convunext.backend.cpu;

import static convunext.backend.cpu.Parity.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefAdd;
import convunext.backend.cpu.ref.RefGate;
import convunext.backend.cpu.ref.RefGelu;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * gelu, add and the gate against the oracle. GELU is checked per element: forward relative error
 * ≤ 1e-6 of |gelu(x)| (the far negative tail included), backward error ≤ 1e-6·|dy|. add: 1e-7,
 * gate: 1e-6 normwise.
 */
class ElementwiseParityTest {
    @Test void geluPerElement() {
        Random r = new Random(21);
        Tensor x = uniform(r, -12, 8, 2, 5, 13, 17), dy = randn(r, 0, 2, 5, 13, 17);
        D y = RefGelu.gelu(d(x)), dx = RefGelu.geluBackward(d(x), d(dy));
        Tensor gy = BE.gelu(x), gdx = BE.geluBackward(x, dy);
        nonTrivial("gelu", y);
        for (int i = 0; i < y.data.length; i++) {
            double e = Math.abs(gy.array()[gy.off() + i] - y.data[i]);
            assertTrue(e <= 1e-6 * Math.abs(y.data[i]) + Double.MIN_NORMAL,
                    "gelu(" + x.array()[x.off() + i] + "): " + gy.array()[gy.off() + i] + " vs " + y.data[i]);
            double eb = Math.abs(gdx.array()[gdx.off() + i] - dx.data[i]);
            assertTrue(eb <= 1e-6 * Math.abs(dy.array()[dy.off() + i]) + Double.MIN_NORMAL,
                    "gelu' at " + x.array()[x.off() + i] + ": " + gdx.array()[gdx.off() + i] + " vs " + dx.data[i]);
        }
    }

    @Test void add() {
        Random r = new Random(22);
        Tensor a = randn(r, 0, 2, 5, 13, 17), b = randn(r, 1, 2, 5, 13, 17);
        check("add", RefAdd.add(d(a), d(b)), BE.add(a, b), 1e-7);
    }

    @Test void gate() {
        Random r = new Random(23);
        int n = 2, c = 5, h = 13, w = 17;
        Tensor g = randn(r, 0, n, 3 * c, h, w), s = randn(r, 0.3, n, c, h, w), a = randn(r, 0, n, c, h, w);
        Tensor dout = randn(r, 0.1, n, c, h, w), du = randn(r, 0, n, c, h, w);
        check("gateIn", RefGate.gateIn(d(g), d(s)), BE.gateIn(g, s), 1e-6);
        check("gateOut", RefGate.gateOut(d(a), d(s), d(g)), BE.gateOut(a, s, g), 1e-6);
        D[] ref = RefGate.gateOutBackward(d(a), d(s), d(g), d(dout));
        Tensor[] got = BE.gateOutBackward(a, s, g, dout);
        check("gateOut da", ref[0], got[0], 1e-6);
        check("gateOut ds", ref[1], got[1], 1e-6);
        check("gateOut dg", ref[2], got[2], 1e-6);
        check("gateIn dg", RefGate.gateInBackward(d(du), 3 * c), BE.gateInBackward(du, 3 * c), 0);
    }
}
