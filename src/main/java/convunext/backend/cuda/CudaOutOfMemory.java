package convunext.backend.cuda;

/**
 * The device had no memory left for a buffer, even after the pool gave back what it had cached
 * ({@link DevicePool}). A CudaError still, so every caller that handles device failures handles
 * this one; its own type so that callers that run one image at a time (the API's Segmenter, the
 * Spark job through it) can make it that image's error and go on, as they do for the Java heap.
 */
public final class CudaOutOfMemory extends CudaError {
    private final String detail;

    /** {@code detail}: what was asked and held; {@code advice}: what a command-line user can change. */
    public CudaOutOfMemory(String detail, String advice, Throwable cause) {
        super(detail + "; " + advice, cause);
        this.detail = detail;
    }

    /** The sizes without the command-line advice (an API user's options have other names). */
    public String detail() { return detail; }
}
