package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The caching allocator on a bookkeeping-only fake device (no kernels involved). */
class DevicePoolTest {

    /** Hands out fake addresses, remembers what is live, can be told to run out of memory. */
    static class FakeDevice implements Device {
        final Set<Long> live = new HashSet<>();
        long next = 0x1000, liveBytes, limit = Long.MAX_VALUE;
        int mallocs;
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();

        @Override public String kind() { return "fake"; }
        @Override public String describe() { return "fake"; }
        @Override public long malloc(long bytes) {
            if (liveBytes + bytes > limit) throw new CudaError("out of memory");
            long a = next;
            next += bytes + 256;
            live.add(a);
            sizes.put(a, bytes);
            liveBytes += bytes;
            mallocs++;
            return a;
        }
        @Override public void free(long ptr) {
            if (!live.remove(ptr)) throw new CudaError("double free " + ptr);
            liveBytes -= sizes.remove(ptr);
        }
        @Override public void copyHtoD(long dst, float[] src, int srcOff, int count) {}
        @Override public void copyDtoH(float[] dst, int dstOff, long src, int count) {}
        @Override public void copyDtoD(long dst, long src, long bytes) {}
        @Override public void memset(long ptr, int value, long bytes) {}
        @Override public long hostAlloc(long bytes) { return 1; }
        @Override public void hostWrite(long host, long off, float[] src, int srcOff, int count) {}
        @Override public void hostFree(long host) {}
        @Override public void copyHostToDevice(long dst, long host, long off, long bytes) {}
        @Override public void eventSynchronize(long e) {}
        @Override public long graphCapture(Runnable issue) { return 1; }
        @Override public void graphLaunch(long graph) {}
        @Override public void graphDestroy(long graph) {}
        @Override public void launch(String kernel, int[] grid, int[] block, int sharedBytes, KernelArgs args) {}
        @Override public java.util.Set<String> kernelNames() { return java.util.Set.of(); }
        @Override public void synchronize() {}
        @Override public long[] memInfo() { return new long[]{0, 0}; }
        @Override public long eventCreate() { return 1; }
        @Override public void eventRecord(long e) {}
        @Override public float eventElapsedMs(long s, long e) { return 0; }
        @Override public void eventDestroy(long e) {}
        @Override public void close() {}
    }

    @Test void bucketsWasteAtMostAQuarter() {
        assertEquals(256, DevicePool.bucket(1));
        assertEquals(256, DevicePool.bucket(256));
        assertEquals(512, DevicePool.bucket(257));
        assertEquals(4096, DevicePool.bucket(4096));
        assertEquals(5120, DevicePool.bucket(4097));
        for (long b = 1; b < 50_000_000; b = b * 3 + 7) {
            long k = DevicePool.bucket(b);
            assertTrue(k >= b && (k <= 256 || k <= b * 2 && (b <= 4096 || k <= b * 1.25 + 1)), "bucket(" + b + ") = " + k);
        }
    }

    @Test void releasedBuffersAreReusedAndPeakTracked() {
        FakeDevice d = new FakeDevice();
        DevicePool pool = new DevicePool(d);
        DeviceBuffer a = pool.allocate(1000), b = pool.allocate(5000);
        assertNotEquals(a.address(), b.address());
        assertEquals(1024 + 5120, pool.bytesInUse());
        pool.release(a);
        DeviceBuffer c = pool.allocate(900);   // same bucket as a
        assertSame(a, c);
        assertEquals(2, d.mallocs);
        assertEquals(1, pool.reuses());
        pool.release(b);
        pool.release(c);
        assertEquals(0, pool.bytesInUse());
        assertEquals(1024 + 5120, pool.peakBytesInUse());
        // a steady-state "step": the same requests again allocate nothing from the device
        for (int step = 0; step < 3; step++) {
            DeviceBuffer x = pool.allocate(1000), y = pool.allocate(5000);
            pool.release(y);
            pool.release(x);
        }
        assertEquals(2, d.mallocs);
        assertThrows(IllegalStateException.class, () -> pool.release(a));
        assertTrue(a.asView().isView());
        pool.release(a.asView());   // views are ignored
        pool.close();
        assertTrue(d.live.isEmpty(), "close frees everything");
    }

    @Test void outOfMemoryTrimsTheCacheAndRetries() {
        FakeDevice d = new FakeDevice();
        d.limit = 10_000;
        DevicePool pool = new DevicePool(d);
        DeviceBuffer a = pool.allocate(8000);   // bucket 8192
        pool.release(a);
        DeviceBuffer b = pool.allocate(6000);   // bucket 6144: cache must be returned first
        assertEquals(6144, b.bytes());
        assertEquals(0, pool.bytesReserved() - 6144);
        CudaError oom = assertThrows(CudaError.class, () -> pool.allocate(9000));
        assertTrue(oom.getMessage().contains("asked for") && oom.getMessage().contains("smaller --batch"), oom.getMessage());
        pool.close();
        assertTrue(d.live.isEmpty());
    }
}
