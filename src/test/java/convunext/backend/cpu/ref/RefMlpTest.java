package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefMlpTest {

    @Test void forwardIsLinearGeluLinear() {
        Random rnd = new Random(81);
        D x = D.uniform(rnd, -2, 2, 2, 3, 5, 7), w1 = D.uniform(rnd, -1, 1, 9, 3), b1 = D.uniform(rnd, -1, 1, 9);
        D w2 = D.uniform(rnd, -1, 1, 4, 9), b2 = D.uniform(rnd, -1, 1, 4);
        D[] r = RefMlp.mlp(x, w1, b1, w2, b2, true);
        D pre = RefLinear.linear(x, w1, b1);
        assertEquals(0, r[2].maxAbsDiff(pre), 0);
        assertEquals(0, r[1].maxAbsDiff(RefGelu.gelu(pre)), 0);
        assertEquals(0, r[0].maxAbsDiff(RefLinear.linear(RefGelu.gelu(pre), w2, b2)), 0);
        D[] inf = RefMlp.mlp(x, w1, null, w2, null, false);
        assertNull(inf[1]);
        assertNull(inf[2]);
    }

    /** Every gradient is that of Σ r⊙mlp(x, w1, b1, w2, b2) (finite differences). */
    @Test void backwardGradients() {
        Random rnd = new Random(82);
        D x = D.uniform(rnd, -2, 2, 2, 3, 4, 3), w1 = D.uniform(rnd, -1, 1, 7, 3), b1 = D.uniform(rnd, -1, 1, 7);
        D w2 = D.uniform(rnd, -1, 1, 5, 7), b2 = D.uniform(rnd, -1, 1, 5);
        D[] fwd = RefMlp.mlp(x, w1, b1, w2, b2, true);
        D r = GradCheck.weights(rnd, fwd[0]);
        D[] g = RefMlp.mlpBackward(x, w1, w2, r, fwd[1], fwd[2], true, true, true);
        GradCheck.check("mlp", new String[] {"x", "w1", "b1", "w2", "b2"}, new D[] {x, w1, b1, w2, b2},
                in -> RefMlp.mlp(in[0], in[1], in[2], in[3], in[4], false)[0], r, g);
        D[] noBias = RefMlp.mlpBackward(x, w1, w2, r, fwd[1], fwd[2], false, false, false);
        assertNull(noBias[0]);
        assertNull(noBias[2]);
        assertNull(noBias[4]);
    }

    @Test void shapeMismatchNamesOp() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RefMlp.mlpBackward(new D(1, 3, 2, 2), new D(6, 3), new D(3, 6), new D(1, 3, 2, 2), new D(1, 5, 2, 2),
                        new D(1, 5, 2, 2), true, true, true));
        assertTrue(e.getMessage().startsWith("mlpBackward"), e.getMessage());
    }
}
