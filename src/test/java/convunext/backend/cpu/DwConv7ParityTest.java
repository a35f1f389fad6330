package convunext.backend.cpu;

import static convunext.backend.cpu.Parity.*;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefDwConv7;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** dwconv7 forward and backward against RefDwConv7; tolerance 1e-5 normwise. */
class DwConv7ParityTest {
    private static final double TOL = 1e-5;

    @Test void oddSizes() { run(2, 5, 13, 17, 1); }

    @Test void smallestPlane() { run(2, 3, 4, 5, 2); }

    /** More rows than the float lane-sum flush interval of the weight gradient. */
    @Test void tallPlane() { run(1, 2, 37, 9, 3); }

    /** Rows wider than two vectors plus a tail, over several row blocks of the weight gradient. */
    @Test void widePlane() { run(1, 2, 21, 45, 4); }

    private static void run(int n, int c, int h, int w, long seed) {
        Random r = new Random(seed);
        Tensor x = randn(r, 0.3, n, c, h, w), wt = randn(r, 0, c, 1, 7, 7), b = randn(r, 0, c), dy = randn(r, 0.1, n, c, h, w);
        check("dwconv7 y", RefDwConv7.dwconv7(d(x), d(wt), d(b)), BE.dwconv7(x, wt, b), TOL);
        D[] ref = RefDwConv7.dwconv7Backward(d(x), d(wt), d(dy));
        Tensor[] got = BE.dwconv7Backward(x, wt, dy);
        check("dwconv7 dx", ref[0], got[0], TOL);
        check("dwconv7 dw", ref[1], got[1], TOL);
        check("dwconv7 db", ref[2], got[2], TOL);
    }
}
