package convunext.data;

import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.ColorConvertOp;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.util.TreeMap;

/**
 * Four-component JPEGs (CMYK, and YCCK as Photoshop writes it) to RGB. javax.imageio hands us the
 * stored samples ({@code ImageReader.readRaster}: no colour conversion); the conventions are
 * libjpeg's and Adobe's (Adobe Technical Note 5116, APP14 marker):
 * <ul>
 * <li>APP14 "Adobe" transform 2 (YCCK): Y, Cb, Cr → R, G, B with the JFIF equations, and
 *     C,M,Y = 255 − R,G,B (libjpeg's {@code ycck_cmyk_convert}); K as stored.
 * <li>CMYK samples are stored inverted (255 = no ink), as Photoshop and libjpeg-based writers store
 *     them, with or without the APP14 marker: the convention ImageMagick and the browsers decode
 *     with (a 4-component JPEG without APP14 is read the same way by them).
 * <li>Ink → RGB: through the embedded ICC profile (APP2 "ICC_PROFILE" chunks) when there is one,
 *     else the plain formula R = 255·(1−C)(1−K) (what a file without a profile means).
 * </ul>
 */
final class JpegCmyk {
    private JpegCmyk() {}

    /** What the header segments before the scan say: component count, Adobe transform (−1: no APP14), ICC profile. */
    record Markers(int components, int adobeTransform, byte[] icc) {}

    /** Walks the segments from SOI up to the first SOS; never reads past the array. */
    static Markers scan(byte[] b) {
        int components = -1, transform = -1;
        TreeMap<Integer, byte[]> icc = new TreeMap<>();
        int i = 2;
        while (i + 3 < b.length) {
            if ((b[i] & 0xFF) != 0xFF) break;
            int m = b[i + 1] & 0xFF;
            if (m == 0xFF) { i++; continue; }                  // fill byte
            if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; }
            if (m == 0xD9 || m == 0xDA) break;                  // EOI, SOS: header over
            int len = ((b[i + 2] & 0xFF) << 8) | (b[i + 3] & 0xFF);
            int data = i + 4, end = i + 2 + len;
            if (len < 2 || end > b.length) break;
            boolean sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
            if (sof && len >= 8) components = b[data + 5] & 0xFF;
            if (m == 0xEE && len >= 14 && startsWith(b, data, "Adobe")) transform = b[data + 11] & 0xFF;
            if (m == 0xE2 && len >= 16 && startsWith(b, data, "ICC_PROFILE\0")) {
                byte[] chunk = new byte[end - (data + 14)];
                System.arraycopy(b, data + 14, chunk, 0, chunk.length);
                icc.put(b[data + 12] & 0xFF, chunk);
            }
            i = end;
        }
        byte[] profile = null;
        if (!icc.isEmpty()) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            for (byte[] c : icc.values()) o.writeBytes(c);
            profile = o.toByteArray();
        }
        return new Markers(components, transform, profile);
    }

    private static boolean startsWith(byte[] b, int at, String s) {
        if (at + s.length() > b.length) return false;
        for (int k = 0; k < s.length(); k++) if (b[at + k] != (byte) s.charAt(k)) return false;
        return true;
    }

    /** RGB planes (0..255) from the stored 4-band raster. */
    static int[][] toRgb(Raster r, Markers m) {
        int w = r.getWidth(), h = r.getHeight(), n = w * h;
        if (r.getNumBands() != 4) throw new IllegalArgumentException("expected 4 JPEG components, got " + r.getNumBands());
        int[][] s = new int[4][];
        for (int c = 0; c < 4; c++) s[c] = r.getSamples(r.getMinX(), r.getMinY(), w, h, c, (int[]) null);
        int[][] ink = new int[4][n];
        for (int i = 0; i < n; i++) {
            int c0 = s[0][i], c1 = s[1][i], c2 = s[2][i], k = s[3][i];
            if (m.adobeTransform() == 2) {
                double y = c0, cb = c1 - 128, cr = c2 - 128;
                // stored (after libjpeg's YCCK→CMYK) = 255 − RGB; inverted by Adobe's convention → ink = RGB
                c0 = clamp(y + 1.402 * cr);
                c1 = clamp(y - 0.344136 * cb - 0.714136 * cr);
                c2 = clamp(y + 1.772 * cb);
                k = 255 - k;
            } else {
                c0 = 255 - c0; c1 = 255 - c1; c2 = 255 - c2; k = 255 - k;
            }
            ink[0][i] = c0; ink[1][i] = c1; ink[2][i] = c2; ink[3][i] = k;
        }
        return inkToRgb(ink, w, h, iccSpace(m.icc()));
    }

    /**
     * RGB planes (0..255) from ink planes (0 = no ink, 255 = full): through {@code profile} (a CMYK
     * colour space) when there is one, else the plain formula. Also used for CMYK TIFFs.
     */
    static int[][] inkToRgb(int[][] ink, int w, int h, ColorSpace profile) {
        return profile != null ? viaProfile(ink, profile, w, h) : plain(ink, w * h);
    }

    private static int clamp(double v) { return (int) Math.max(0, Math.min(255, Math.round(v))); }

    private static int[][] plain(int[][] ink, int n) {
        int[][] rgb = new int[3][n];
        for (int i = 0; i < n; i++) {
            int white = 255 - ink[3][i];
            for (int c = 0; c < 3; c++) rgb[c][i] = Math.round((255 - ink[c][i]) * white / 255f);
        }
        return rgb;
    }

    /** The embedded profile as a colour space, if it is a usable CMYK profile; null otherwise. */
    private static ColorSpace iccSpace(byte[] icc) {
        if (icc == null) return null;
        try {
            ICC_Profile p = ICC_Profile.getInstance(icc);
            return p.getColorSpaceType() == ColorSpace.TYPE_CMYK ? new ICC_ColorSpace(p) : null;
        } catch (IllegalArgumentException | java.awt.color.CMMException e) {
            return null;   // a damaged profile: the plain formula
        }
    }

    private static int[][] viaProfile(int[][] ink, ColorSpace cmyk, int w, int h) {
        WritableRaster src = Raster.createBandedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int c = 0; c < 4; c++) src.setSamples(0, 0, w, h, c, ink[c]);
        WritableRaster dst = Raster.createBandedRaster(DataBuffer.TYPE_BYTE, w, h, 3, null);
        new ColorConvertOp(cmyk, ColorSpace.getInstance(ColorSpace.CS_sRGB), null).filter(src, dst);
        int[][] rgb = new int[3][];
        for (int c = 0; c < 3; c++) rgb[c] = dst.getSamples(0, 0, w, h, c, (int[]) null);
        return rgb;
    }
}
