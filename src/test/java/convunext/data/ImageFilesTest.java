package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {
    @TempDir Path tmp;

    @Test void readsDriveTiffLzwAndGifMasksAtFullSize() {
        Path full = Fixtures.DRIVE_MINI.resolve("full");
        Path tif = full.resolve("images/23_training.tif");
        assertEquals(ImageFormat.TIFF, ImageFiles.sniff(tif));
        FloatImage im = ImageFiles.readImage(tif);
        assertEquals(3, im.channels());
        assertEquals(584, im.height());
        assertEquals(565, im.width());
        double[] mean = new double[3];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < im.pixels(); i++) mean[c] += im.data()[c * im.pixels() + i];
            mean[c] /= im.pixels();
        }
        assertTrue(mean[0] > mean[1] && mean[1] > mean[2], "fundus images are red > green > blue: " + Arrays.toString(mean));
        LabelMap vessels = ImageFiles.readLabels(full.resolve("masks/23_training_manual1.gif"), 2);
        assertEquals(584, vessels.height());
        long fg = Arrays.stream(vessels.labels()).filter(v -> v == 1).count();
        assertTrue(fg > 0.05 * vessels.pixels() && fg < 0.2 * vessels.pixels(), "vessel fraction " + fg);
        assertTrue(Arrays.stream(vessels.labels()).allMatch(v -> v == 0 || v == 1));
        boolean[] roi = ImageFiles.readRoi(full.resolve("roi/23_training_mask.gif"), 584, 565);
        int in = 0;
        for (boolean b : roi) if (b) in++;
        assertTrue(in > 0.6 * roi.length && in < 0.8 * roi.length, "FOV fraction " + in);
        assertFalse(roi[0], "corner is outside the field of view");
    }

    @Test void readsBigEndianTiffOfDriveMini() {
        Path tif = Fixtures.DRIVE_MINI.resolve("train/images/21_training.tif");
        FloatImage im = ImageFiles.readImage(tif);
        assertEquals(3, im.channels());
        assertEquals(146, im.height());
        assertEquals(141, im.width());
    }

    @Test void jpegNamedBmpLoadsByContent() throws Exception {
        BufferedImage src = Fixtures.randomRgb(37, 23, 5);
        // smooth it so JPEG keeps values close
        for (int y = 0; y < 23; y++) for (int x = 0; x < 37; x++) src.setRGB(x, y, (40 + 4 * x) << 16 | (60 + 3 * y) << 8 | 90);
        Path f = Fixtures.write(src, "jpeg", tmp.resolve("train_1.bmp"));
        assertEquals(ImageFormat.JPEG, ImageFiles.sniff(f));
        FloatImage im = ImageFiles.readImage(f);
        assertEquals(3, im.channels());
        assertEquals(23, im.height());
        assertEquals(37, im.width());
        assertEquals(40 + 4 * 10, im.get(0, 5, 10), 8);
        assertEquals(60 + 3 * 5, im.get(1, 5, 10), 8);
        assertEquals(90, im.get(2, 5, 10), 8);
    }

    @Test void pngBmpGifTiffGiveTheSamePixels() throws Exception {
        BufferedImage src = Fixtures.randomRgb(19, 13, 11);
        FloatImage ref = null;
        for (String fmt : new String[] {"png", "bmp", "tiff"}) {
            FloatImage im = ImageFiles.readImage(Fixtures.write(src, fmt, tmp.resolve("img." + fmt + ".dat")));
            assertEquals(3, im.channels(), fmt);
            if (ref == null) ref = im;
            else assertArrayEquals(ref.data(), im.data(), fmt);
        }
        assertEquals(src.getRGB(3, 4) >> 16 & 0xFF, (int) ref.get(0, 4, 3));
        assertEquals(src.getRGB(3, 4) & 0xFF, (int) ref.get(2, 4, 3));
        int[] vals = Fixtures.randomLabels(15 * 9, 256, 3);
        FloatImage g = ImageFiles.readImage(Fixtures.write(Fixtures.gray(15, 9, vals), "gif", tmp.resolve("g.gif")));
        assertEquals(1, g.channels());
        for (int i = 0; i < vals.length; i++) assertEquals(vals[i], g.data()[i], "gray GIF pixel " + i);
    }

    @Test void alphaIsDroppedAnd16BitIsRescaled() throws Exception {
        BufferedImage a = new BufferedImage(7, 5, BufferedImage.TYPE_INT_ARGB);
        a.setRGB(2, 3, 0x80_10_20_30);
        FloatImage im = ImageFiles.readImage(Fixtures.write(a, "png", tmp.resolve("a.png")));
        assertEquals(3, im.channels());
        assertEquals(0x10, im.get(0, 3, 2));
        assertEquals(0x30, im.get(2, 3, 2));
        BufferedImage g16 = new BufferedImage(6, 4, BufferedImage.TYPE_USHORT_GRAY);
        g16.getRaster().setSample(1, 2, 0, 65535);
        g16.getRaster().setSample(2, 2, 0, 257 * 100);
        FloatImage g = ImageFiles.readImage(Fixtures.write(g16, "png", tmp.resolve("g16.png")));
        assertEquals(1, g.channels());
        assertEquals(255f, g.get(0, 2, 1), 1e-3);
        assertEquals(100f, g.get(0, 2, 2), 1e-3);
    }

    @Test void corruptTruncatedAndEmptyFilesNameTheFile() throws Exception {
        Path good = Fixtures.write(Fixtures.randomRgb(40, 30, 2), "png", tmp.resolve("good.png"));
        byte[] bytes = Files.readAllBytes(good);
        Path trunc = Files.write(tmp.resolve("trunc.png"), Arrays.copyOf(bytes, bytes.length / 2));
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readImage(trunc));
        assertTrue(e.getMessage().contains(trunc.toString()), e.getMessage());
        Path garbage = Files.write(tmp.resolve("garbage.png"), "this is not an image at all".getBytes());
        e = assertThrows(DataException.class, () -> ImageFiles.readImage(garbage));
        assertTrue(e.getMessage().contains(garbage.toString()) && e.getMessage().contains("not a PNG"), e.getMessage());
        Path empty = Files.write(tmp.resolve("empty.tif"), new byte[0]);
        e = assertThrows(DataException.class, () -> ImageFiles.readLabels(empty, 2));
        assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("empty"), e.getMessage());
        Path missing = tmp.resolve("missing.png");
        e = assertThrows(DataException.class, () -> ImageFiles.readImage(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test void maskRules() throws Exception {
        int w = 9, h = 7;
        int[] bin = Fixtures.randomLabels(w * h, 2, 4);
        int[] b255 = Arrays.stream(bin).map(v -> v * 255).toArray();
        LabelMap m = ImageFiles.readLabels(Fixtures.write(Fixtures.gray(w, h, b255), "png", tmp.resolve("m.png")), 2);
        assertArrayEquals(bin, m.labels());
        int[] three = Fixtures.randomLabels(w * h, 3, 5);
        m = ImageFiles.readLabels(Fixtures.write(Fixtures.gray(w, h, three), "png", tmp.resolve("k3.png")), 3);
        assertArrayEquals(three, m.labels());
        // values outside the classes: named file and value
        int[] bad = three.clone();
        bad[10] = 7;
        Path badFile = Fixtures.write(Fixtures.gray(w, h, bad), "png", tmp.resolve("bad.png"));
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readLabels(badFile, 3));
        assertTrue(e.getMessage().contains(badFile.toString()) && e.getMessage().contains("value 7"), e.getMessage());
        assertTrue(e.getMessage().endsWith("is neither a class 0..2 nor 255 (ignore), and the mask is not a 0/255 binary mask"),
                e.getMessage());
        // 0/255 with a third value is not binary: 255 is "ignore" (README: mask value 255 means ignore)
        int[] mixed = b255.clone();
        mixed[3] = 1;
        mixed[4] = 255;
        Path mixedFile = Fixtures.write(Fixtures.gray(w, h, mixed), "png", tmp.resolve("mixed.png"));
        for (int k : new int[] {2, 3}) {
            int[] want = mixed.clone();   // 0, 1 and 255 kept as they are
            assertArrayEquals(want, ImageFiles.readLabels(mixedFile, k).labels());
        }
        assertEquals(LabelMap.IGNORE, ImageFiles.readLabels(mixedFile, 2).get(0, 4));
        // RGB mask whose channels differ: refused naming the file
        BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        rgb.setRGB(2, 1, 0xFF0000);
        Path rgbFile = Fixtures.write(rgb, "png", tmp.resolve("rgbmask.png"));
        e = assertThrows(DataException.class, () -> ImageFiles.readLabels(rgbFile, 2));
        assertTrue(e.getMessage().contains(rgbFile.toString()) && e.getMessage().contains("RGB"), e.getMessage());
        // RGB with equal channels is a gray mask
        BufferedImage grayRgb = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        grayRgb.setRGB(2, 1, 0xFFFFFF);
        m = ImageFiles.readLabels(Fixtures.write(grayRgb, "png", tmp.resolve("grayrgb.png")), 2);
        assertEquals(1, m.get(1, 2));
        assertEquals(1, Arrays.stream(m.labels()).sum());
        // colour palette (VOC style): palette indices are the classes
        byte[] r = {0, (byte) 128, 0}, g = {0, 0, (byte) 128}, b = {0, 0, 0};
        BufferedImage pal = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 3, r, g, b));
        pal.getRaster().setSamples(0, 0, w, h, 0, three);
        m = ImageFiles.readLabels(Fixtures.write(pal, "png", tmp.resolve("voc.png")), 3);
        assertArrayEquals(three, m.labels());
    }

    /** 255 means ignore in any mask that is not a pure 0/255 (0/65535) gray binary mask. */
    @Test void value255IsIgnoreOutsideBinaryMasks() throws Exception {
        int w = 9, h = 7;
        // VOC: palette indices 0 (background), 15 (person), 255 (the border, "void"), 21 classes
        byte[] r = new byte[256], g = new byte[256], b = new byte[256];
        r[15] = (byte) 192; g[15] = (byte) 128; b[15] = (byte) 128;
        r[255] = (byte) 224; g[255] = (byte) 224; b[255] = (byte) 192;
        int[] voc = new int[w * h];
        for (int i = 0; i < voc.length; i++) voc[i] = i % 3 == 0 ? 0 : i % 3 == 1 ? 15 : 255;
        BufferedImage pal = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 256, r, g, b));
        pal.getRaster().setSamples(0, 0, w, h, 0, voc);
        Path vocFile = Fixtures.write(pal, "png", tmp.resolve("voc21.png"));
        assertArrayEquals(voc, ImageFiles.readLabels(vocFile, 21).labels());
        // A palette mask holding only indices 0 and 255 is background and void, not a binary mask.
        int[] border = Arrays.stream(voc).map(v -> v == 15 ? 0 : v).toArray();
        pal.getRaster().setSamples(0, 0, w, h, 0, border);
        assertArrayEquals(border, ImageFiles.readLabels(Fixtures.write(pal, "png", tmp.resolve("voc-border.png")), 21).labels());
        // A gray 0/255 mask stays binary (255 = foreground), whatever --classes says.
        int[] b255 = Arrays.stream(voc).map(v -> v == 255 ? 255 : 0).toArray();
        int[] bin = Arrays.stream(b255).map(v -> v / 255).toArray();
        for (int k : new int[] {2, 3, 21})
            assertArrayEquals(bin, ImageFiles.readLabels(Fixtures.write(Fixtures.gray(w, h, b255), "png", tmp.resolve("b.png")), k).labels());
        // 16-bit: 0/65535 is binary; 255 in a mask of class indices is ignore; 65535 among classes is refused
        int[] v16 = {0, 1, 255, 2, 0, 1};
        BufferedImage u16 = new BufferedImage(3, 2, BufferedImage.TYPE_USHORT_GRAY);
        u16.getRaster().setSamples(0, 0, 3, 2, 0, v16);
        assertArrayEquals(v16, ImageFiles.readLabels(Fixtures.write(u16, "png", tmp.resolve("u16.png")), 3).labels());
        u16.getRaster().setSample(0, 0, 0, 65535);
        Path bad16 = Fixtures.write(u16, "png", tmp.resolve("bad16.png"));
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readLabels(bad16, 3));
        assertEquals("mask " + bad16 + ": value 65535 at (x=0, y=0) is neither a class 0..2 nor 255 (ignore), and the mask is not a"
                + " 0/65535 binary mask", e.getMessage());
        u16.getRaster().setSamples(0, 0, 3, 2, 0, new int[] {0, 65535, 65535, 0, 0, 65535});
        assertArrayEquals(new int[] {0, 1, 1, 0, 0, 1}, ImageFiles.readLabels(Fixtures.write(u16, "png", tmp.resolve("b16.png")), 2).labels());
    }

    @Test void writersRoundTripAndLeaveNoTempFiles() throws Exception {
        int w = 11, h = 8;
        LabelMap bin = new LabelMap(h, w, Fixtures.randomLabels(w * h, 2, 8));
        Path out = tmp.resolve("out");
        ImageWriters.writeLabelsPng(out.resolve("bin.png"), bin, 2);
        assertArrayEquals(bin.labels(), ImageFiles.readLabels(out.resolve("bin.png"), 2).labels());
        assertEquals(255f, maxOf(ImageFiles.readImage(out.resolve("bin.png"))), "binary masks are written 0/255");
        LabelMap k4 = new LabelMap(h, w, Fixtures.randomLabels(w * h, 4, 9));
        ImageWriters.writeLabelsPng(out.resolve("k4.png"), k4, 4);
        assertArrayEquals(k4.labels(), ImageFiles.readLabels(out.resolve("k4.png"), 4).labels());
        FloatImage img = ImageFiles.readImage(Fixtures.write(Fixtures.randomRgb(w, h, 3), "png", tmp.resolve("i.png")));
        ImageWriters.writeImagePng(out.resolve("img.png"), img);
        assertArrayEquals(img.data(), ImageFiles.readImage(out.resolve("img.png")).data());
        // overlay: TP green-ish, FP red-ish, FN blue-ish, TN untouched
        int[] p = new int[w * h], t = new int[w * h];
        p[0] = 1; t[0] = 1;  // TP
        p[1] = 1;            // FP
        t[2] = 1;            // FN
        ImageWriters.writeOverlayPng(out.resolve("ov.png"), img, new LabelMap(h, w, p), new LabelMap(h, w, t));
        FloatImage ov = ImageFiles.readImage(out.resolve("ov.png"));
        assertTrue(ov.get(1, 0, 0) > ov.get(0, 0, 0) - 60 && ov.get(1, 0, 0) >= 0.55f * 200 - 1, "TP green");
        assertTrue(ov.get(0, 0, 1) >= 0.55f * 255 - 1, "FP red");
        assertTrue(ov.get(2, 0, 2) >= 0.55f * 255 - 1, "FN blue");
        for (int c = 0; c < 3; c++) assertEquals(img.get(c, 3, 3), ov.get(c, 3, 3), "TN unchanged");
        try (var s = Files.list(out)) {
            assertTrue(s.allMatch(f -> !f.getFileName().toString().endsWith(".tmp")), "temp files left behind");
        }
    }

    private static float maxOf(FloatImage im) {
        float m = 0;
        for (float v : im.data()) m = Math.max(m, v);
        return m;
    }

    /** The name of an in-memory image only labels messages: any string works, a NUL included. */
    @Test void anInMemoryImageTakesAnyLabel() throws Exception {
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(70, 66, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", png);
        assertEquals(70, ImageFiles.readImage(png.toByteArray(), "a\0b.png").width());
        DataException e = assertThrows(DataException.class, () -> ImageFiles.readImage(new byte[0], "s3a://bucket/x\0.png"));
        assertTrue(e.getMessage().contains("x\\0.png") && e.getMessage().contains("empty file"), e.getMessage());
    }
}
