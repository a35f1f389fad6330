package convunext.data;

/** Image container formats recognised by their leading bytes (never by file extension). */
public enum ImageFormat {
    PNG("png"), TIFF("tiff"), GIF("gif"), JPEG("jpeg"), BMP("bmp");

    /** The javax.imageio format name of the reader. */
    public final String readerName;

    ImageFormat(String readerName) { this.readerName = readerName; }

    /** Bytes needed by {@link #sniff}. */
    public static final int MAGIC_LENGTH = 8;

    /** The format whose signature starts {@code head}, or null if none matches. */
    public static ImageFormat sniff(byte[] head) {
        if (startsWith(head, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) return PNG;
        if (startsWith(head, 'I', 'I', 0x2A, 0x00) || startsWith(head, 'M', 'M', 0x00, 0x2A)) return TIFF;
        if (startsWith(head, 'G', 'I', 'F', '8')) return GIF;
        if (startsWith(head, 0xFF, 0xD8, 0xFF)) return JPEG;
        if (startsWith(head, 'B', 'M')) return BMP;
        return null;
    }

    private static boolean startsWith(byte[] head, int... sig) {
        if (head.length < sig.length) return false;
        for (int i = 0; i < sig.length; i++) if ((head[i] & 0xFF) != sig[i]) return false;
        return true;
    }
}
