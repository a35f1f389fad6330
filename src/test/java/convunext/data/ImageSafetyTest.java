package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Truncated files refused in every format; CMYK and YCCK JPEGs decoded with the right colours. */
class ImageSafetyTest {
    @TempDir Path tmp;

    /** A smooth test card (JPEG's error on it is small, so colour mistakes stand out). */
    static BufferedImage card(int w, int h) {
        BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int r = 255 * x / (w - 1), g = 255 * y / (h - 1), b = (x / 24 + y / 24) % 2 == 0 ? 200 : 40;
                im.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        return im;
    }

    /** Mean |decoded − reference| over pixels and channels, on 0..255. */
    static double meanError(FloatImage got, BufferedImage ref) {
        double e = 0;
        for (int y = 0; y < ref.getHeight(); y++)
            for (int x = 0; x < ref.getWidth(); x++) {
                int p = ref.getRGB(x, y);
                for (int c = 0; c < 3; c++) e += Math.abs(got.get(c, y, x) - ((p >> (16 - 8 * c)) & 0xFF));
            }
        return e / (3.0 * ref.getWidth() * ref.getHeight());
    }

    @Test void truncatedFilesOfEveryFormatAreRefusedNamingTheFile() throws Exception {
        BufferedImage rgb = card(96, 72);
        BufferedImage indexed = new BufferedImage(96, 72, BufferedImage.TYPE_BYTE_INDEXED);
        indexed.getGraphics().drawImage(rgb, 0, 0, null);
        for (String fmt : new String[] {"jpeg", "png", "gif", "bmp", "tiff"}) {
            Path whole = Fixtures.write(fmt.equals("gif") ? indexed : rgb, fmt, tmp.resolve("whole." + fmt));
            assertEquals(96, ImageFiles.readImage(whole).width(), fmt);
            byte[] b = Files.readAllBytes(whole);
            for (double keep : new double[] {0.5, 0.9, 0.99}) {
                Path cut = Files.write(tmp.resolve("cut" + (int) (keep * 100) + "." + fmt), Arrays.copyOf(b, (int) (b.length * keep)));
                DataException e = assertThrows(DataException.class, () -> ImageFiles.readImage(cut), fmt + " cut at " + keep);
                assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
                assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            }
        }
        // The case ImageIO lets through: a JPEG without its end is decoded with a grey bottom, with only a warning.
        byte[] jpeg = Files.readAllBytes(tmp.resolve("whole.jpeg"));
        Path noEnd = Files.write(tmp.resolve("noend.jpg"), Arrays.copyOf(jpeg, jpeg.length * 3 / 4));
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readImage(noEnd));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertThrows(DataException.class, () -> ImageFiles.readLabels(noEnd, 2), "masks too");
    }

    /**
     * CMYK JPEGs as Photoshop writes them (Adobe APP14, inverted samples; and YCCK), and without
     * the marker: decoded through the plain ink formula, the colours come back within JPEG's own
     * error (measured 0.08, 0.32 and 0.08 of 255; ImageIO's own conversion was off by 48).
     */
    @Test void cmykAndYcckJpegsDecodeWithTheirColours() throws Exception {
        BufferedImage ref = card(96, 72);
        for (CmykJpegs.Kind kind : CmykJpegs.Kind.values()) {
            Path f = CmykJpegs.write(ref, kind, tmp.resolve(kind + ".jpg"));
            assertEquals(4, JpegCmyk.scan(Files.readAllBytes(f)).components(), kind.toString());
            FloatImage im = ImageFiles.readImage(f);
            assertEquals(3, im.channels());
            double err = meanError(im, ref);
            assertTrue(err < 1.0, kind + ": mean colour error " + err + " of 255");
        }
        // and what ImageIO alone makes of the same file, for the record
        Path adobe = tmp.resolve("ADOBE_CMYK.jpg");
        BufferedImage plain = javax.imageio.ImageIO.read(adobe.toFile());
        double naive = 0;
        for (int y = 0; y < 72; y++)
            for (int x = 0; x < 96; x++)
                for (int c = 0; c < 3; c++)
                    naive += Math.abs(((plain.getRGB(x, y) >> (16 - 8 * c)) & 0xFF) - ((ref.getRGB(x, y) >> (16 - 8 * c)) & 0xFF));
        assertTrue(naive / (3.0 * 96 * 72) > 20, "ImageIO's own conversion is far off: " + naive / (3.0 * 96 * 72));
    }

    /** 300 classes on 0/255 masks would read every foreground pixel as class 255 = ignore: refused. */
    @Test void moreClassesThanTheIgnoreLabelAllowsAreRefused() throws Exception {
        int[] v = new int[70 * 66];
        for (int i = 0; i < v.length; i += 3) v[i] = 255;
        Path m = Fixtures.write(Fixtures.gray(70, 66, v), "png", tmp.resolve("m.png"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageFiles.readLabels(m, 300));
        assertTrue(e.getMessage().contains("300") && e.getMessage().contains("ignore"), e.getMessage());
        assertEquals(1, ImageFiles.readLabels(m, 255).get(0, 0), "a 0/255 mask is binary for any allowed count");
    }

    /**
     * A 2 KB PNG can declare 40000×40000 pixels: decoding it would need gigabytes, and the
     * OutOfMemoryError ended a whole predict/evaluate folder (exit 3, no file named). Such a file
     * is refused from its header, naming it and its size, as that file's failure.
     */
    @Test void anImageTooLargeToDecodeIsRefusedFromItsHeader() throws Exception {
        for (int side : new int[] {40_000, 100_000}) {   // over this JVM's heap; over one Java array
            Path bomb = HugePng.write(tmp.resolve("bomb" + side + ".png"), side, side);
            assertTrue(Files.size(bomb) < 100_000, "a small file");
            for (boolean mask : new boolean[] {false, true}) {
                DataException e = assertThrows(DataException.class,
                        () -> { if (mask) ImageFiles.readLabels(bomb, 2); else ImageFiles.readImage(bomb); });
                assertTrue(e.getMessage().contains(bomb.toString()) && e.getMessage().contains(side + "×" + side), e.getMessage());
                assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            }
        }
        // the rule alone: bytes a pixel against the heap given
        ImageFiles.requireDecodable(Path.of("a.png"), 1000, 1000, 9, 9_000_000);
        DataException e = assertThrows(DataException.class, () -> ImageFiles.requireDecodable(Path.of("a.png"), 1000, 1001, 9, 9_000_000));
        assertTrue(e.getMessage().startsWith("image a.png is 1000×1001: decoding it needs at least"), e.getMessage());
    }

    @Test void markerScanIsBoundedOnDamagedHeaders() {
        assertEquals(-1, JpegCmyk.scan(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF}).components());
        byte[] lying = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC0, 0x7F, (byte) 0xFF, 8, 0, 1};
        assertEquals(-1, JpegCmyk.scan(lying).components(), "a segment longer than the file is not read");
    }
}
