package convunext.backend.cuda;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * upsample.cu (bilinear x2, align_corners=True, and its adjoint) and layout.cu (pad / crop,
 * concat / slice) vs the float64 oracle. Tolerance 1e-5 relative (exact copies for layout).
 */
class LayoutParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(61); }

    @AfterAll static void close() { p.close(); }

    void upCase(int n, int c, int h, int w) {
        String tag = "upsample2x " + h + "x" + w;
        Tensor[] x = p.gaussT(n, c, h, w);
        p.check(tag + " y", p.cuda.upsample2x(x[0]), p.ref.upsample2x(x[1]), TOL);
        Tensor[] dy = p.gaussT(n, c, 2 * h, 2 * w);
        p.check(tag + " dx", p.cuda.upsample2xBackward(dy[0]), p.ref.upsample2xBackward(dy[1]), TOL);
    }

    @Test void upsampleOdd() { upCase(2, 3, 13, 17); }

    @Test void upsampleTiny() {
        upCase(1, 2, 1, 1);
        upCase(1, 1, 1, 5);
        upCase(1, 1, 2, 3);
    }

    @Test void pad2dAndCrop() {
        Tensor[] x = p.gaussT(2, 3, 5, 7);
        p.check("pad2d", p.cuda.pad2d(x[0], 1, 2, 0, 3), p.ref.pad2d(x[1], 1, 2, 0, 3), 0);
        Tensor[] dy = p.gaussT(2, 3, 8, 10);
        p.check("pad2dBackward", p.cuda.pad2dBackward(dy[0], 1, 0, 5, 7), p.ref.pad2dBackward(dy[1], 1, 0, 5, 7), 0);
    }

    @Test void concatAndSlice() {
        Tensor[] a = p.gaussT(2, 3, 5, 7), b = p.gaussT(2, 4, 5, 7);
        Tensor[] yc = {p.cuda.concat(a[0], b[0]), p.ref.concat(a[1], b[1])};
        p.check("concat", yc[0], yc[1], 0);
        p.check("slice a", p.cuda.sliceChannels(yc[0], 0, 3), p.ref.sliceChannels(yc[1], 0, 3), 0);
        p.check("slice b", p.cuda.sliceChannels(yc[0], 3, 7), p.ref.sliceChannels(yc[1], 3, 7), 0);
        p.check("slice mid", p.cuda.sliceChannels(yc[0], 2, 5), p.ref.sliceChannels(yc[1], 2, 5), 0);
    }
}
