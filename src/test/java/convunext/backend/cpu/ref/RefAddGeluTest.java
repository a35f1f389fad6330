package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefAddGeluTest {

    @Test void forwardIsGeluOfAdd() {
        Random rnd = new Random(81);
        D a = D.uniform(rnd, -3, 3, 2, 3, 5, 7), b = D.uniform(rnd, -2, 2, 2, 3, 5, 7);
        D[] op = RefAddGelu.addGelu(a, b, true);
        D pre = RefAdd.add(a, b);
        assertEquals(0, op[1].maxAbsDiff(pre), 0);
        assertEquals(0, op[0].maxAbsDiff(RefGelu.gelu(pre)), 0);
        D[] noPre = RefAddGelu.addGelu(a, b, false);
        assertNull(noPre[1]);
        assertEquals(0, noPre[0].maxAbsDiff(op[0]), 0);
    }

    /** geluBackward(pre, r) is the gradient of Σ r⊙gelu(a + b) with respect to a and to b. */
    @Test void gradientBothInputs() {
        Random rnd = new Random(82);
        D a = D.uniform(rnd, -3, 3, 2, 3, 4, 5), b = D.uniform(rnd, -1.5, 1.5, 2, 3, 4, 5);
        D[] op = RefAddGelu.addGelu(a, b, true);
        D r = GradCheck.weights(rnd, op[0]);
        D g = RefGelu.geluBackward(op[1], r);
        GradCheck.check("addGelu", new String[] {"a", "b"}, new D[] {a, b},
                in -> RefAddGelu.addGelu(in[0], in[1], false)[0], r, new D[] {g, g});
    }
}
