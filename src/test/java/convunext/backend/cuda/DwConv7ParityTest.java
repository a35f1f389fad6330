package convunext.backend.cuda;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * dwconv7.cu (shared-tile forward, reflect-adjoint data gradient, tiled weight/bias reduction)
 * vs the float64 oracle, on sizes that exercise several 32x32 tiles, partial tiles and the
 * smallest legal plane (4x4, where every pixel is a border pixel). Tolerance 1e-5 relative.
 */
class DwConv7ParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(31); }

    @AfterAll static void close() { p.close(); }

    void dwCase(int n, int c, int h, int w) {
        String tag = "dwconv7 " + n + "x" + c + "x" + h + "x" + w;
        Tensor[] x = p.gaussT(n, c, h, w), wt = p.gaussT(c, 1, 7, 7), b = p.gaussT(c);
        p.check(tag + " y", p.cuda.dwconv7(x[0], wt[0], b[0]), p.ref.dwconv7(x[1], wt[1], b[1]), TOL);
        Tensor[] dy = p.gaussT(n, c, h, w);
        Tensor[] gc = p.cuda.dwconv7Backward(x[0], wt[0], dy[0]);
        Tensor[] gr = p.ref.dwconv7Backward(x[1], wt[1], dy[1]);
        p.check(tag + " dx", gc, gr, 0, TOL);
        p.check(tag + " dw", gc, gr, 1, TOL);
        p.check(tag + " db", gc, gr, 2, TOL);
    }

    @Test void oddSize() { dwCase(2, 5, 13, 17); }

    @Test void severalTiles() { dwCase(1, 2, 37, 35); }

    @Test void weightGradBlocksLoopOverTiles() {
        int old = convunext.backend.cuda.ops.DwConv7Ops.setWeightGradBlocks(2);
        try {
            dwCase(1, 2, 70, 45);   // 6 tiles per plane, 1 block per plane: each block loops over 6
            dwCase(2, 1, 40, 36);   // 4 tiles, 1 block per plane
        } finally {
            convunext.backend.cuda.ops.DwConv7Ops.setWeightGradBlocks(old);
        }
    }

    @Test void smallestPlanes() {
        dwCase(2, 3, 4, 4);
        dwCase(1, 2, 5, 7);
        dwCase(1, 1, 6, 4);
    }
}
