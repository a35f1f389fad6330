package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EXIF orientation: files are used as a viewer shows them. The expectations come from the tag's
 * definition (which visual side the stored image's 0th row and 0th column are), not from the
 * index formulas, on PNG (eXIf chunk: lossless, so exact), TIFF (tag 274) and JPEG (APP1 EXIF),
 * for images, label masks and ROI masks alike.
 */
class ExifOrientationTest {
    static final int W = 5, H = 3;
    /** Stored pixel values: (0,0) = 200 and (W-1,0) = 100 mark the 0th row's two ends; the rest 10 + x + 5y. */
    static int stored(int x, int y) { return x == 0 && y == 0 ? 200 : x == W - 1 && y == 0 ? 100 : 10 + x + 5 * y; }

    /** TIFF big-endian IFD with one Orientation entry, as EXIF payloads carry it. */
    static byte[] tiffOrientation(int o) {
        ByteBuffer b = ByteBuffer.allocate(26);
        b.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
        b.putShort((short) 1).putShort((short) 274).putShort((short) 3).putInt(1).putShort((short) o).putShort((short) 0);
        b.putInt(0);
        return b.array();
    }

    static byte[] png(int o) throws Exception {
        BufferedImage im = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) im.getRaster().setSample(x, y, 0, stored(x, y));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(im, "png", out);
        byte[] p = out.toByteArray();
        if (o == 0) return p;
        // an eXIf chunk right after IHDR (8-byte signature + 25-byte IHDR chunk)
        byte[] data = tiffOrientation(o), type = "eXIf".getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(type);
        crc.update(data);
        ByteBuffer chunk = ByteBuffer.allocate(12 + data.length);
        chunk.putInt(data.length).put(type).put(data).putInt((int) crc.getValue());
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        r.write(p, 0, 33);
        r.write(chunk.array());
        r.write(p, 33, p.length - 33);
        return r.toByteArray();
    }

    static byte[] jpeg(int o) throws Exception {
        BufferedImage im = new BufferedImage(32, 16, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 32; x++) im.setRGB(x, y, (x * 7 % 256) << 16 | (y * 13 % 256) << 8 | 90);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(im, "jpeg", out);
        byte[] j = out.toByteArray();
        if (o == 0) return j;
        byte[] tiff = tiffOrientation(o);
        ByteBuffer app1 = ByteBuffer.allocate(4 + 6 + tiff.length);
        app1.put((byte) 0xFF).put((byte) 0xE1).putShort((short) (2 + 6 + tiff.length)).put("Exif\0\0".getBytes(StandardCharsets.US_ASCII)).put(tiff);
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        r.write(j, 0, 2);   // SOI, then APP1, then the rest (APP0 JFIF ...)
        r.write(app1.array());
        r.write(j, 2, j.length - 2);
        return r.toByteArray();
    }

    /**
     * Where the stored 0th row's first (value 200) and last (value 100) pixels show, per the tag's
     * table: {0th row's side, 0th column's side} → (X, Y) of each end in the displayed image.
     */
    static int[][] expectedEnds(int o, int dw, int dh) {
        int r = dw - 1, b = dh - 1;
        return switch (o) {
            case 1 -> new int[][]{{0, 0}, {r, 0}};   // row 0 top, column 0 left
            case 2 -> new int[][]{{r, 0}, {0, 0}};   // row 0 top, column 0 right
            case 3 -> new int[][]{{r, b}, {0, b}};   // row 0 bottom, column 0 right
            case 4 -> new int[][]{{0, b}, {r, b}};   // row 0 bottom, column 0 left
            case 5 -> new int[][]{{0, 0}, {0, b}};   // row 0 left, column 0 top
            case 6 -> new int[][]{{r, 0}, {r, b}};   // row 0 right, column 0 top
            case 7 -> new int[][]{{r, b}, {r, 0}};   // row 0 right, column 0 bottom
            case 8 -> new int[][]{{0, b}, {0, 0}};   // row 0 left, column 0 bottom
            default -> throw new IllegalArgumentException();
        };
    }

    static void checkDisplayed(FloatImage im, int o, String what) {
        boolean swap = o >= 5;
        assertEquals(swap ? H : W, im.width(), what + " width");
        assertEquals(swap ? W : H, im.height(), what + " height");
        int[][] ends = expectedEnds(o, im.width(), im.height());
        assertEquals(200f, im.data()[ends[0][1] * im.width() + ends[0][0]], what + ": the 0th row's first pixel");
        assertEquals(100f, im.data()[ends[1][1] * im.width() + ends[1][0]], what + ": the 0th row's last pixel");
        // every stored value once: a permutation, nothing lost or doubled
        int[] seen = new int[256];
        for (float v : im.data()) seen[(int) v]++;
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) assertEquals(1, seen[stored(x, y)], what + ": value " + stored(x, y));
    }

    @Test void pngEveryOrientation() throws Exception {
        for (int o = 1; o <= 8; o++) checkDisplayed(ImageFiles.readImage(png(o), "o" + o + ".png"), o, "png orientation " + o);
        checkDisplayed(ImageFiles.readImage(png(0), "plain.png"), 1, "png without eXIf");
    }

    @Test void tiffEveryOrientation() {
        double[] s = new double[W * H];
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) s[y * W + x] = stored(x, y);
        for (int o = 1; o <= 8; o++)
            checkDisplayed(ImageFiles.readImage(Tiffs.write(W, H, 1, 8, 1, 1, s, o), "o" + o + ".tif"), o, "tiff orientation " + o);
    }

    @Test void jpegOrientationIsTheStoredPixelsMoved() throws Exception {
        FloatImage plain = ImageFiles.readImage(jpeg(0), "plain.jpg");
        for (int o = 1; o <= 8; o++) {
            FloatImage im = ImageFiles.readImage(jpeg(o), "o" + o + ".jpg");   // the same compressed pixels
            int w = plain.width(), h = plain.height(), n = w * h;
            assertEquals(o >= 5 ? h : w, im.width(), "jpeg " + o);
            for (int c = 0; c < 3; c++)
                for (int Y = 0; Y < im.height(); Y++)
                    for (int X = 0; X < im.width(); X++)
                        assertEquals(plain.data()[c * n + ExifOrientation.source(o, w, h, X, Y)], im.data()[c * n + Y * im.width() + X],
                                "jpeg " + o + " channel " + c + " at " + X + "," + Y);
        }
    }

    @Test void masksAndRoisFollowTheirOwnOrientation(@TempDir Path dir) throws Exception {
        // a binary mask stored sideways (orientation 6) with its stored 0th row's ends set
        BufferedImage m = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_GRAY);
        m.getRaster().setSample(0, 0, 0, 255);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(m, "png", out);
        byte[] p = out.toByteArray(), data = tiffOrientation(6), type = "eXIf".getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(type);
        crc.update(data);
        ByteBuffer chunk = ByteBuffer.allocate(12 + data.length).putInt(data.length).put(type).put(data).putInt((int) crc.getValue());
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        r.write(p, 0, 33);
        r.write(chunk.array());
        r.write(p, 33, p.length - 33);
        Path f = dir.resolve("mask.png");
        Files.write(f, r.toByteArray());
        LabelMap lm = ImageFiles.readLabels(f, 2);
        assertEquals(H, lm.width());
        assertEquals(W, lm.height());
        assertEquals(1, lm.labels()[H - 1], "orientation 6: the stored top-left shows top-right");
        boolean[] roi = ImageFiles.readRoi(f, W, H);
        assertTrue(roi[H - 1]);
        assertArrayEquals(new int[]{H, W}, ImageFiles.size(f), "size() is the displayed width x height");
    }

    @Test void unreadableMetadataLeavesThePixelsAsStored() throws Exception {
        byte[] p = png(6);
        p[33 + 8 + 9] = (byte) 0x7F;   // corrupt the eXIf payload's IFD entry count
        FloatImage im = ImageFiles.readImage(p, "bad-exif.png");
        assertEquals(W, im.width());
    }
}
