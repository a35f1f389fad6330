package convunext.backend.cpu;

/**
 * A per-thread float buffer (as {@link CpuScratch}) whose element {@link #at()} lies on a 64-byte
 * boundary, for the buffers that vector kernels stream from with full-width loads (the dot path's
 * interleaved spans and parked accumulators). Java places an array's elements 16 bytes past the
 * object's start (the header) and the object anywhere on 8 bytes, so a 64-byte AVX-512 load from
 * element 0, 16, 32 … straddles two cache lines; measured on one Zen 5 core, dotSpan4 over L2-resident
 * spans ran 164 GFLOP/s from aligned spans against 136–148 from the 15 other offsets (bench/NOTES.md,
 * CPU round 22).
 *
 * <p>Where the address is known: with G1, an array of at least half a heap region is humongous,
 * starts at a region boundary and is never moved, so its first element sits at
 * {@link #floatBaseOffset()} bytes past a 64-byte boundary. Buffers are
 * made that long, and {@link #at()} is the first element after it on a boundary. With another
 * collector, or regions over {@link #MAX_REGION} (a 1 MiB floor per buffer would then be wasteful),
 * or java.management absent, {@code at()} is 0 and buffers are plain: only speed depends on it.
 * Results never do: a kernel's values do not depend on where its operands lie.
 */
final class AlignedScratch {
    /** Largest G1 region for which buffers are made humongous (each is then at least half a region). */
    static final long MAX_REGION = 4L << 20;
    /** Floats from an array's first element to its first 64-byte boundary (0 where unknown). */
    private static final int AT;
    /** Length that makes an array humongous (0 where unknown). */
    private static final int MIN_FLOATS;

    static {
        int at = 0, min = 0;
        try {
            var hs = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            long region = Long.parseLong(hs.getVMOption("G1HeapRegionSize").getValue());
            if (Boolean.parseBoolean(hs.getVMOption("UseG1GC").getValue()) && region > 0 && region <= MAX_REGION) {
                int base = floatBaseOffset();
                if (base % 4 == 0) {
                    at = (64 - base % 64) % 64 / 4;
                    min = (int) (region / 2 / 4) + 16;
                }
            }
        } catch (RuntimeException | LinkageError | ReflectiveOperationException unknown) {
            at = 0;
            min = 0;
        }
        AT = at;
        MIN_FLOATS = min;
    }

    /** Whether {@link #at()} aligns (false: element 0, for A/B runs; set before a call, read once per call). */
    static volatile boolean aligned = !"false".equals(System.getProperty("convunext.cpu.alignScratch"));

    private final ThreadLocal<float[][]> buf = ThreadLocal.withInitial(() -> new float[1][0]);

    /** Where a kernel's data should start in a buffer from {@link #get}: a 64-byte boundary where known. */
    static int at() { return aligned ? AT : 0; }

    /** This thread's buffer, with at least n floats from {@link #at()} on. */
    float[] get(int n) {
        float[][] h = buf.get();
        if (h[0].length < (long) n + AT) h[0] = newArray(n);
        return h[0];
    }

    /** A new array with at least n floats from {@link #at()} on (humongous where that aligns it). */
    static float[] newArray(int n) { return new float[(int) Math.max((long) n + AT, MIN_FLOATS)]; }

    /**
     * Bytes from an array object's start to its first float: {@code sun.misc.Unsafe.ARRAY_FLOAT_BASE_OFFSET}
     * (jdk.unsupported), read reflectively so that the build does not depend on that class.
     */
    static int floatBaseOffset() throws ReflectiveOperationException {
        return Class.forName("sun.misc.Unsafe").getField("ARRAY_FLOAT_BASE_OFFSET").getInt(null);
    }

    /** For info and tests: the offset where alignment is known, else 0. */
    static int knownOffset() { return AT; }
}
