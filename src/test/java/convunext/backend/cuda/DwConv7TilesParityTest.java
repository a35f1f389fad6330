package convunext.backend.cuda;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * dwconv7.cu's 32-column x 64-row tiles (8 rows per thread, taps in registers, the data
 * gradient's reflect-adjoint terms from the shared tile) vs the float64 oracle where
 * DwConv7ParityTest's planes stay inside one tile row: the bottom border in the second tile row
 * (the mirrored rows 2(H-1)-u are read from the tile below the image), a border 1 row into a new
 * tile row (H = 65), planes with both mirrors (H = 5, W = 5) and wide planes (several tile
 * columns). The staging's 128-bit loads (W % 4 == 0: 4, 36, 64, 68) and its scalar pieces (odd W,
 * the halo), and the data gradient's border strips in every combination: left and right column
 * groups in one tile (W <= 32), the right mirrors W-4..W-2 split over two tile columns (W = 34,
 * 66), the bottom mirrors split over two tile rows (H = 66), top and bottom in one tile (H <= 64),
 * interior tiles without border work (130 x 100). Tolerance 1e-5 relative, as DwConv7ParityTest.
 * Determinism: the same bits of y, dx, dw, db under the emulator's shuffled schedules.
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

    @Test void vectorStagingAndBorderStrips() {
        dwCase(1, 2, 4, 4);
        dwCase(1, 1, 4, 36);
        dwCase(2, 1, 66, 68);
        dwCase(1, 2, 67, 34);
        dwCase(1, 1, 7, 66);
        dwCase(1, 1, 64, 64);
        dwCase(1, 1, 97, 33);
        dwCase(1, 1, 130, 100);
    }

    @Test void sameBitsUnderShuffledSchedules() throws Exception {
        Parity.requireEmulator();
        org.junit.jupiter.api.Assumptions.assumeTrue(Parity.onEmulator(), "shuffled schedules are the emulator's");
        for (int w : new int[]{68, 67}) {
            Tensor[] x = p.gaussT(2, 2, 70, w), wt = p.gaussT(2, 1, 7, 7), b = p.gaussT(2), dy = p.gaussT(2, 2, 70, w);
            float[][] a = run(x[0], wt[0], b[0], dy[0]);
            for (long seed : new long[]{0x5eed1L, 0xbadc0deL})
                try (AutoCloseable s = EmulatorSchedule.shuffled(p.cuda, seed)) {
                    float[][] r = run(x[0], wt[0], b[0], dy[0]);
                    for (int i = 0; i < a.length; i++) {
                        int[] ia = new int[a[i].length], ib = new int[r[i].length];
                        for (int j = 0; j < ia.length; j++) {
                            ia[j] = Float.floatToRawIntBits(a[i][j]);
                            ib[j] = Float.floatToRawIntBits(r[i][j]);
                        }
                        assertArrayEquals(ia, ib, "W " + w + " seed " + Long.toHexString(seed) + ": output " + i + " differs in its bits");
                    }
                }
        }
    }

    private static float[][] run(Tensor x, Tensor w, Tensor b, Tensor dy) {
        Tensor[] g = p.cuda.dwconv7Backward(x, w, dy);
        return new float[][]{p.cuda.download(p.cuda.dwconv7(x, w, b)), p.cuda.download(g[0]), p.cuda.download(g[1]),
                p.cuda.download(g[2])};
    }
}
