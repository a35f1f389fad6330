package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefUpsampleTest {

    /** align_corners=True on a 2×2: outputs sit at 0, 1/3, 2/3, 1 of the input grid. */
    @Test void upsample2x2ByHand() {
        D x = new D(new double[] {1, 4, 7, 13}, 1, 1, 2, 2);
        D y = RefUpsample.upsample2x(x);
        double[] e = {
            1, 2, 3, 4,
            3, 13.0 / 3, 17.0 / 3, 7,
            5, 20.0 / 3, 25.0 / 3, 10,
            7, 9, 11, 13};
        assertArrayEquals(e, y.data, 1e-14);
    }

    @Test void upsampleOfSizeOneReplicates() {
        D y = RefUpsample.upsample2x(new D(new double[] {2.5, -1}, 1, 2, 1, 1));
        assertArrayEquals(new double[] {2.5, 2.5, 2.5, 2.5, -1, -1, -1, -1}, y.data, 0);
    }

    @Test void upsampleGradientsAndAdjoint() {
        Random rnd = new Random(71);
        D x = D.uniform(rnd, -1, 1, 2, 3, 5, 7);
        D y = RefUpsample.upsample2x(x);
        assertArrayEquals(new int[] {2, 3, 10, 14}, y.shape);
        D r = GradCheck.weights(rnd, y);
        D dx = RefUpsample.upsample2xBackward(r);
        GradCheck.check("upsample2x", new String[] {"x"}, new D[] {x}, in -> RefUpsample.upsample2x(in[0]), r, new D[] {dx});
        assertEquals(y.dot(r), x.dot(dx), 1e-12);
    }
}
