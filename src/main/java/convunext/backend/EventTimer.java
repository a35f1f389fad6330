package convunext.backend;

/**
 * Times device work with events recorded in the device's own queue (CUDA events on a GPU), so a
 * benchmark measures the kernels rather than the host's launch and synchronisation overhead.
 * Reusable: {@code start(); …work…; stopMs()} any number of times, then {@link #close}.
 */
public interface EventTimer extends AutoCloseable {

    /** Records the start event after the work queued so far. */
    void start();

    /** Records the end event, waits for it, and returns the device time since {@link #start} in ms. */
    double stopMs();

    /** What the times are ("CUDA events", "emulator: host clock at each record"). */
    String kind();

    @Override void close();
}
