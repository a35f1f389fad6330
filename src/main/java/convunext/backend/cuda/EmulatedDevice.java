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

    /**
     * The emulated driver's current context per thread: like cuCtxCreate, opening a device makes it
     * current on the opening thread; every call refuses to run while another device's context is
     * current, as the driver's handles would be invalid there (see {@link ContextBinding}).
     */
    private static final ThreadLocal<EmulatedDevice> DRIVER_CURRENT = new ThreadLocal<>();
    private final ContextBinding binding;

    private EmulatedDevice() {
        if (seed == -1) seed = EmuNative.state()[5];
        DRIVER_CURRENT.set(this);
        binding = new ContextBinding(this, () -> DRIVER_CURRENT.set(this));
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
        notCapturing("malloc");
        return EmuNative.malloc(bytes);
    }

    @Override public void free(long ptr) {
        check("free");
        notCapturing("free");
        EmuNative.free(ptr);
    }

    @Override public void copyHtoD(long dst, float[] src, int srcOff, int count) {
        check("copyHtoD");
        notCapturing("copyHtoD from a Java array (use a pinned buffer)");
        checkRange("copyHtoD", src.length, srcOff, count);
        EmuNative.copyHtoD(dst, src, srcOff, count);
    }

    @Override public void copyDtoH(float[] dst, int dstOff, long src, int count) {
        check("copyDtoH");
        notCapturing("copyDtoH");
        checkRange("copyDtoH", dst.length, dstOff, count);
        EmuNative.copyDtoH(dst, dstOff, src, count);
    }

    @Override public void copyDtoD(long dst, long src, long bytes) {
        check("copyDtoD");
        if (bytes < 0) throw new CudaError("copyDtoD: negative size " + bytes);
        if (capture != null) { capture.add(() -> EmuNative.copyDtoD(dst, src, bytes)); return; }
        EmuNative.copyDtoD(dst, src, bytes);
    }

    @Override public void memset(long ptr, int value, long bytes) {
        check("memset");
        if (bytes < 0) throw new CudaError("memset: negative size " + bytes);
        if (capture != null) { capture.add(() -> EmuNative.memset(ptr, value, bytes)); return; }
        EmuNative.memset(ptr, value, bytes);
    }

    @Override public boolean scribbles() { return seed != 0; }

    // Pinned host buffers: plain Java arrays here (a replayed copy reads the array then, as a GPU
    // graph's copy reads the pinned memory at its time).
    private final Map<Long, float[]> hostBuffers = new HashMap<>();
    private long nextHost = 1;

    @Override public synchronized long hostAlloc(long bytes) {
        check("hostAlloc");
        if (bytes < 0 || bytes % 4 != 0 || bytes / 4 > Integer.MAX_VALUE - 8)
            throw new CudaError("hostAlloc: " + bytes + " bytes (a multiple of 4 below 8 GiB)");
        hostBuffers.put(nextHost, new float[(int) (bytes / 4)]);
        return nextHost++;
    }

    private synchronized float[] host(String call, long h) {
        float[] a = hostBuffers.get(h);
        if (a == null) throw new CudaError(call + ": no pinned buffer #" + h);
        return a;
    }

    @Override public void hostWrite(long host, long byteOffset, float[] src, int srcOff, int count) {
        float[] a = host("hostWrite", host);
        if (byteOffset % 4 != 0) throw new CudaError("hostWrite: offset " + byteOffset + " is not a multiple of 4");
        checkRange("hostWrite (source)", src.length, srcOff, count);
        checkRange("hostWrite (pinned buffer)", a.length, (int) (byteOffset / 4), count);
        System.arraycopy(src, srcOff, a, (int) (byteOffset / 4), count);
    }

    @Override public synchronized void hostFree(long host) {
        if (hostBuffers.remove(host) == null) throw new CudaError("hostFree: no pinned buffer #" + host);
    }

    @Override public void copyHostToDevice(long dst, long host, long hostOffset, long bytes) {
        check("copyHostToDevice");
        float[] a = host("copyHostToDevice", host);
        if (hostOffset % 4 != 0 || bytes % 4 != 0) throw new CudaError("copyHostToDevice: offset and size must be multiples of 4");
        checkRange("copyHostToDevice", a.length, (int) (hostOffset / 4), (int) (bytes / 4));
        Runnable r = () -> EmuNative.copyHtoD(dst, a, (int) (hostOffset / 4), (int) (bytes / 4));
        if (capture != null) capture.add(r);
        else r.run();
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
        long handle = h;
        int[] g = dims(grid, "grid", kernel), b = dims(block, "block", kernel);
        if (capture != null) {   // the arguments as they are now, as cuLaunchKernel copies them into a graph
            long[] slots = java.util.Arrays.copyOf(args.rawSlots(), args.size());
            byte[] kinds = args.kindCodes();
            String text = args.toString();
            capture.add(() -> launchNow(handle, g, b, sharedBytes, slots, kinds, text));
            return;
        }
        LaunchRecorder.Snapshot snap = RECORDER == null ? null : RECORDER.before(kernel, g, b, sharedBytes, args);
        launchNow(handle, g, b, sharedBytes, args.rawSlots(), args.kindCodes(), null);
        if (snap != null) RECORDER.after(snap);
    }

    /** Records launches for kernels/emu/asan.sh's replay (-Dconvunext.emu.record=DIR), or null. */
    private static final LaunchRecorder RECORDER = LaunchRecorder.fromProperty();

    /** Whether launches are being recorded (then the launcher passes the buffers' extents). */
    public boolean recording() { return RECORDER != null; }

    /**
     * The extents of the buffers the next launch's pointer arguments point into, as {start, bytes,
     * ...} (tensors, requested workspaces): the recording keeps exactly those bytes, so the ASan
     * replay flags an access outside them.
     */
    public void recordExtents(long[] startAndBytes) {
        if (RECORDER != null) RECORDER.extents(startAndBytes);
    }

    private void launchNow(long h, int[] g, int[] b, int sharedBytes, long[] slots, byte[] kinds, String text) {
        try {
            EmuNative.launch(h, g[0], g[1], g[2], b[0], b[1], b[2], sharedBytes, slots, kinds);
        } catch (CudaError e) {
            throw new CudaError("kernel " + EmuNative.signature(h) + " grid " + fmt(g) + " block " + fmt(b)
                    + " shared " + sharedBytes + " B args " + (text != null ? text : argsText(slots, kinds)) + ": "
                    + e.getMessage(), e);
        }
    }

    private static String argsText(long[] slots, byte[] kinds) {
        StringBuilder t = new StringBuilder("(");
        for (int i = 0; i < kinds.length; i++) t.append(i > 0 ? ", " : "").append((char) kinds[i]).append(' ')
                .append(kinds[i] == 'P' ? "0x" + Long.toHexString(slots[i]) : kinds[i] == 'F'
                        ? String.valueOf(Float.intBitsToFloat((int) slots[i])) : String.valueOf(kinds[i] == 'I' ? (int) slots[i] : slots[i]));
        return t.append(')').toString();
    }

    // Graphs: the recorded calls, replayed in order (what a CUDA graph of them would execute).
    private java.util.List<Runnable> capture;
    private final Map<Long, java.util.List<Runnable>> graphs = new HashMap<>();
    private long nextGraph = 1;

    @Override public synchronized long graphCapture(Runnable issue) {
        check("graphCapture");
        if (capture != null) throw new CudaError("graphCapture: a capture is already under way");
        java.util.List<Runnable> ops = new java.util.ArrayList<>();
        capture = ops;
        try {
            issue.run();
        } finally {
            capture = null;
        }
        graphs.put(nextGraph, ops);
        return nextGraph++;
    }

    @Override public void graphLaunch(long graph) {
        check("graphLaunch");
        java.util.List<Runnable> ops;
        synchronized (this) { ops = graphs.get(graph); }
        if (ops == null) throw new CudaError("graphLaunch: no graph #" + graph);
        if (capture != null) throw new CudaError("graphLaunch: not capturable");
        for (Runnable r : ops) r.run();
    }

    @Override public synchronized void graphDestroy(long graph) { graphs.remove(graph); }

    /** Fails when a call that a stream capture cannot contain is made during one (as the GPU would). */
    private void notCapturing(String call) {
        if (capture != null) throw new CudaError(call + ": not allowed while a graph is being captured");
    }

    @Override public void synchronize() { check("synchronize"); notCapturing("synchronize"); }

    // Events: launches run to completion before returning, so the host clock at each record is the
    // time at that point of the device's queue.
    private final java.util.Map<Long, Long> events = new java.util.HashMap<>();
    private long nextEvent = 1;

    @Override public synchronized long eventCreate() {
        check("eventCreate");
        events.put(nextEvent, Long.MIN_VALUE);
        return nextEvent++;
    }

    @Override public synchronized void eventSynchronize(long event) {
        check("eventSynchronize");
        if (!events.containsKey(event)) throw new CudaError("eventSynchronize: no event #" + event);
    }

    @Override public synchronized void eventRecord(long event) {
        check("eventRecord");
        notCapturing("eventRecord");
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

    @Override public void close() {
        if (closed) return;
        closed = true;
        if (DRIVER_CURRENT.get() == this) DRIVER_CURRENT.remove();
        binding.destroyed();
    }

    private void check(String call) {
        if (closed) throw new CudaError(call + ": the emulated device is closed");
        binding.bind();
        if (DRIVER_CURRENT.get() != this)
            throw new CudaError(call + ": CUDA_ERROR_INVALID_CONTEXT (emulated): another device's context is current"
                    + " on thread " + Thread.currentThread().getName() + "; this device's handles are invalid there");
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
