package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefLinearTest {

    @Test void gradients() {
        Random rnd = new Random(11);
        D x = D.uniform(rnd, -1, 1, 2, 3, 9, 11), w = D.uniform(rnd, -1, 1, 5, 3), b = D.uniform(rnd, -1, 1, 5);
        D y = RefLinear.linear(x, w, b);
        D r = GradCheck.weights(rnd, y);
        D[] g = RefLinear.linearBackward(x, w, r, true, true);
        GradCheck.check("linear", new String[] {"x", "w", "b"}, new D[] {x, w, b},
                in -> RefLinear.linear(in[0], in[1], in[2]), r, g);
    }

    @Test void noBiasAndNoDx() {
        Random rnd = new Random(12);
        D x = D.uniform(rnd, -1, 1, 2, 4, 3, 5), w = D.uniform(rnd, -1, 1, 3, 4);
        D y = RefLinear.linear(x, w, null);
        D r = GradCheck.weights(rnd, y);
        D[] g = RefLinear.linearBackward(x, w, r, false, false);
        assertNull(g[0]);
        assertNull(g[2]);
        GradCheck.check("linear (no bias)", new String[] {"x", "w"}, new D[] {x, w},
                in -> RefLinear.linear(in[0], in[1], null), r, new D[] {null, g[1]});
    }

    /** y[n,o,p] = b[o] + Σ_i w[o,i]·x[n,i,p] at one pixel, by hand. */
    @Test void forwardByHand() {
        D x = new D(new double[] {1, 2, 3, 4}, 1, 2, 1, 2);      // channel 0: (1,2), channel 1: (3,4)
        D w = new D(new double[] {10, 100, -1, 0.5}, 2, 2);
        D y = RefLinear.linear(x, w, new D(new double[] {0.25, -2}, 2));
        assertArrayEquals(new double[] {310.25, 420.25, -1.5, -2}, y.data, 0);
    }

    /** The model runs 1×1 convolutions through linear with their [Co,Ci,1,1] weight. */
    @Test void acceptsConv1x1WeightAndMatchesConv2d() {
        Random rnd = new Random(13);
        D x = D.uniform(rnd, -1, 1, 2, 3, 4, 5), w = D.uniform(rnd, -1, 1, 4, 3, 1, 1), b = D.uniform(rnd, -1, 1, 4);
        D y = RefLinear.linear(x, w, b);
        assertEquals(0, y.maxAbsDiff(RefConv2d.conv2d(x, w, b, 1, 0, false)), 1e-14);
        D r = GradCheck.weights(rnd, y);
        D[] g = RefLinear.linearBackward(x, w, r, true, true);
        assertArrayEquals(w.shape, g[1].shape);
        D[] gc = RefConv2d.conv2dBackward(x, w, r, 1, 0, false, true, true);
        for (int i = 0; i < 3; i++) assertEquals(0, g[i].maxAbsDiff(gc[i]), 1e-13);
        assertThrows(IllegalArgumentException.class, () -> RefLinear.linear(x, new D(4, 3, 1, 2), null));
    }
}
