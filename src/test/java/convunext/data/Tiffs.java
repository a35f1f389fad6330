package convunext.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Minimal uncompressed, chunky, little-endian TIFF writer for sample formats javax.imageio cannot write (CMYK, float, int32),
 * for the decoder tests. */
final class Tiffs {
    private Tiffs() {}

    /** {@code samples}: spp values per pixel, row-major; sampleFormat 1 uint, 2 int, 3 float. */
    static byte[] write(int w, int h, int spp, int bits, int sampleFormat, int photometric, double[] samples) {
        return write(w, h, spp, bits, sampleFormat, photometric, samples, 0);
    }

    /** The same with an Orientation tag (274) of value {@code orientation} when it is > 0. */
    static byte[] write(int w, int h, int spp, int bits, int sampleFormat, int photometric, double[] samples, int orientation) {
        int bytes = bits / 8, dataLen = w * h * spp * bytes;
        int nTags = orientation > 0 ? 12 : 11, ifdAt = 8, ifdLen = 2 + nTags * 12 + 4, bitsAt = ifdAt + ifdLen, dataAt = bitsAt + 2 * spp;
        ByteBuffer b = ByteBuffer.allocate(dataAt + dataLen).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(ifdAt);
        b.putShort((short) nTags);
        tag(b, 256, 4, 1, w);                 // ImageWidth
        tag(b, 257, 4, 1, h);                 // ImageLength
        if (spp == 1) tag(b, 258, 3, 1, bits); else tag(b, 258, 3, spp, bitsAt);   // BitsPerSample
        tag(b, 259, 3, 1, 1);                 // Compression: none
        tag(b, 262, 3, 1, photometric);       // 1 BlackIsZero, 2 RGB, 5 Separated (CMYK)
        tag(b, 273, 4, 1, dataAt);            // StripOffsets
        if (orientation > 0) tag(b, 274, 3, 1, orientation);   // Orientation (EXIF / TIFF 6.0)
        tag(b, 277, 3, 1, spp);               // SamplesPerPixel
        tag(b, 278, 4, 1, h);                 // RowsPerStrip
        tag(b, 279, 4, 1, dataLen);           // StripByteCounts
        tag(b, 284, 3, 1, 1);                 // PlanarConfiguration: chunky
        tag(b, 339, 3, 1, sampleFormat);    // SampleFormat: 1 uint, 2 int, 3 float (every sample alike)
        b.putInt(0);
        for (int i = 0; i < spp; i++) b.putShort((short) bits);
        for (double v : samples) {
            if (sampleFormat == 3) { if (bits == 32) b.putFloat((float) v); else b.putDouble(v); }
            else if (bits == 8) b.put((byte) (long) v);
            else if (bits == 16) b.putShort((short) (long) v);
            else b.putInt((int) (long) v);
        }
        return b.array();
    }

    private static void tag(ByteBuffer b, int tag, int type, int count, int value) {
        b.putShort((short) tag).putShort((short) type).putInt(count);
        if (type == 3 && count == 1) b.putShort((short) value).putShort((short) 0); else b.putInt(value);
    }
}
