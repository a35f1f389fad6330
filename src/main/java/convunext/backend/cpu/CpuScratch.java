package convunext.backend.cpu;

/**
 * A per-thread float buffer that only grows: an op's scratch (a block of a column matrix, a hidden
 * block, parked accumulators) reused across calls, so steady-state steps allocate nothing. One
 * instance per use: two uses that may be live at once on a thread need two instances. Contents
 * are undefined on return.
 */
final class CpuScratch {
    private final ThreadLocal<float[][]> buf = ThreadLocal.withInitial(() -> new float[1][0]);

    /**
     * Row step of a scratch block of len floats a row: rounded up to 16 floats and padded by 16 more,
     * so rows a power of two apart do not alias in one cache set (the MLP's and the gate chain's blocks).
     */
    static int rowStride(int len) { return (len + 15) / 16 * 16 + 16; }

    /** This thread's buffer, at least n floats long. */
    float[] get(int n) {
        float[][] h = buf.get();
        if (h[0].length < n) h[0] = new float[n];
        return h[0];
    }
}
