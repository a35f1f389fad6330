package convunext.backend.cuda;

import java.util.HashMap;
import java.util.Map;

/**
 * The CUDA emulator as a {@link Device}: kernels/*.cu compiled by g++ against
 * kernels/emu/cuda_emu.h, one fiber per CUDA thread (see kernels/README.md). "Device" memory is
 * host memory; launches run to completion before returning, on a few OS threads.
 *
 * <p>Settings: {@code CONVUNEXT_EMU_THREADS} (OS threads running blocks, default min(cores, 8)),
 * {@code CONVUNEXT_EMU_SHUFFLE=seed} (threads resume in a seeded random order at every barrier,
 * blocks run in random order, and everything a GPU leaves undefined is NaN: shared memory at the
 * start of each block, fresh allocations and pool buffers handed out again; exposes races and
 * reads of unwritten memory), or
 * {@link #configure} at run time.
 */
public final class EmulatedDevice implements Device {
    private final Map<String, Long> handles = new HashMap<>();
    private boolean closed;
    /**
     * The schedule seed of the process-wide emulator (0: in order), mirrored from the library so
     * that scribble() needs no native call; set when the first device opens and by configure.
     */
    private static volatile long seed = -1;

    private EmulatedDevice() {
        if (seed == -1) seed = EmuNative.state()[5];
    }

    /** Opens the emulator; throws CudaError saying why when its library cannot be loaded. */
    public static EmulatedDevice open() {
        String why = EmuNative.load();
        if (why != null) throw new CudaError("emulated device unavailable: " + why);
        return new EmulatedDevice();
    }

    /** Null if the emulator can be opened, else the reason. */
    public static String probe() {
        return EmuNative.load();
    }

    /**
     * threads: OS threads that run blocks (0 = default); shuffleSeed: 0 = in-order scheduling,
     * else randomised order from that seed; checkPointers: refuse pointer arguments outside
     * live allocations. Applies to every later launch in this process.
     */
    public void configure(int threads, long shuffleSeed, boolean checkPointers) {
        EmuNative.configure(threads, shuffleSeed, checkPointers);
        seed = shuffleSeed;
    }

    /** Whether the schedule is randomised (and undefined memory NaN). */
    public boolean shuffled() { return seed != 0; }


    /** {launches, blocks, CUDA threads, fiber switches} since the process started. */
    public long[] counters() {
        long[] s = EmuNative.state();
        return new long[] {s[0], s[1], s[2], s[3]};
    }

    @Override public String kind() { return "emulated"; }

    /** The names of all kernels compiled into the emulator. */
    @Override public java.util.Set<String> kernelNames() { return java.util.Set.of(EmuNative.kernelNames()); }

    @Override public boolean hasKernel(String kernel) { return EmuNative.kernel(kernel) != 0; }

    @Override public String describe() {
        long[] s = EmuNative.state();
        return "CUDA emulator (g++, one fiber per CUDA thread, " + s[4] + " OS threads, "
                + (s[5] == 0 ? "in-order" : "shuffled with seed " + s[5]) + ", "
                + EmuNative.kernelNames().length + " kernels)";
    }

    @Override public long malloc(long bytes) {
        check("malloc");
        return EmuNative.malloc(bytes);
    }

    @Override public void free(long ptr) {
        check("free");
        EmuNative.free(ptr);
    }

    @Override public void copyHtoD(long dst, float[] src, int srcOff, int count) {
        check("copyHtoD");
        checkRange("copyHtoD", src.length, srcOff, count);
        EmuNative.copyHtoD(dst, src, srcOff, count);
    }

    @Override public void copyDtoH(float[] dst, int dstOff, long src, int count) {
        check("copyDtoH");
        checkRange("copyDtoH", dst.length, dstOff, count);
        EmuNative.copyDtoH(dst, dstOff, src, count);
    }

    @Override public void copyDtoD(long dst, long src, long bytes) {
        check("copyDtoD");
        if (bytes < 0) throw new CudaError("copyDtoD: negative size " + bytes);
        EmuNative.copyDtoD(dst, src, bytes);
    }

    @Override public void memsetZero(long ptr, long bytes) {
        check("memsetZero");
        if (bytes < 0) throw new CudaError("memsetZero: negative size " + bytes);
        EmuNative.memset(ptr, 0, bytes);
    }

    @Override public void scribble(long ptr, long bytes) {
        if (seed == 0 || bytes <= 0) return;
        check("scribble");
        EmuNative.memset(ptr, 0xff, bytes);
    }

    @Override public void launch(String kernel, int[] grid, int[] block, int sharedBytes, KernelArgs args) {
        check("launch " + kernel);
        Long h = handles.get(kernel);
        if (h == null) {
            h = EmuNative.kernel(kernel);
            if (h == 0) throw new CudaError("launch: no kernel named '" + kernel + "' in the emulator library "
                    + "(kernels/*.cu must declare it extern \"C\" __global__)");
            handles.put(kernel, h);
        }
        int n = args.size();
        long[] slots = new long[n];
        byte[] kinds = new byte[n];
        for (int i = 0; i < n; i++) {
            Number v = args.value(i);
            switch (args.kind(i)) {
                case PTR: slots[i] = v.longValue(); kinds[i] = 'P'; break;
                case I64: slots[i] = v.longValue(); kinds[i] = 'L'; break;
                case I32: slots[i] = v.intValue() & 0xFFFFFFFFL; kinds[i] = 'I'; break;
                case F32: slots[i] = Float.floatToRawIntBits(v.floatValue()) & 0xFFFFFFFFL; kinds[i] = 'F'; break;
                default: throw new IllegalStateException(args.kind(i).toString());
            }
        }
        int[] g = dims(grid, "grid", kernel), b = dims(block, "block", kernel);
        try {
            EmuNative.launch(h, g[0], g[1], g[2], b[0], b[1], b[2], sharedBytes, slots, kinds);
        } catch (CudaError e) {
            throw new CudaError("kernel " + EmuNative.signature(h) + " grid " + fmt(g) + " block " + fmt(b)
                    + " shared " + sharedBytes + " B args " + args + ": " + e.getMessage(), e);
        }
    }

    @Override public void synchronize() { check("synchronize"); }

    // Events: launches run to completion before returning, so the host clock at each record is the
    // time at that point of the device's queue.
    private final java.util.Map<Long, Long> events = new java.util.HashMap<>();
    private long nextEvent = 1;

    @Override public synchronized long eventCreate() {
        check("eventCreate");
        events.put(nextEvent, Long.MIN_VALUE);
        return nextEvent++;
    }

    @Override public synchronized void eventRecord(long event) {
        check("eventRecord");
        if (!events.containsKey(event)) throw new CudaError("eventRecord: no event #" + event);
        events.put(event, System.nanoTime());
    }

    @Override public synchronized float eventElapsedMs(long start, long end) {
        check("eventElapsedMs");
        Long s = events.get(start), e = events.get(end);
        if (s == null || e == null) throw new CudaError("eventElapsedMs: no event #" + (s == null ? start : end));
        if (s == Long.MIN_VALUE || e == Long.MIN_VALUE) throw new CudaError("eventElapsedMs: an event was never recorded");
        return (e - s) / 1e6f;
    }

    @Override public synchronized void eventDestroy(long event) { events.remove(event); }

    @Override public long[] memInfo() {
        long[] s = EmuNative.state();
        return new long[] {s[7], s[8]};
    }

    @Override public void close() { closed = true; }

    private void check(String call) {
        if (closed) throw new CudaError(call + ": the emulated device is closed");
    }

    private static void checkRange(String call, int length, int off, int count) {
        if (off < 0 || count < 0 || off + count > length || off + count < 0)
            throw new CudaError(call + ": range [" + off + ", " + off + "+" + count + ") outside an array of " + length);
    }

    private static int[] dims(int[] d, String what, String kernel) {
        if (d == null || d.length < 1 || d.length > 3)
            throw new CudaError("launch " + kernel + ": " + what + " needs 1 to 3 dimensions");
        int[] r = {1, 1, 1};
        System.arraycopy(d, 0, r, 0, d.length);
        return r;
    }

    private static String fmt(int[] d) { return "(" + d[0] + "," + d[1] + "," + d[2] + ")"; }
}
