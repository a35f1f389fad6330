package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * dwconv7 forward and backward on every backend against the float64 oracle: odd sizes, several
 * 32×32 tiles and partial ones (dwconv7.cu), the smallest legal planes (4 wide or tall: every
 * pixel is a border pixel of the reflect padding), more rows than the CPU's float lane-sum flush
 * interval, rows wider than two vectors plus a tail; the backward also into gradients already held
 * (dwconv7BackwardInto). Tolerance 1e-5 normwise.
 */
public class DwConv7ParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();
    static final double TOL = 1e-5;

    @OnEveryBackend void oddSizes(String b) throws Exception { dw(b, 1, 2, 5, 13, 17); }

    @OnEveryBackend void smallestPlane(String b) throws Exception { dw(b, 2, 2, 3, 4, 5); }

    @OnEveryBackend void tallPlane(String b) throws Exception { dw(b, 3, 1, 2, 37, 9); }

    @OnEveryBackend void widePlane(String b) throws Exception { dw(b, 4, 1, 2, 21, 45); }

    @OnEveryBackend void severalTiles(String b) throws Exception { dw(b, 5, 1, 2, 37, 35); }

    @OnEveryBackend void smallestPlanes(String b) throws Exception {
        dw(b, 6, 2, 3, 4, 4);
        dw(b, 7, 1, 2, 5, 7);
        dw(b, 8, 1, 1, 6, 4);
    }

    /** Also used by cuda.DwConv7OpsTest with the weight-gradient block split lowered. */
    public static void dw(BackendParity p, int n, int c, int h, int w) {
        String tag = "dwconv7 " + n + "x" + c + "x" + h + "x" + w;
        Tensor[] x = p.normalT(1, 0.3, n, c, h, w), wt = p.gaussT(c, 1, 7, 7), b = p.gaussT(c);
        p.check(tag + " y", p.be.dwconv7(x[0], wt[0], b[0]), p.ref.dwconv7(x[1], wt[1], b[1]), TOL);
        Tensor[] dy = p.normalT(1, 0.1, n, c, h, w);
        Tensor[] got = p.be.dwconv7Backward(x[0], wt[0], dy[0]);
        Tensor[] ref = p.ref.dwconv7Backward(x[1], wt[1], dy[1]);
        p.check(tag + " dx", got, ref, 0, TOL);
        p.check(tag + " dw", got, ref, 1, TOL);
        p.check(tag + " db", got, ref, 2, TOL);
        // into gradients already held (the block's residual: dx added to the skip path's gradient)
        Tensor[] hx = p.normalT(1, -0.2, n, c, h, w), hw = p.gaussT(c, 1, 7, 7), hb = p.gaussT(c);
        Tensor[] gi = p.be.dwconv7BackwardInto(x[0], wt[0], dy[0], hx[0], hw[0], hb[0]);
        Tensor[] ri = p.ref.dwconv7BackwardInto(x[1], wt[1], dy[1], hx[1], hw[1], hb[1]);
        p.check(tag + " dx into", gi, ri, 0, TOL);
        p.check(tag + " dw into", gi, ri, 1, TOL);
        p.check(tag + " db into", gi, ri, 2, TOL);
    }

    private static void dw(String backend, long seed, int n, int c, int h, int w) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            dw(p, n, c, h, w);
        }
    }
}
