package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefLinearGeluTest {

    @Test void forwardIsGeluOfLinear() {
        Random rnd = new Random(71);
        D x = D.uniform(rnd, -2, 2, 2, 3, 5, 7), w = D.uniform(rnd, -1, 1, 7, 3), b = D.uniform(rnd, -1, 1, 7);
        D[] hp = RefLinearGelu.linearGelu(x, w, b, true);
        D pre = RefLinear.linear(x, w, b);
        assertEquals(0, hp[1].maxAbsDiff(pre), 0);
        assertEquals(0, hp[0].maxAbsDiff(RefGelu.gelu(pre)), 0);
        assertNull(RefLinearGelu.linearGelu(x, w, null, false)[1]);
    }

    /** dpre is the gradient of Σ r⊙linear(gelu(pre), w) with respect to pre (finite differences). */
    @Test void backwardDataGeluGradient() {
        Random rnd = new Random(72);
        D pre = D.uniform(rnd, -3, 3, 2, 6, 5, 3), w = D.uniform(rnd, -1, 1, 4, 6), b = D.uniform(rnd, -1, 1, 4);
        D y = RefLinear.linear(RefGelu.gelu(pre), w, b);
        D r = GradCheck.weights(rnd, y);
        GradCheck.check("linearBackwardDataGelu", new String[] {"pre"}, new D[] {pre},
                in -> RefLinear.linear(RefGelu.gelu(in[0]), w, b), r,
                new D[] {RefLinearGelu.linearBackwardDataGelu(w, r, pre)});
    }
}
