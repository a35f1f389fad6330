package convunext.backend.cpu;

import convunext.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Released float[] storage of the CPU backend, kept for reuse so a training step does not make
 * the JVM allocate, zero and collect gigabytes of arrays (every step repeats the same shapes, so
 * buckets are exact lengths). Bounded: at most {@code maxBytes} are cached, the oldest released
 * arrays are dropped first. All methods are synchronized: allocation and release happen on the
 * caller's thread, but a backend may be used from several (data loading, evaluation).
 *
 * <p>Ownership is tracked per {@link Tensor} object (identity: Tensor is final and does not
 * override equals/hashCode), weakly, so tensors that are never released are still collected.
 * Only tensors this pool handed out return their array; views (other Tensor objects on the same
 * array) are ignored; releasing the same tensor twice throws.
 *
 * <p>{@code -Dconvunext.cpu.poison=true} fills every array from {@link #take} and every released
 * array with NaN, so an op that relies on zeroed results, or a use after release, shows up.
 */
final class CpuArrayPool {
    /** Default cap: a fraction of the heap (live tensors + cache stay near one step's peak). */
    private static final double DEFAULT_HEAP_FRACTION = 0.4;

    private final long maxBytes;
    private final boolean poison;
    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    /** Every cached array, oldest release first (float[] hashes by identity). */
    private final LinkedHashSet<float[]> order = new LinkedHashSet<>();
    private final WeakHashMap<Tensor, Boolean> live = new WeakHashMap<>();
    private final WeakHashMap<Tensor, Boolean> released = new WeakHashMap<>();
    private long cachedBytes, hits, misses, dropped;

    CpuArrayPool(long maxBytes, boolean poison) {
        if (maxBytes < 0) throw new IllegalArgumentException("cpu pool: negative size " + maxBytes);
        this.maxBytes = maxBytes;
        this.poison = poison;
    }

    /** From the system properties convunext.cpu.poolMiB (default 40% of the heap; 0 disables) and convunext.cpu.poison. */
    static CpuArrayPool fromProperties() {
        String mib = System.getProperty("convunext.cpu.poolMiB");
        long bytes = mib != null ? Long.parseLong(mib.trim()) << 20
                : (long) (Runtime.getRuntime().maxMemory() * DEFAULT_HEAP_FRACTION);
        return new CpuArrayPool(bytes, Boolean.getBoolean("convunext.cpu.poison"));
    }

    boolean poison() { return poison; }

    long maxBytes() { return maxBytes; }

    /**
     * Floats after n in every array: room for a tensor to start at {@link AlignedScratch#at()}, where
     * a humongous array's element sits on a 64-byte boundary (tensors of 2 MiB and more are
     * humongous with G1's 4 MiB regions: every activation of levels 0–3), so full-width vector
     * loads along a row do not straddle cache lines. 0 where the offset is unknown.
     */
    static final int PAD = AlignedScratch.knownOffset();

    /**
     * An array of n + {@link #PAD} floats: a cached one (contents undefined; NaN when poisoning) or a
     * new one. {@code zero} asks for zeros whatever its origin.
     */
    synchronized float[] take(int n, boolean zero) {
        int len = n + PAD;
        ArrayDeque<float[]> q = free.get(len);
        float[] a = q == null ? null : q.pollLast();   // most recently released: likeliest in cache
        if (a == null) {
            misses++;
            a = new float[len];
            if (poison && !zero) Arrays.fill(a, Float.NaN);
            return a;
        }
        hits++;
        order.remove(a);
        cachedBytes -= bytes(len);
        if (zero) Arrays.fill(a, 0f);
        else if (poison) Arrays.fill(a, Float.NaN);   // already NaN since release; refilled in case of a use after release
        return a;
    }

    /** Marks t (whose array came from {@link #take}) as returnable by {@link #give}. */
    synchronized Tensor own(Tensor t) {
        live.put(t, Boolean.TRUE);
        return t;
    }

    /** Returns t's array to the cache if t owns it; ignores views; throws on a second release. */
    synchronized void give(Tensor t) {
        if (live.remove(t) == null) {
            if (released.containsKey(t))
                throw new IllegalStateException("cpu: tensor " + t.shapeString() + " released twice");
            return;   // a view, or a tensor this pool did not hand out
        }
        released.put(t, Boolean.TRUE);
        float[] a = t.array();
        if (poison) Arrays.fill(a, Float.NaN);
        long b = bytes(a.length);
        if (b > maxBytes) {
            dropped++;
            return;
        }
        while (cachedBytes + b > maxBytes) evictOldest();
        free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).addLast(a);
        order.add(a);
        cachedBytes += b;
    }

    private void evictOldest() {
        Iterator<float[]> it = order.iterator();
        float[] a = it.next();
        it.remove();
        ArrayDeque<float[]> q = free.get(a.length);
        // Within a bucket arrays are in release order too, so the globally oldest is its head.
        if (q.peekFirst() == a) q.pollFirst();
        else q.removeFirstOccurrence(a);
        if (q.isEmpty()) free.remove(a.length);
        cachedBytes -= bytes(a.length);
        dropped++;
    }

    private static long bytes(int n) { return 4L * n; }

    /** Drops every cached array (the tracking of live tensors stays). */
    synchronized void clear() {
        free.clear();
        order.clear();
        cachedBytes = 0;
    }

    /** "hits/misses/dropped, cached MiB" for logs and tests. */
    synchronized String stats() {
        return String.format("pool %d hits, %d misses, %d dropped, %.1f MiB cached (cap %d MiB)%s",
                hits, misses, dropped, cachedBytes / 1048576.0, maxBytes >> 20, poison ? ", poison" : "");
    }

    synchronized long hits() { return hits; }

    synchronized long cachedBytes() { return cachedBytes; }
}
