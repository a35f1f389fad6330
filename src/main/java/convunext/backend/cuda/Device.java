package convunext.backend.cuda;

/**
 * The device under the CUDA backend: a real GPU through JCuda's driver API, or the emulator
 * (the same kernels/*.cu compiled by g++ against our CUDA emulation header, loaded through JNI).
 * The CUDA backend's launch code is identical for both; only this interface differs.
 *
 * <p>Work is queued in order on one stream of the device (on a GPU an explicit stream, not the
 * legacy default one, so it can be captured; the emulator runs each call to completion): launches,
 * memsets, device-to-device copies and copies from pinned host buffers are asynchronous; copies
 * from and to Java arrays are ordered after everything queued before them, and a copy to the host
 * returns with the data. {@link #graphCapture} records such work into a graph that
 * {@link #graphLaunch} replays (CUDA Graphs on a GPU; a recorded list on the emulator).
 *
 * <p>Device memory is addressed by raw 64-bit device addresses (on the emulator, host addresses).
 * Every failing call throws {@link CudaError} naming the call (and, for launches, the kernel).
 */
public interface Device extends AutoCloseable {

    /** "cuda" or "emulated". */
    String kind();

    /** GPU name / emulator description, driver version, compute capability. */
    String describe();

    /** Allocates {@code bytes} of device memory (not initialised). */
    long malloc(long bytes);

    void free(long ptr);

    /** Copies {@code count} floats from a Java array; ordered after the queued work. */
    void copyHtoD(long dst, float[] src, int srcOff, int count);

    /** Waits for the queued work, then copies {@code count} floats to a Java array. */
    void copyDtoH(float[] dst, int dstOff, long src, int count);

    /** Queued. */
    void copyDtoD(long dst, long src, long bytes);

    /** Sets {@code bytes} bytes to {@code value} (0..255); queued. */
    void memset(long ptr, int value, long bytes);

    default void memsetZero(long ptr, long bytes) { memset(ptr, 0, bytes); }

    /**
     * Whether pool buffers handed out again must be filled with NaN bytes (0xff) before their next
     * use, as the emulator does in its shuffled mode so that a kernel reading an element nobody
     * wrote fails its parity test (a GPU: never). {@link DevicePool} queues that fill.
     */
    default boolean scribbles() { return false; }

    /** Page-locked host memory of {@code bytes} bytes (the source of capturable copies); a handle. */
    long hostAlloc(long bytes);

    /** Writes {@code count} floats into pinned buffer {@code host} at {@code byteOffset}. */
    void hostWrite(long host, long byteOffset, float[] src, int srcOff, int count);

    void hostFree(long host);

    /** Copies {@code bytes} bytes from pinned buffer {@code host} at {@code hostOffset}; queued (capturable). */
    void copyHostToDevice(long dst, long host, long hostOffset, long bytes);

    /** The kernels this device can launch: the extern "C" kernels of kernels/*.cu in this build. */
    java.util.Set<String> kernelNames();

    /** Whether a kernel of this name can be launched. */
    default boolean hasKernel(String kernel) { return kernelNames().contains(kernel); }

    /**
     * Launches {@code kernel} (an extern "C" name from kernels/*.cu) on a grid of blocks
     * {@code grid[0..2]} of {@code block[0..2]} threads with {@code sharedBytes} of dynamic
     * shared memory, passing {@code args} in order (see {@link KernelArgs}); queued.
     */
    void launch(String kernel, int[] grid, int[] block, int sharedBytes, KernelArgs args);

    /** Waits for all queued work; surfaces asynchronous errors. */
    void synchronize();

    /** {free, total} device memory in bytes. */
    long[] memInfo();

    /** A new timing event (cuEventCreate); a handle for the calls below. */
    long eventCreate();

    /** Records {@code event} after all work queued so far. */
    void eventRecord(long event);

    /** Waits for {@code event} (and so for the work queued before it was recorded). */
    void eventSynchronize(long event);

    /** Waits for {@code end}, then the device time in ms from {@code start} to {@code end} (cuEventElapsedTime). */
    float eventElapsedMs(long start, long end);

    void eventDestroy(long event);

    /**
     * Records the device work {@code issue} queues (launches, memsets, device-to-device copies and
     * copies from pinned host buffers only; anything else is an error) into a graph, executing none
     * of it; returns the graph's handle. Kernel arguments and copy sources are taken as they are
     * now: a replay reads the pinned buffers' contents at its time, nothing else of the host.
     */
    long graphCapture(Runnable issue);

    /** Queues one replay of {@code graph}. */
    void graphLaunch(long graph);

    void graphDestroy(long graph);

    @Override void close();
}
