package convunext.api;

/**
 * An image the model cannot take: not decodable (corrupt, truncated, not PNG/TIFF/GIF/JPEG/BMP),
 * a channel count the model cannot use, below 64×64 at the scale it would run at, or too large for
 * this JVM's heap (to decode, or to segment at the Segmenter's tile and scale: an OutOfMemoryError
 * becomes this). The message names the image and what is wrong with it. Other images can still be
 * segmented with the same {@link Segmenter}.
 */
public class InvalidImageException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
