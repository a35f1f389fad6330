package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefDwConv7Test {

    private static void gradCheck(long seed, int c, int h, int w) {
        Random rnd = new Random(seed);
        D x = D.uniform(rnd, -1, 1, 2, c, h, w), wt = D.uniform(rnd, -0.5, 0.5, c, 1, 7, 7), b = D.uniform(rnd, -1, 1, c);
        D y = RefDwConv7.dwconv7(x, wt, b);
        D r = GradCheck.weights(rnd, y);
        D[] g = RefDwConv7.dwconv7Backward(x, wt, r);
        GradCheck.check("dwconv7 " + h + "x" + w, new String[] {"x", "w", "b"}, new D[] {x, wt, b},
                in -> RefDwConv7.dwconv7(in[0], in[1], in[2]), r, g);
    }

    @Test void gradientsOdd() { gradCheck(21, 3, 9, 11); }

    @Test void gradientsSmallest() { gradCheck(22, 2, 4, 5); }

    /** The depthwise conv equals the dense conv2d with a block-diagonal weight. */
    @Test void matchesDenseConvWithDiagonalWeight() {
        Random rnd = new Random(23);
        int c = 3;
        D x = D.uniform(rnd, -1, 1, 2, c, 6, 5), w = D.uniform(rnd, -1, 1, c, 1, 7, 7), b = D.uniform(rnd, -1, 1, c);
        D dense = new D(c, c, 7, 7);
        for (int ch = 0; ch < c; ch++)
            System.arraycopy(w.data, ch * 49, dense.data, (ch * c + ch) * 49, 49);
        D y = RefDwConv7.dwconv7(x, w, b);
        D z = RefConv2d.conv2d(x, dense, b, 1, 3, true);
        assertEquals(0, y.maxAbsDiff(z), 1e-13);
    }
}
