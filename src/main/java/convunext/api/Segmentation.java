package convunext.api;

import convunext.data.ImageWriters;
import convunext.data.LabelMap;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * The result of segmenting one image: a class per pixel and the class probabilities behind it,
 * both row-major (index {@code y * width() + x}). Immutable; the array accessors return copies.
 * The mask it writes is the PNG {@code convunext predict} writes for the same image, weights and
 * options, byte for byte.
 */
public final class Segmentation {
    private final String source;
    private final int width, height, classes;
    private final int[] labels;
    private final float[] probabilities;   // [classes][height][width]

    Segmentation(String source, int width, int height, int classes, int[] labels, float[] probabilities) {
        this.source = source;
        this.width = width;
        this.height = height;
        this.classes = classes;
        this.labels = labels;
        this.probabilities = probabilities;
    }

    /** What was segmented: the file path, or the name given with the image. */
    public String source() { return source; }

    public int width() { return width; }

    public int height() { return height; }

    /** Number of classes of the model, background (class 0) included. */
    public int classes() { return classes; }

    /** The class of each pixel, row-major ({@code width() * height()} values in [0, classes())). */
    public int[] labels() { return labels.clone(); }

    /** The class of pixel (x, y). */
    public int label(int x, int y) {
        checkPixel(x, y);
        return labels[y * width + x];
    }

    /**
     * The probability of class {@code cls} at each pixel, row-major (softmax output, blended over
     * windows and averaged over flips as configured). The classes' values sum to 1 per pixel up
     * to float rounding; {@link #labels()} is their arg-max (the lowest class wins a tie).
     */
    public float[] probabilities(int cls) {
        if (cls < 0 || cls >= classes) throw new IndexOutOfBoundsException("class " + cls + " of " + classes);
        float[] p = new float[width * height];
        System.arraycopy(probabilities, cls * p.length, p, 0, p.length);
        return p;
    }

    /** How many pixels fall in each class (length {@link #classes()}). */
    public long[] pixelsPerClass() {
        long[] n = new long[classes];
        for (int v : labels) n[v]++;
        return n;
    }

    /**
     * The mask as an 8-bit gray image: 0/255 for a two-class model (background/foreground),
     * the class index otherwise — what {@code predict} writes.
     */
    public BufferedImage toMaskImage() {
        return ImageWriters.labelsImage(labelMap(), classes, source);
    }

    /** {@link #toMaskImage()} encoded as PNG, the bytes {@code predict} writes. */
    public byte[] toMaskPng() {
        return ImageWriters.pngBytes(toMaskImage());
    }

    /**
     * Writes {@link #toMaskImage()} as a PNG through a temporary file and a rename, so the file
     * is never seen half-written; an existing file is replaced.
     *
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public void writeMask(Path file) {
        java.util.Objects.requireNonNull(file, "file");
        ImageWriters.writeLabelsPng(file, labelMap(), classes);
    }

    private LabelMap labelMap() { return new LabelMap(height, width, labels); }

    private void checkPixel(int x, int y) {
        if (x < 0 || x >= width || y < 0 || y >= height)
            throw new IndexOutOfBoundsException("pixel (" + x + ", " + y + ") outside " + width + "×" + height);
    }

    @Override public String toString() {
        return "Segmentation of " + source + ": " + width + "×" + height + ", " + classes + " classes";
    }
}
