package convunext.backend.cuda;

/**
 * The device under the CUDA backend: a real GPU through JCuda's driver API, or the emulator
 * (the same kernels/*.cu compiled by g++ against our CUDA emulation header, loaded through JNI).
 * The CUDA backend's launch code is identical for both; only this interface differs.
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

    void copyHtoD(long dst, float[] src, int srcOff, int count);

    void copyDtoH(float[] dst, int dstOff, long src, int count);

    void copyDtoD(long dst, long src, long bytes);

    void memsetZero(long ptr, long bytes);

    /**
     * Declares the contents of [ptr, ptr+bytes) undefined (a pool buffer handed out again, whose
     * old contents no one may read): the emulator in its shuffled mode fills it with NaN bytes,
     * as it does fresh allocations, so a kernel that reads an element nobody wrote fails its
     * parity test; a GPU does nothing.
     */
    default void scribble(long ptr, long bytes) {}

    /**
     * Launches {@code kernel} (an extern "C" name from kernels/*.cu) on a grid of blocks
     * {@code grid[0..2]} of {@code block[0..2]} threads with {@code sharedBytes} of dynamic
     * shared memory, passing {@code args} in order (see {@link KernelArgs}).
     */
    void launch(String kernel, int[] grid, int[] block, int sharedBytes, KernelArgs args);

    /** The kernels this device can launch: the extern "C" kernels of kernels/*.cu in this build. */
    java.util.Set<String> kernelNames();

    /** Whether a kernel of this name can be launched. */
    default boolean hasKernel(String kernel) { return kernelNames().contains(kernel); }

    /** Waits for all launched work; surfaces asynchronous errors. */
    void synchronize();

    /** {free, total} device memory in bytes. */
    long[] memInfo();

    /** A new timing event (cuEventCreate); a handle for the three calls below. */
    long eventCreate();

    /** Records {@code event} after all work launched so far (cuEventRecord on the default stream). */
    void eventRecord(long event);

    /** Waits for {@code end}, then the device time in ms from {@code start} to {@code end} (cuEventElapsedTime). */
    float eventElapsedMs(long start, long end);

    void eventDestroy(long event);

    @Override void close();
}
