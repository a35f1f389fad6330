package convunext.backend.cuda;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * dwconv7.cu's 32-column x 64-row tiles (8 rows per thread, taps in registers, the data
 * gradient's reflect-adjoint terms from the shared tile) vs the float64 oracle where
 * DwConv7ParityTest's planes stay inside one tile row: the bottom border in the second tile row
 * (the mirrored rows 2(H-1)-u are read from the tile below the image), a border 1 row into a new
 * tile row (H = 65), planes with both mirrors (H = 5, W = 5) and wide planes (several tile
 * columns). Tolerance 1e-5 relative, as DwConv7ParityTest.
 */
class DwConv7TilesParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(41); }

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

    @Test void bottomBorderInSecondTileRow() { dwCase(1, 2, 69, 9); }

    @Test void borderOneRowIntoNewTileRow() { dwCase(1, 1, 65, 6); }

    @Test void bothMirrorsOfShortPlanes() {
        dwCase(1, 2, 5, 40);
        dwCase(2, 1, 40, 5);
    }

    @Test void wideAndTall() { dwCase(1, 1, 130, 67); }
}
