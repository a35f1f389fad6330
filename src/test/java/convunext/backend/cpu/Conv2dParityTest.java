package convunext.backend.cpu;

import static convunext.backend.cpu.Parity.*;
import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefConv2d;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** conv2d forward and backward against RefConv2d; tolerance 1e-5 normwise. */
class Conv2dParityTest {
    private static final double TOL = 1e-5;

    @Test void stem7x7Reflect() { run(2, 3, 5, 13, 17, 7, 1, 3, true, true, true, 1); }

    @Test void stemWithoutDx() { run(2, 3, 8, 24, 27, 7, 1, 3, true, false, true, 2); }

    @Test void down2x2Stride2() { run(2, 5, 9, 14, 18, 2, 2, 0, false, true, true, 3); }

    @Test void down2x2OddInput() { run(2, 5, 9, 13, 17, 2, 2, 0, false, true, true, 4); }

    @Test void pointwise() { run(2, 6, 7, 9, 11, 1, 1, 0, false, true, true, 5); }

    @Test void zeroPad3x3Strided() { run(2, 4, 6, 11, 10, 3, 2, 1, false, true, false, 6); }

    @Test void reflect3x3() { run(1, 2, 3, 5, 6, 3, 1, 2, true, true, true, 7); }

    private static void run(int n, int ci, int co, int h, int w, int k, int stride, int pad, boolean reflect,
                            boolean needDx, boolean bias, long seed) {
        Random r = new Random(seed);
        Tensor x = randn(r, 0.3, n, ci, h, w), wt = randn(r, 0, co, ci, k, k), b = bias ? randn(r, 0, co) : null;
        D y = RefConv2d.conv2d(d(x), d(wt), d(b), stride, pad, reflect);
        check("conv2d y", y, BE.conv2d(x, wt, b, stride, pad, reflect), TOL);
        Tensor dy = randn(r, 0.1, y.shape);
        D[] ref = RefConv2d.conv2dBackward(d(x), d(wt), d(dy), stride, pad, reflect, needDx, bias);
        Tensor[] got = BE.conv2dBackward(x, wt, dy, stride, pad, reflect, needDx, bias);
        if (needDx) check("conv2d dx", ref[0], got[0], TOL); else assertNull(got[0]);
        check("conv2d dw", ref[1], got[1], TOL);
        if (bias) check("conv2d db", ref[2], got[2], TOL); else assertNull(got[2]);
    }
}
