package convunext.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads images, label masks and ROI masks with javax.imageio (headless-safe), choosing the decoder
 * from the file's leading bytes, so a JPEG named {@code .bmp} (as some DRIVE copies ship) loads.
 *
 * <p>Images become {@link FloatImage} planes on the 0..255 scale: gray files (including gray
 * palettes) give 1 channel, everything else 3 (RGB); alpha is dropped. CMYK and YCCK JPEGs, and
 * 8-bit CMYK TIFFs, are converted to RGB ({@link JpegCmyk}); floating-point samples are read on
 * the 0..1 scale; signed and 32-bit integer samples are refused (see {@code componentSamples}). A
 * file the decoder reports as ending early (a truncated JPEG, PNG, GIF, TIFF or BMP) is refused,
 * naming it, rather than used with a grey or black part.
 *
 * <p>Mask rules ({@link #readLabels}): a mask must be single-valued per pixel (gray, a palette,
 * or RGB with equal channels; RGB whose channels differ is refused). A gray mask holding only 0
 * and full white (255, or 65535 for 16-bit) is a binary mask: 0 → class 0, full white → class 1.
 * Any other mask holds class indices 0..numClasses−1 and 255 = ignore ({@link LabelMap#IGNORE},
 * excluded from the loss and the metrics); any other value is refused, naming the file, the
 * value and where. A colour palette (Pascal VOC style) is read as palette indices, never as a
 * binary mask, so VOC's border index 255 is ignore.
 *
 * <p>Every file, image or mask, is used as a viewer shows it: its EXIF orientation (JPEG, TIFF,
 * PNG) is applied after decoding ({@link ExifOrientation}), so its width and height are the
 * displayed ones.
 */
public final class ImageFiles {
    static {
        // AWT must never try to open a display; ImageIO itself needs none.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        ImageIO.setUseCache(false);
    }

    private ImageFiles() {}

    /**
     * One decoded file: per-channel integer samples before any interpretation, or, for a
     * floating-point file, {@code floats} on the 0..1 scale ({@code planes} null).
     */
    record Decoded(Path file, int channels, int height, int width, int bits, int[][] planes,
                   boolean paletteIndices, float[][] floats) {
        Decoded(Path file, int channels, int height, int width, int bits, int[][] planes, boolean paletteIndices) {
            this(file, channels, height, width, bits, planes, paletteIndices, null);
        }
    }

    /** The detected format of a file, or null if it is not a recognised image (or unreadable). */
    public static ImageFormat sniff(Path file) {
        try (var in = Files.newInputStream(file)) {
            return ImageFormat.sniff(in.readNBytes(ImageFormat.MAGIC_LENGTH));
        } catch (IOException e) {
            return null;
        }
    }

    /** Reads an image as float planes [C,H,W] (C = 1 for gray, 3 for colour), values 0..255. */
    public static FloatImage readImage(Path file) {
        return toFloat(decode(file, false));
    }

    /**
     * As {@link #readImage(Path)} for an encoded file already in memory (a Spark binaryFile row, an
     * upload); {@code name} only labels error messages.
     */
    public static FloatImage readImage(byte[] encoded, String name) {
        return toFloat(decode(encoded, label(name), false));
    }

    /** A label as a Path for messages: any string (a URI, a NUL) is a label, not a file to open. */
    static Path label(String name) {
        try {
            return Path.of(name);
        } catch (java.nio.file.InvalidPathException e) {
            return Path.of(name.replace("\0", "\\0"));
        }
    }

    /** As {@link #readImage(Path)} for an image already decoded by the caller (same conversion). */
    public static FloatImage toFloatImage(BufferedImage image, String name) {
        try {
            return toFloat(toPlanes(label(name), image, false));
        } catch (DataException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DataException("cannot convert the pixels of " + name + ": " + e, e);
        }
    }

    private static FloatImage toFloat(Decoded d) {
        int n = d.height * d.width;
        float[] data = new float[d.channels * n];
        if (d.floats != null) {
            for (int c = 0; c < d.channels; c++)
                for (int i = 0; i < n; i++) data[c * n + i] = (float) (d.floats[c][i] * 255.0);
            return new FloatImage(d.channels, d.height, d.width, data);
        }
        float scale = d.bits == 8 ? 1f : 255f / ((1 << d.bits) - 1);
        for (int c = 0; c < d.channels; c++) {
            int[] p = d.planes[c];
            for (int i = 0; i < n; i++) data[c * n + i] = p[i] * scale;
        }
        return new FloatImage(d.channels, d.height, d.width, data);
    }

    /** Reads a label mask; see the class comment for the value rules. */
    public static LabelMap readLabels(Path file, int numClasses) {
        if (numClasses < 2) throw new IllegalArgumentException("readLabels: numClasses must be >= 2, got " + numClasses);
        return labels(decode(file, true), numClasses);
    }

    /** As {@link #readLabels(Path, int)} for an encoded file in memory; {@code name} labels errors. */
    public static LabelMap readLabels(byte[] encoded, String name, int numClasses) {
        if (numClasses < 2) throw new IllegalArgumentException("readLabels: numClasses must be >= 2, got " + numClasses);
        return labels(decode(encoded, label(name), true), numClasses);
    }

    private static LabelMap labels(Decoded d, int numClasses) {
        Path file = d.file;
        int[] v = singlePlane(d, "mask");
        int full = (1 << d.bits) - 1;
        if (numClasses > LabelMap.IGNORE)   // class 255 would be read as "ignore" and silently not scored
            throw new IllegalArgumentException("masks hold classes 0.." + (LabelMap.IGNORE - 1) + " (" + LabelMap.IGNORE
                    + " means ignore): the number of classes must be 2.." + LabelMap.IGNORE + ", got " + numClasses);
        // A 0/full binary mask: 255 (or 65535) is the foreground. Colour palettes hold indices, so
        // their index 255 (VOC's border colour) is never read as foreground.
        boolean binary = !d.paletteIndices;
        for (int i = 0; i < v.length && binary; i++) binary = v[i] == 0 || v[i] == full;
        int[] labels = new int[v.length];
        if (binary) {
            for (int i = 0; i < v.length; i++) labels[i] = v[i] == 0 ? 0 : 1;
        } else {
            // Class indices, and 255 = ignore (LabelMap.IGNORE ≥ numClasses, so never a class).
            for (int i = 0; i < v.length; i++) {
                int x = v[i];
                if (x >= numClasses && x != LabelMap.IGNORE)
                    throw new DataException("mask " + file + ": value " + x + " at (x=" + (i % d.width) + ", y=" + (i / d.width)
                            + ") is neither a class 0.." + (numClasses - 1) + " nor " + LabelMap.IGNORE
                            + " (ignore), and the mask is not a 0/" + full + " binary mask");
                labels[i] = x;
            }
        }
        return new LabelMap(d.height, d.width, labels);
    }

    /** Reads a region-of-interest (field-of-view) mask: true where the file is nonzero. */
    public static boolean[] readRoi(Path file, int expectHeight, int expectWidth) {
        return roi(decode(file, true), expectHeight, expectWidth);
    }

    /** As {@link #readRoi(Path, int, int)} for an encoded file in memory; {@code name} labels errors. */
    public static boolean[] readRoi(byte[] encoded, String name, int expectHeight, int expectWidth) {
        return roi(decode(encoded, label(name), true), expectHeight, expectWidth);
    }

    private static boolean[] roi(Decoded d, int expectHeight, int expectWidth) {
        Path file = d.file;
        if (d.height != expectHeight || d.width != expectWidth)
            throw new DataException("ROI mask " + file + " is " + d.width + "×" + d.height
                    + " but its image is " + expectWidth + "×" + expectHeight);
        int[] v = singlePlane(d, "ROI mask");
        boolean[] roi = new boolean[v.length];
        // Inside where the value is above half the mask's largest: 0/1, 0/255 and 0/65535 masks read
        // as "not 0 is inside", and a lossy file's ringing (a JPEG puts 1..25 beside the edge of a
        // 0/255 disc; read as inside it added 1.6% to DRIVE's field of view) stays outside, as do
        // the dark half of an anti-aliased edge's steps.
        int max = 0;
        for (int x : v) max = Math.max(max, x);
        for (int i = 0; i < v.length; i++) roi[i] = 2L * v[i] > max;
        return roi;
    }

    /** Width and height of an image without converting its pixels (still decodes it). */
    public static int[] size(Path file) {
        Decoded d = decode(file, true);
        return new int[] {d.width, d.height};
    }

    private static int[] singlePlane(Decoded d, String what) {
        if (d.floats != null)
            throw new DataException(what + " " + d.file + " has floating-point samples; masks must hold integers");
        if (d.channels == 1) return d.planes[0];
        int[] r = d.planes[0], g = d.planes[1], b = d.planes[2];
        for (int i = 0; i < r.length; i++) {
            if (r[i] != g[i] || r[i] != b[i])
                throw new DataException(what + " " + d.file + " is an RGB image whose channels differ (at x="
                        + (i % d.width) + ", y=" + (i / d.width) + ": " + r[i] + "," + g[i] + "," + b[i]
                        + "); masks must be grayscale or palette images of class indices");
        }
        return r;
    }

    // ------------------------------------------------------------------ decoding

    static Decoded decode(Path file, boolean keepPaletteIndices) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            // a loop of links (a → b → a) is not "missing": ELOOP, not ENOENT
            if (Dataset.danglingLink(file)) throw new DataException("cannot read image file " + file + ": it is a symbolic link to "
                    + linkTarget(file) + (e instanceof java.nio.file.NoSuchFileException ? ", which does not exist"
                    : ", which cannot be followed (" + (e instanceof java.nio.file.FileSystemException f && f.getReason() != null
                            ? f.getReason() : e.toString()) + "; a loop of links?)"), e);
            throw new DataException("cannot read image file " + file + ": " + e, e);
        }
        return decode(bytes, file, keepPaletteIndices);
    }

    private static String linkTarget(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "a missing file";
        }
    }

    /** The file's pixels as a viewer shows them: decoded, then its EXIF orientation applied ({@link ExifOrientation}). */
    static Decoded decode(byte[] bytes, Path file, boolean keepPaletteIndices) {
        ImageFormat fmt = ImageFormat.sniff(bytes);
        Decoded d = decodeStored(bytes, fmt, file, keepPaletteIndices);
        return ExifOrientation.apply(d, ExifOrientation.of(bytes, fmt));
    }

    private static Decoded decodeStored(byte[] bytes, ImageFormat fmt, Path file, boolean keepPaletteIndices) {
        if (fmt == null)
            throw new DataException("cannot read image file " + file + ": not a PNG, TIFF, GIF, JPEG or BMP file ("
                    + (bytes.length == 0 ? "empty file" : "unrecognised leading bytes") + ")");
        if (fmt == ImageFormat.JPEG) {
            JpegCmyk.Markers m = JpegCmyk.scan(bytes);
            if (m.components() == 4) {
                try {
                    Raster r = read(file, bytes, fmt, true).raster;
                    int[][] rgb = JpegCmyk.toRgb(r, m);
                    return new Decoded(file, 3, r.getHeight(), r.getWidth(), 8, rgb, false);
                } catch (IOException | RuntimeException e) {
                    if (e instanceof DataException d) throw d;
                    throw new DataException("cannot decode " + fmt + " (CMYK) image " + file + " (corrupt or unsupported): " + e, e);
                }
            }
        }
        BufferedImage im;
        try {
            im = read(file, bytes, fmt, false).image;
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException d) throw d;
            throw new DataException("cannot decode " + fmt + " image " + file + " (truncated, corrupt or unsupported): " + e, e);
        }
        if (im == null || im.getWidth() <= 0 || im.getHeight() <= 0)
            throw new DataException("cannot decode " + fmt + " image " + file + ": the decoder returned no image");
        try {
            return toPlanes(file, im, keepPaletteIndices);
        } catch (DataException e) {
            throw e;   // already says what and where
        } catch (RuntimeException e) {
            throw new DataException("cannot convert the pixels of " + file + ": " + e, e);
        }
    }

    private record Read(BufferedImage image, Raster raster) {}

    /**
     * Decodes the first image. A decoder warning that the data ended early (libjpeg's "Premature
     * end of JPEG file", "Truncated File - Missing EOI marker") is an error: ImageIO would hand back
     * the image with its missing part filled grey. Other warnings (e.g. extraneous bytes before a
     * marker, which libjpeg skips) leave the pixels intact and are accepted.
     */
    private static Read read(Path file, byte[] bytes, ImageFormat fmt, boolean raster) throws IOException {
        Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(fmt.readerName);
        if (!it.hasNext()) throw new IOException("no javax.imageio reader for " + fmt);
        ImageReader reader = it.next();
        List<String> truncated = new ArrayList<>();
        reader.addIIOReadWarningListener((source, warning) -> {
            String w = warning.toLowerCase(Locale.ROOT);
            if (w.contains("premature end") || w.contains("truncated")) truncated.add(warning);
        });
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            requireDecodable(file, reader.getWidth(0), reader.getHeight(0), decodeBytesPerPixel(reader), Runtime.getRuntime().maxMemory());
            Read r = raster ? new Read(null, reader.readRaster(0, null)) : new Read(reader.read(0), null);
            if (!truncated.isEmpty())
                throw new DataException("image " + file + " is truncated or damaged (" + fmt + " decoder: "
                        + String.join("; ", truncated) + "); the missing part would be filled grey");
            return r;
        } finally {
            reader.dispose();
        }
    }

    /** Bytes a decoded pixel takes at the least: its stored sample, and its int and float copies (one channel). */
    static final int MIN_DECODE_BYTES_PER_PIXEL = 1 + Integer.BYTES + Float.BYTES;

    /**
     * Bytes a pixel of the reader's first image takes at the least once decoded: its stored samples,
     * and an int and a float copy of each colour channel (1 for gray, 3 otherwise); {@link
     * #MIN_DECODE_BYTES_PER_PIXEL} when the header does not say.
     */
    private static int decodeBytesPerPixel(ImageReader reader) {
        ImageTypeSpecifier raw;
        try {
            raw = reader.getRawImageType(0);
        } catch (IOException | RuntimeException e) {
            return MIN_DECODE_BYTES_PER_PIXEL;   // reading the pixels says what is wrong, as before
        }
        if (raw == null) return MIN_DECODE_BYTES_PER_PIXEL;
        SampleModel sm = raw.getSampleModel();
        int stored = 0;
        for (int b = 0; b < sm.getNumBands(); b++) stored += (sm.getSampleSize(b) + 7) / 8;
        int colours = sm.getNumBands() >= 3 ? 3 : 1;
        return Math.max(1, stored) + colours * (Integer.BYTES + Float.BYTES);
    }

    /**
     * Refuses, naming the file and the size its header declares, an image whose decoding alone
     * would not fit one Java array or {@code heapBytes} (the JVM's -Xmx) at {@code bytesPerPixel}:
     * a 2 KB PNG can declare 40000×40000 pixels, and the decoder's OutOfMemoryError would end a
     * whole folder (exit 3, naming no file) instead of being this file's failure.
     */
    static void requireDecodable(Path file, int width, int height, int bytesPerPixel, long heapBytes) {
        long pixels = (long) width * height;
        if (pixels > Integer.MAX_VALUE - 8)
            throw new DataException("image " + file + " is " + width + "×" + height + ": more pixels than one Java array holds");
        double need = (double) pixels * bytesPerPixel;
        if (need > heapBytes)
            throw new DataException(String.format(Locale.ROOT, "image %s is %d×%d: decoding it needs at least %s, more than"
                    + " this JVM's heap (%s); give Java more memory (-Xmx) or split the image", file, width, height,
                    bytes(need), bytes(heapBytes)));
    }

    /** A byte count for a message: GiB from 1 GiB up, else MiB. */
    private static String bytes(double b) {
        return b >= 0x1p30 ? String.format(Locale.ROOT, "%.1f GiB", b / 0x1p30) : String.format(Locale.ROOT, "%.0f MiB", b / 0x1p20);
    }

    private static Decoded toPlanes(Path file, BufferedImage im, boolean keepPaletteIndices) {
        int w = im.getWidth(), h = im.getHeight(), n = w * h;
        ColorModel cm = im.getColorModel();
        Raster r = im.getRaster();
        if (cm instanceof IndexColorModel icm) {
            int[] idx = r.getSamples(0, 0, w, h, 0, (int[]) null);
            int size = icm.getMapSize();
            boolean gray = true;
            for (int i = 0; i < size && gray; i++)
                gray = icm.getRed(i) == icm.getGreen(i) && icm.getRed(i) == icm.getBlue(i);
            if (gray) {
                int[] p = new int[n];
                for (int i = 0; i < n; i++) p[i] = icm.getRed(idx[i]);
                return new Decoded(file, 1, h, w, 8, new int[][] {p}, false);
            }
            if (keepPaletteIndices) return new Decoded(file, 1, h, w, 8, new int[][] {idx}, true);
            int[][] p = new int[3][n];
            for (int i = 0; i < n; i++) {
                p[0][i] = icm.getRed(idx[i]); p[1][i] = icm.getGreen(idx[i]); p[2][i] = icm.getBlue(idx[i]);
            }
            return new Decoded(file, 3, h, w, 8, p, false);
        }
        int tt = r.getTransferType();
        if (cm instanceof ComponentColorModel && (tt == DataBuffer.TYPE_BYTE || tt == DataBuffer.TYPE_USHORT)) {
            int cs = cm.getColorSpace().getType();
            int nc = cm.getNumColorComponents();
            int bits = cm.getComponentSize(0);
            boolean sameBits = true;
            for (int c = 1; c < nc; c++) sameBits &= cm.getComponentSize(c) == bits;
            if (sameBits && (bits == 8 || bits == 16) && (nc == 1 && cs == ColorSpace.TYPE_GRAY
                    || nc == 3 && cs == ColorSpace.TYPE_RGB)) {
                int[][] p = new int[nc][];
                for (int c = 0; c < nc; c++) p[c] = r.getSamples(0, 0, w, h, c, (int[]) null);
                return new Decoded(file, nc, h, w, bits, p, false);
            }
        }
        if (cm instanceof ComponentColorModel) {
            Decoded exact = componentSamples(file, cm, r, w, h);
            if (exact != null) return exact;
        }
        // Packed RGB (BMP), odd bit depths, other colour spaces: let AWT convert to sRGB. (4-component
        // JPEGs never get here: JpegCmyk decodes them; CMYK TIFFs and non-8/16-bit samples neither.)
        int[] argb = im.getRGB(0, 0, w, h, null, 0, w);
        int[][] p = new int[3][n];
        for (int i = 0; i < n; i++) {
            p[0][i] = (argb[i] >> 16) & 0xFF; p[1][i] = (argb[i] >> 8) & 0xFF; p[2][i] = argb[i] & 0xFF;
        }
        if (cm.getNumColorComponents() == 1) return new Decoded(file, 1, h, w, 8, new int[][] {p[0]}, false);
        return new Decoded(file, 3, h, w, 8, p, false);
    }

    /**
     * What AWT's generic conversion ({@code getRGB}) would get wrong, decoded exactly or refused
     * (null: leave the image to it). CMYK with 8-bit samples (TIFF: 0 = no ink) goes through
     * {@link JpegCmyk}'s ink-to-RGB step, its ICC profile when it has one (AWT's built-in CMYK space
     * would apply a gamma to already-encoded values). Floating-point gray or RGB samples are read
     * on the 0..1 scale (the float TIFF convention, and Java's float colour models'); a value outside
     * it is refused. Signed or 32-bit integer samples, and any other floating-point or CMYK layout,
     * are refused naming the file and the sample format (AWT would clip or rescale them silently).
     */
    private static Decoded componentSamples(Path file, ColorModel cm, Raster r, int w, int h) {
        int tt = r.getTransferType(), cs = cm.getColorSpace().getType(), nc = cm.getNumColorComponents();
        String format = sampleFormat(tt, cm.getComponentSize(0));
        if (cs == ColorSpace.TYPE_CMYK) {
            if (nc != 4 || tt != DataBuffer.TYPE_BYTE)
                throw new DataException("cannot decode " + file + ": CMYK with " + format + " samples is not supported (8-bit CMYK is)");
            int[][] ink = new int[4][];
            for (int c = 0; c < 4; c++) ink[c] = r.getSamples(0, 0, w, h, c, (int[]) null);
            ColorSpace profile = cm.getColorSpace() instanceof java.awt.color.ICC_ColorSpace ? cm.getColorSpace() : null;
            return new Decoded(file, 3, h, w, 8, JpegCmyk.inkToRgb(ink, w, h, profile), false);
        }
        if (tt == DataBuffer.TYPE_FLOAT || tt == DataBuffer.TYPE_DOUBLE) {
            // (javax.imageio's TIFF reader labels 64-bit RGB with a generic 3-colour space)
            if (!(nc == 1 && cs == ColorSpace.TYPE_GRAY || nc == 3 && (cs == ColorSpace.TYPE_RGB || cs == ColorSpace.TYPE_3CLR)))
                throw new DataException("cannot decode " + file + ": " + format + " samples with " + nc
                        + " colour components are not supported (gray or RGB are)");
            float[][] f = new float[nc][];
            for (int c = 0; c < nc; c++) {
                f[c] = r.getSamples(0, 0, w, h, c, (float[]) null);
                for (int i = 0; i < f[c].length; i++) {
                    float v = f[c][i];
                    if (!(v >= 0f && v <= 1f))
                        throw new DataException("cannot decode " + file + ": " + format + " sample " + v + " at (x=" + (i % w)
                                + ", y=" + (i / w) + ") is outside 0..1, the scale floating-point images are read on");
                }
            }
            return new Decoded(file, nc, h, w, 8, null, false, f);
        }
        if (tt != DataBuffer.TYPE_BYTE && tt != DataBuffer.TYPE_USHORT)
            throw new DataException("cannot decode " + file + ": " + format + " samples are not supported "
                    + "(8- or 16-bit unsigned integers, or floating point on 0..1, are)");
        return null;
    }

    private static String sampleFormat(int transferType, int bits) {
        return switch (transferType) {
            case DataBuffer.TYPE_BYTE -> bits + "-bit unsigned integer";
            case DataBuffer.TYPE_USHORT -> bits + "-bit unsigned integer";
            case DataBuffer.TYPE_SHORT -> "16-bit signed integer";
            case DataBuffer.TYPE_INT -> "32-bit integer";
            case DataBuffer.TYPE_FLOAT -> "32-bit floating-point";
            case DataBuffer.TYPE_DOUBLE -> "64-bit floating-point";
            default -> "transfer type " + transferType;
        };
    }
}
