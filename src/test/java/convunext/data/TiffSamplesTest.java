package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TIFF sample formats AWT's generic conversion gets wrong silently (it used to: a CMYK TIFF came
 * out with a gamma applied to encoded values, a 0..1 float TIFF brightened, an int32 TIFF all
 * 255): CMYK and 0..1 floats decode exactly, anything else is refused naming the file and format.
 */
class TiffSamplesTest {
    @TempDir Path tmp;

    static final int W = 7, H = 5, N = W * H;

    /** An RGB picture, R/G/B in 0..255, planes [3][N]. */
    static int[][] rgb() {
        int[][] p = new int[3][N];
        for (int i = 0; i < N; i++) { p[0][i] = (37 * i + 11) % 256; p[1][i] = (91 * i) % 256; p[2][i] = 255 - (53 * i) % 256; }
        return p;
    }

    private Path tiff(String name, int spp, int bits, int format, int photometric, double[] samples) throws Exception {
        return Files.write(tmp.resolve(name), Tiffs.write(W, H, spp, bits, format, photometric, samples));
    }

    private static void assertPlanes(int[][] want, FloatImage got, float tol) {
        assertEquals(want.length, got.channels());
        for (int c = 0; c < want.length; c++)
            for (int i = 0; i < N; i++) assertEquals(want[c][i], got.get(c, i / W, i % W), tol, "channel " + c + " pixel " + i);
    }

    @Test void cmykDecodesByTheInkFormula() throws Exception {
        int[][] p = rgb();
        double[] cmyk = new double[4 * N];
        for (int i = 0; i < N; i++) { for (int c = 0; c < 3; c++) cmyk[4 * i + c] = 255 - p[c][i]; cmyk[4 * i + 3] = 0; }
        assertPlanes(p, ImageFiles.readImage(tiff("cmyk.tif", 4, 8, 1, 5, cmyk)), 0f);
        // black ink halves every channel: R = 255·(1 − C)(1 − K)
        for (int i = 0; i < N; i++) cmyk[4 * i + 3] = 128;
        int[][] half = new int[3][N];
        for (int c = 0; c < 3; c++) for (int i = 0; i < N; i++) half[c][i] = Math.round(p[c][i] * 127 / 255f);
        assertPlanes(half, ImageFiles.readImage(tiff("cmyk-k.tif", 4, 8, 1, 5, cmyk)), 0f);
    }

    @Test void floatSamplesAreReadOnTheZeroToOneScale() throws Exception {
        int[][] p = rgb();
        double[] gray = new double[N], rgb = new double[3 * N];
        for (int i = 0; i < N; i++) {
            gray[i] = p[0][i] / 255.0;
            for (int c = 0; c < 3; c++) rgb[3 * i + c] = p[c][i] / 255.0;
        }
        assertPlanes(new int[][] {p[0]}, ImageFiles.readImage(tiff("f32.tif", 1, 32, 3, 1, gray)), 1e-4f);
        assertPlanes(p, ImageFiles.readImage(tiff("f64.tif", 3, 64, 3, 2, rgb)), 1e-4f);
        // values on another scale are refused rather than guessed at
        gray[8] = 250;
        Path big = tiff("f32-255.tif", 1, 32, 3, 1, gray);
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readImage(big));
        assertEquals("cannot decode " + big + ": 32-bit floating-point sample 250.0 at (x=1, y=1) is outside 0..1, the scale"
                + " floating-point images are read on", e.getMessage());
        // and a float mask is not a mask
        gray[8] = 0;
        Path fmask = tiff("fmask.tif", 1, 32, 3, 1, gray);
        e = assertThrows(DataException.class, () -> ImageFiles.readLabels(fmask, 2));
        assertEquals("mask " + fmask + " has floating-point samples; masks must hold integers", e.getMessage());
    }

    @Test void otherSampleFormatsAreRefusedNamingTheFormat() throws Exception {
        double[] v = new double[N];
        for (int i = 0; i < N; i++) v[i] = 1000 * i;
        Object[][] cases = {{"i32.tif", 32, 2, "32-bit integer"}, {"u32.tif", 32, 1, "32-bit integer"}, {"s16.tif", 16, 2, "16-bit signed integer"}};
        for (Object[] c : cases) {
            Path f = tiff((String) c[0], 1, (int) c[1], (int) c[2], 1, v);
            DataException e = assertThrows(DataException.class, () -> ImageFiles.readImage(f), (String) c[0]);
            assertEquals("cannot decode " + f + ": " + c[3] + " samples are not supported (8- or 16-bit unsigned integers,"
                    + " or floating point on 0..1, are)", e.getMessage());
        }
    }
}
