package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefLayoutTest {

    @Test void pad2dAsymmetric() {
        Random rnd = new Random(72);
        D x = D.uniform(rnd, -1, 1, 2, 3, 5, 7);
        int top = 1, bottom = 2, left = 0, right = 3;
        D y = RefLayout.pad2d(x, top, bottom, left, right);
        assertArrayEquals(new int[] {2, 3, 8, 10}, y.shape);
        assertEquals(x.get(1, 2, 0, 0), y.get(1, 2, 1, 0), 0);
        assertEquals(x.get(1, 2, 4, 6), y.get(1, 2, 5, 6), 0);
        assertEquals(0, y.get(1, 2, 0, 0), 0);
        assertEquals(0, y.get(0, 1, 6, 3), 0);
        assertEquals(0, y.get(0, 1, 3, 7), 0);
        assertEquals(x.dot(x), y.dot(y), 1e-12);
        D r = GradCheck.weights(rnd, y);
        D dx = RefLayout.pad2dBackward(r, top, left, 5, 7);
        GradCheck.check("pad2d", new String[] {"x"}, new D[] {x},
                in -> RefLayout.pad2d(in[0], top, bottom, left, right), r, new D[] {dx});
    }

    @Test void concatAndSlice() {
        Random rnd = new Random(73);
        D a = D.uniform(rnd, -1, 1, 2, 3, 5, 7), b = D.uniform(rnd, -1, 1, 2, 2, 5, 7);
        D y = RefLayout.concat(a, b);
        assertArrayEquals(new int[] {2, 5, 5, 7}, y.shape);
        assertEquals(b.get(1, 1, 4, 6), y.get(1, 4, 4, 6), 0);
        assertEquals(a.get(1, 0, 2, 3), y.get(1, 0, 2, 3), 0);
        assertEquals(0, RefLayout.sliceChannels(y, 0, 3).maxAbsDiff(a), 0);
        assertEquals(0, RefLayout.sliceChannels(y, 3, 5).maxAbsDiff(b), 0);
        D r = GradCheck.weights(rnd, y);
        GradCheck.check("concat", new String[] {"a", "b"}, new D[] {a, b}, in -> RefLayout.concat(in[0], in[1]), r,
                new D[] {RefLayout.sliceChannels(r, 0, 3), RefLayout.sliceChannels(r, 3, 5)});
        // sliceChannels' own backward is a zero-padded concat; check one middle slice.
        D s = RefLayout.sliceChannels(y, 1, 4);
        D rs = GradCheck.weights(rnd, s);
        D ds = RefLayout.concat(RefLayout.concat(new D(2, 1, 5, 7), rs), new D(2, 1, 5, 7));
        GradCheck.check("sliceChannels", new String[] {"x"}, new D[] {y},
                in -> RefLayout.sliceChannels(in[0], 1, 4), rs, new D[] {ds});
    }
}
