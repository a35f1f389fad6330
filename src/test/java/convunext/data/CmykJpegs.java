package convunext.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Writes four-component JPEGs as other software does, for tests: ImageIO's JPEG writer stores a
 * 4-band raster as given (no colour conversion, no APP0/APP14), and an Adobe APP14 segment is
 * spliced in after SOI where the kind has one (Adobe Technical Note 5116: "Adobe", version 100,
 * flags0, flags1, transform).
 */
final class CmykJpegs {
    private CmykJpegs() {}

    enum Kind {
        /** Photoshop's CMYK JPEG: APP14 transform 0, samples inverted (255 = no ink). */
        ADOBE_CMYK,
        /** Photoshop's default for CMYK: APP14 transform 2, YCC of the inverted CMY plus inverted K. */
        ADOBE_YCCK,
        /** No APP14 marker, samples inverted as in ADOBE_CMYK (how ImageMagick and browsers read such a file). */
        NO_MARKER_CMYK
    }

    /** Ink amounts 0..255 [C,M,Y,K] for an sRGB image by the plain formula (K = 255 − max(R,G,B)). */
    static int[][] ink(BufferedImage rgb) {
        int w = rgb.getWidth(), h = rgb.getHeight();
        int[][] ink = new int[4][w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int p = rgb.getRGB(x, y), i = y * w + x;
                int r = (p >> 16) & 0xFF, g = (p >> 8) & 0xFF, b = p & 0xFF;
                int white = Math.max(r, Math.max(g, b));
                ink[3][i] = 255 - white;
                if (white == 0) continue;
                ink[0][i] = Math.round(255 - r * 255f / white);
                ink[1][i] = Math.round(255 - g * 255f / white);
                ink[2][i] = Math.round(255 - b * 255f / white);
            }
        return ink;
    }

    static Path write(BufferedImage rgb, Kind kind, Path file) throws IOException {
        int w = rgb.getWidth(), h = rgb.getHeight();
        int[][] ink = ink(rgb);
        WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int i = 0; i < w * h; i++) {
            int x = i % w, y = i / w;
            int c = ink[0][i], m = ink[1][i], ye = ink[2][i], k = ink[3][i];
            int[] s = switch (kind) {
                case ADOBE_CMYK, NO_MARKER_CMYK -> new int[] {255 - c, 255 - m, 255 - ye, 255 - k};
                case ADOBE_YCCK -> {
                    // the decoder's YCC→RGB gives the ink amounts directly (see JpegCmyk)
                    double luma = 0.299 * c + 0.587 * m + 0.114 * ye;
                    double cb = -0.168736 * c - 0.331264 * m + 0.5 * ye + 128;
                    double cr = 0.5 * c - 0.418688 * m - 0.081312 * ye + 128;
                    yield new int[] {clamp(luma), clamp(cb), clamp(cr), 255 - k};
                }
            };
            r.setPixel(x, y, s);
        }
        ImageWriter wr = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bo)) {
            wr.setOutput(out);
            ImageWriteParam p = wr.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(0.95f);
            wr.write(null, new IIOImage(r, null, null), p);
        } finally {
            wr.dispose();
        }
        byte[] jpeg = bo.toByteArray();
        if (kind != Kind.NO_MARKER_CMYK) jpeg = withAdobe(jpeg, kind == Kind.ADOBE_YCCK ? 2 : 0);
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.write(file, jpeg);
    }

    private static int clamp(double v) { return (int) Math.max(0, Math.min(255, Math.round(v))); }

    private static byte[] withAdobe(byte[] jpeg, int transform) {
        byte[] app14 = {(byte) 0xFF, (byte) 0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, (byte) transform};
        byte[] out = new byte[jpeg.length + app14.length];
        System.arraycopy(jpeg, 0, out, 0, 2);
        System.arraycopy(app14, 0, out, 2, app14.length);
        System.arraycopy(jpeg, 2, out, 2 + app14.length, jpeg.length - 2);
        return out;
    }
}
