package convunext.data;

import convunext.io.AtomicFiles;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * PNG writers for predictions: label masks (8-bit gray), images and colour overlays. Every file
 * goes through {@link AtomicFiles} (temp file + rename).
 */
public final class ImageWriters {
    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        ImageIO.setUseCache(false);
    }

    private ImageWriters() {}

    /** Overlay colours (RGB): true positive, false positive (predicted only), false negative (missed). */
    public static final int[] TP_COLOR = {0, 200, 0}, FP_COLOR = {255, 40, 40}, FN_COLOR = {40, 120, 255};
    private static final float ALPHA = 0.55f;

    /**
     * Writes labels as an 8-bit gray PNG. With {@code numClasses == 2} class 1 is written as 255
     * (viewable, and read back as {0,1} by {@link ImageFiles#readLabels}); otherwise the class
     * index itself is the gray value. IGNORE (255) is written as 255 only for K > 2.
     */
    public static void writeLabelsPng(Path file, LabelMap labels, int numClasses) {
        writePng(file, labelsImage(labels, numClasses, file.toString()));
    }

    /** The image {@link #writeLabelsPng} writes (same values); {@code name} labels errors. */
    public static BufferedImage labelsImage(LabelMap labels, int numClasses, String name) {
        int w = labels.width(), h = labels.height();
        BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = im.getRaster();
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = labels.get(y, x);
                if (v < 0 || v > 255)
                    throw new IllegalArgumentException("writeLabelsPng: label " + v + " does not fit 8 bits (" + name + ")");
                row[x] = numClasses == 2 ? (v == 0 ? 0 : 255) : v;
            }
            r.setSamples(0, y, w, 1, 0, row);
        }
        return im;
    }

    /** The PNG encoding of an image, as every writer here produces it (for non-local file systems). */
    public static byte[] pngBytes(BufferedImage im) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            if (!ImageIO.write(im, "png", out)) throw new IOException("no PNG writer available");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot encode PNG: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /** Writes a 1- or 3-channel image (values 0..255, clamped and rounded) as a PNG. */
    public static void writeImagePng(Path file, FloatImage img) {
        writePng(file, toRgb(img, img.channels() == 1));
    }

    /**
     * Writes the image with the prediction blended over it: with {@code truth} (may be null),
     * correct foreground green, false positives red, misses blue; without truth, predicted
     * foreground red. Any nonzero class counts as foreground; IGNORE in truth is left untouched.
     */
    public static void writeOverlayPng(Path file, FloatImage img, LabelMap pred, LabelMap truth) {
        if (pred.height() != img.height() || pred.width() != img.width())
            throw new IllegalArgumentException("writeOverlayPng: prediction " + pred.width() + "x" + pred.height()
                    + " != image " + img.width() + "x" + img.height());
        if (truth != null && (truth.height() != img.height() || truth.width() != img.width()))
            throw new IllegalArgumentException("writeOverlayPng: truth " + truth.width() + "x" + truth.height()
                    + " != image " + img.width() + "x" + img.height());
        BufferedImage im = toRgb(img, false);
        WritableRaster r = im.getRaster();
        int[] px = new int[3];
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                boolean p = pred.get(y, x) != 0;
                int t = truth == null ? 0 : truth.get(y, x);
                int[] col = null;
                if (truth == null) col = p ? FP_COLOR : null;
                else if (t != LabelMap.IGNORE) col = p && t != 0 ? TP_COLOR : p ? FP_COLOR : t != 0 ? FN_COLOR : null;
                if (col == null) continue;
                r.getPixel(x, y, px);
                for (int c = 0; c < 3; c++) px[c] = Math.round((1 - ALPHA) * px[c] + ALPHA * col[c]);
                r.setPixel(x, y, px);
            }
        }
        writePng(file, im);
    }

    private static BufferedImage toRgb(FloatImage img, boolean gray) {
        int w = img.width(), h = img.height(), ch = img.channels();
        if (ch != 1 && ch != 3) throw new IllegalArgumentException("image PNG: need 1 or 3 channels, got " + ch);
        BufferedImage im = new BufferedImage(w, h, gray ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster r = im.getRaster();
        int bands = gray ? 1 : 3;
        int[] row = new int[w];
        for (int b = 0; b < bands; b++) {
            int c = ch == 1 ? 0 : b;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) row[x] = Math.max(0, Math.min(255, Math.round(img.get(c, y, x))));
                r.setSamples(0, y, w, 1, b, row);
            }
        }
        return im;
    }

    static void writePng(Path file, BufferedImage im) {
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(im, "png", out)) throw new IOException("no PNG writer available");
        });
    }
}
