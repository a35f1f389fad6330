package convunext.backend.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Caching device allocator: sizes are rounded up to buckets (powers of two up to 4 KiB, then four
 * buckets per octave, so at most 25% is wasted) and released buffers wait on a free list per
 * bucket. After the first training step every request is served from the lists, so a step
 * allocates nothing from the driver. Reuse is safe without synchronisation because every kernel
 * and copy runs in order on one stream (stream-ordered reuse, as PyTorch's allocator).
 * When the driver runs out of memory the free lists are returned to it and the call retried.
 */
public final class DevicePool implements AutoCloseable {
    private final Device device;
    private final StepGraphs queue;   // null: straight to the device
    private final Map<Long, ArrayDeque<DeviceBuffer>> free = new HashMap<>();
    private final Map<DeviceBuffer, Boolean> all = new IdentityHashMap<>();
    private long inUse, peakInUse, reserved, peakReserved;
    private long driverAllocs, reuses;

    public DevicePool(Device device) { this(device, null); }

    /** {@code queue}: where the NaN fill of a reused buffer goes (in order with the work that used it before). */
    public DevicePool(Device device, StepGraphs queue) {
        this.device = device;
        this.queue = queue;
    }

    /** Bucket size for a request of {@code bytes}. */
    static long bucket(long bytes) {
        long b = Math.max(bytes, 256);
        if (b <= 4096) return Long.highestOneBit(b - 1) << 1;
        long step = Long.highestOneBit(b - 1) >> 2;
        return (b + step - 1) / step * step;
    }

    public synchronized DeviceBuffer allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("DevicePool.allocate: negative size " + bytes);
        long size = bucket(bytes);
        ArrayDeque<DeviceBuffer> list = free.get(size);
        DeviceBuffer b = list == null ? null : list.pollFirst();
        if (b != null) {
            reuses++;
            if (device.scribbles()) {   // its old contents are not the new owner's (the emulator's shuffled mode)
                if (queue != null) queue.memset(b.address(), 0xff, b.bytes());
                else device.memset(b.address(), 0xff, b.bytes());
            }
        } else {
            long addr;
            try {
                addr = device.malloc(size);
            } catch (CudaError e) {
                trim();
                try {
                    addr = device.malloc(size);
                } catch (CudaError e2) {
                    String free = "";
                    try {
                        long[] fm = device.memInfo();
                        free = String.format(", %.1f MiB free of %.1f MiB", fm[0] / 1048576.0, fm[1] / 1048576.0);
                    } catch (RuntimeException ignored) { }
                    throw new CudaOutOfMemory(String.format("device out of memory: asked for %.1f MiB (this run holds %.1f MiB, peak %.1f MiB%s: %s)",
                            size / 1048576.0, inUse / 1048576.0, peakInUse / 1048576.0, free, e2.getMessage()),
                            "try a smaller --batch or --crop (or --tile for predict)", e2);
                }
            }
            b = new DeviceBuffer(addr, size);
            all.put(b, Boolean.TRUE);
            reserved += size;
            peakReserved = Math.max(peakReserved, reserved);
            driverAllocs++;
        }
        b.markReleased(false);
        inUse += size;
        peakInUse = Math.max(peakInUse, inUse);
        return b;
    }

    public synchronized void release(DeviceBuffer b) {
        if (b.isView()) return;
        if (!all.containsKey(b)) throw new IllegalArgumentException("DevicePool.release: not from this pool: " + b);
        if (b.released()) throw new IllegalStateException("DevicePool.release: released twice: " + b);
        b.markReleased(true);
        inUse -= b.bytes();
        free.computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).addFirst(b);
    }

    /**
     * A buffer that stays for the backend's life (a launcher's small state: AdamW's step scalars,
     * the loss result), straight from the driver so that it never changes which pool buffers the
     * repeated steps get (a step graph replays fixed addresses). Freed at close.
     */
    public synchronized DeviceBuffer allocatePersistent(long bytes) {
        long size = bucket(bytes);
        DeviceBuffer b = new DeviceBuffer(device.malloc(size), size);
        all.put(b, Boolean.TRUE);
        reserved += size;
        peakReserved = Math.max(peakReserved, reserved);
        inUse += size;
        peakInUse = Math.max(peakInUse, inUse);
        driverAllocs++;
        return b;
    }

    /**
     * Puts every free list in address order. Called at the start and the end of each step scope:
     * a step that allocates and releases the same sizes in the same order then gets the same
     * buffers every time, whatever order the previous step released them in, which a replayed
     * graph (fixed addresses) requires.
     */
    public synchronized void canonicalize() {
        for (Map.Entry<Long, ArrayDeque<DeviceBuffer>> e : free.entrySet()) {
            if (e.getValue().size() < 2) continue;
            DeviceBuffer[] a = e.getValue().toArray(new DeviceBuffer[0]);
            java.util.Arrays.sort(a, java.util.Comparator.comparingLong(DeviceBuffer::address));
            e.setValue(new ArrayDeque<>(java.util.Arrays.asList(a)));
        }
    }

    /** Returns every cached (free) buffer to the driver. */
    public synchronized void trim() {
        if (queue != null) queue.needResults("returning memory to the driver");
        for (ArrayDeque<DeviceBuffer> list : free.values()) {
            for (DeviceBuffer b : list) {
                device.free(b.address());
                all.remove(b);
                reserved -= b.bytes();
            }
        }
        free.clear();
    }

    /** Bytes held by live tensors and workspaces now. */
    public synchronized long bytesInUse() { return inUse; }

    /** Highest {@link #bytesInUse()} seen. */
    public synchronized long peakBytesInUse() { return peakInUse; }

    /** Bytes obtained from the driver now (in use + cached). */
    public synchronized long bytesReserved() { return reserved; }

    public synchronized long peakBytesReserved() { return peakReserved; }

    /** How many requests went to the driver, and how many were served from the free lists. */
    public synchronized long driverAllocations() { return driverAllocs; }

    public synchronized long reuses() { return reuses; }

    public synchronized void resetPeak() { peakInUse = inUse; peakReserved = reserved; }

    @Override public synchronized void close() {
        for (DeviceBuffer b : all.keySet()) device.free(b.address());
        all.clear();
        free.clear();
        inUse = 0;
        reserved = 0;
    }

    @Override public synchronized String toString() {
        return String.format("pool: in use %.1f MiB (peak %.1f), reserved %.1f MiB (peak %.1f), %d driver allocs, %d reuses",
                inUse / 1048576.0, peakInUse / 1048576.0, reserved / 1048576.0, peakReserved / 1048576.0,
                driverAllocs, reuses);
    }
}
