package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefLinearCatTest {

    /** Central differences on odd sizes and an odd channel split (3 + 5). */
    @Test void gradients() {
        Random rnd = new Random(41);
        D a = D.uniform(rnd, -1, 1, 2, 3, 7, 9), b = D.uniform(rnd, -1, 1, 2, 5, 7, 9);
        D w = D.uniform(rnd, -1, 1, 4, 8, 1, 1), bias = D.uniform(rnd, -1, 1, 4);
        D y = RefLinearCat.linearCat(a, b, w, bias);
        D r = GradCheck.weights(rnd, y);
        D[] g = RefLinearCat.linearCatBackward(a, b, w, r, true, true, true);
        GradCheck.check("linearCat", new String[] {"a", "b", "w", "bias"}, new D[] {a, b, w, bias},
                in -> RefLinearCat.linearCat(in[0], in[1], in[2], in[3]), r, g);
    }

    @Test void noBiasOneSideOnly() {
        Random rnd = new Random(42);
        D a = D.uniform(rnd, -1, 1, 1, 1, 5, 3), b = D.uniform(rnd, -1, 1, 1, 6, 5, 3), w = D.uniform(rnd, -1, 1, 3, 7);
        D r = GradCheck.weights(rnd, RefLinearCat.linearCat(a, b, w, null));
        D[] g = RefLinearCat.linearCatBackward(a, b, w, r, false, true, false);
        assertNull(g[0]);
        assertNull(g[3]);
        GradCheck.check("linearCat (no bias, no da)", new String[] {"b", "w"}, new D[] {b, w},
                in -> RefLinearCat.linearCat(a, in[0], in[1], null), r, new D[] {g[1], g[2]});
    }

    /** The two-part formula equals the composition concat → linear (and its backward, split) to float64 rounding. */
    @Test void equalsConcatThenLinear() {
        Random rnd = new Random(43);
        D a = D.uniform(rnd, -1, 1, 2, 3, 4, 5), b = D.uniform(rnd, -1, 1, 2, 5, 4, 5);
        D w = D.uniform(rnd, -1, 1, 6, 8, 1, 1), bias = D.uniform(rnd, -1, 1, 6);
        D x = RefLayout.concat(a, b);
        assertEquals(0, RefLinearCat.linearCat(a, b, w, bias).maxAbsDiff(RefLinear.linear(x, w, bias)), 1e-14);
        D dy = D.uniform(rnd, -1, 1, 2, 6, 4, 5);
        D[] g = RefLinearCat.linearCatBackward(a, b, w, dy, true, true, true);
        D[] gl = RefLinear.linearBackward(x, w, dy, true, true);
        assertEquals(0, g[0].maxAbsDiff(RefLayout.sliceChannels(gl[0], 0, 3)), 1e-13);
        assertEquals(0, g[1].maxAbsDiff(RefLayout.sliceChannels(gl[0], 3, 8)), 1e-13);
        assertEquals(0, g[2].maxAbsDiff(gl[1]), 1e-13);
        assertArrayEquals(w.shape, g[2].shape);
        assertEquals(0, g[3].maxAbsDiff(gl[2]), 1e-13);
    }

    @Test void shapeRules() {
        D a = new D(1, 2, 3, 3), b = new D(1, 3, 3, 3);
        assertThrows(IllegalArgumentException.class, () -> RefLinearCat.linearCat(a, b, new D(4, 4), null));   // Ci 5
        assertThrows(IllegalArgumentException.class, () -> RefLinearCat.linearCat(a, new D(1, 3, 3, 2), new D(4, 5), null));
        assertThrows(IllegalArgumentException.class, () -> RefLinearCat.linearCat(new D(1, 0, 3, 3), new D(1, 5, 3, 3), new D(4, 5), null));
    }
}
