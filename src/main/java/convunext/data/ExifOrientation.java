package convunext.data;

import com.drew.imaging.ImageMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import java.io.ByteArrayInputStream;

/**
 * The EXIF orientation of an image file (TIFF tag 274: JPEG APP1 EXIF, a TIFF's first IFD, a
 * PNG's eXIf chunk), applied to its decoded pixels so that every file is used as a viewer shows
 * it: a phone or camera JPEG stored sideways with "rotate 90° clockwise" in its EXIF is trained,
 * predicted and evaluated upright, with its mask, and {@code predict} writes masks in that upright
 * orientation (without a tag). javax.imageio ignores the tag, so without this an image would pair
 * with a mask drawn on its displayed form rotated or mirrored, silently.
 *
 * <p>Values (EXIF 2.32, TIFF 6.0 tag 274; the row/column meaning of each is in {@link #apply}):
 * 1 as stored, 2 mirrored left-right, 3 rotated 180°, 4 mirrored top-bottom, 5 transposed, 6
 * rotated 90° clockwise, 7 transversed, 8 rotated 90° counter-clockwise. A file without the tag,
 * with another value, or with metadata the reader cannot parse is used as stored (orientation 1):
 * the pixels decode either way, and metadata damage is no reason to refuse an image.
 */
final class ExifOrientation {
    private ExifOrientation() {}

    /** The orientation 1..8 of an encoded JPEG, TIFF or PNG file; 1 for anything else. */
    static int of(byte[] encoded, ImageFormat fmt) {
        if (fmt != ImageFormat.JPEG && fmt != ImageFormat.TIFF && fmt != ImageFormat.PNG) return 1;
        try {
            Metadata m = ImageMetadataReader.readMetadata(new ByteArrayInputStream(encoded), encoded.length);
            ExifIFD0Directory d = m.getFirstDirectoryOfType(ExifIFD0Directory.class);
            if (d == null || !d.containsTag(ExifIFD0Directory.TAG_ORIENTATION)) return 1;
            int o = d.getInt(ExifIFD0Directory.TAG_ORIENTATION);
            return o >= 1 && o <= 8 ? o : 1;
        } catch (Exception | LinkageError e) {   // unparsable metadata: the pixels as stored
            return 1;
        }
    }

    /** Whether orientation {@code o} swaps width and height (5..8). */
    static boolean swapsSides(int o) { return o >= 5 && o <= 8; }

    /**
     * The stored pixel index (y * w + x, stored width w, height h) that shows at display position
     * (X, Y) under orientation {@code o}. Display size: w x h, or h x w when {@link #swapsSides}.
     * From the tag's definition ("the 0th row / 0th column of the stored image is the visual …"):
     * 2: x = w-1-X; 3: x = w-1-X, y = h-1-Y; 4: y = h-1-Y; 5: x = Y, y = X; 6 (0th row is the right
     * side): x = Y, y = h-1-X; 7: x = w-1-Y, y = h-1-X; 8 (0th row is the left side): x = w-1-Y, y = X.
     */
    static int source(int o, int w, int h, int X, int Y) {
        return switch (o) {
            case 2 -> Y * w + (w - 1 - X);
            case 3 -> (h - 1 - Y) * w + (w - 1 - X);
            case 4 -> (h - 1 - Y) * w + X;
            case 5 -> X * w + Y;
            case 6 -> (h - 1 - X) * w + Y;
            case 7 -> (h - 1 - X) * w + (w - 1 - Y);
            case 8 -> X * w + (w - 1 - Y);
            default -> Y * w + X;
        };
    }

    /** {@code d} as displayed under orientation {@code o} (d itself for 1). */
    static ImageFiles.Decoded apply(ImageFiles.Decoded d, int o) {
        if (o == 1) return d;
        int w = d.width(), h = d.height();
        int dw = swapsSides(o) ? h : w, dh = swapsSides(o) ? w : h;
        int[] map = new int[w * h];
        for (int Y = 0; Y < dh; Y++)
            for (int X = 0; X < dw; X++) map[Y * dw + X] = source(o, w, h, X, Y);
        int[][] planes = null;
        float[][] floats = null;
        if (d.planes() != null) {
            planes = new int[d.planes().length][];
            for (int c = 0; c < planes.length; c++) {
                int[] src = d.planes()[c], dst = new int[src.length];
                for (int i = 0; i < dst.length; i++) dst[i] = src[map[i]];
                planes[c] = dst;
            }
        }
        if (d.floats() != null) {
            floats = new float[d.floats().length][];
            for (int c = 0; c < floats.length; c++) {
                float[] src = d.floats()[c], dst = new float[src.length];
                for (int i = 0; i < dst.length; i++) dst[i] = src[map[i]];
                floats[c] = dst;
            }
        }
        return new ImageFiles.Decoded(d.file(), d.channels(), dh, dw, d.bits(), planes, d.paletteIndices(), floats);
    }
}
