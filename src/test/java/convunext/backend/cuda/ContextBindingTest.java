package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A device's calls run in its own context whatever other devices did on the thread since: the
 * H200's first run failed GeluFusionTest with CUDA_ERROR_INVALID_HANDLE because two backends opened
 * on one thread, and the first one's launch went to the second's context.
 */
class ContextBindingTest {
    /** A driver with one current context per thread, counting the cuCtxSetCurrent calls. */
    static final class FakeDriver {
        final ThreadLocal<Object> current = new ThreadLocal<>();
        final AtomicInteger sets = new AtomicInteger();

        ContextBinding create(Object ctx) {
            current.set(ctx);   // cuCtxCreate makes the new context current
            return new ContextBinding(ctx, () -> {
                sets.incrementAndGet();
                current.set(ctx);
            });
        }
    }

    @Test void twoContextsOnOneThreadEachGetTheirsBack() throws Exception {
        FakeDriver d = new FakeDriver();
        Object a = new Object(), b = new Object();
        ContextBinding ba = d.create(a);
        ba.bind();
        assertEquals(0, d.sets.get(), "a context just created is current already");
        ContextBinding bb = d.create(b);   // takes the thread
        ba.bind();
        assertEquals(a, d.current.get(), "a's call after b was created");
        bb.bind();
        assertEquals(b, d.current.get());
        int n = d.sets.get();
        bb.bind();
        bb.bind();
        assertEquals(n, d.sets.get(), "no driver call while it stays current");
        AtomicReference<Object> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            bb.bind();
            seen.set(d.current.get());
        });
        t.start();
        t.join();
        assertEquals(b, seen.get(), "another thread");
        ba.destroyed();
        bb.destroyed();
    }

    @Test void twoEmulatedDevicesOnOneThread() {
        try (EmulatedDevice a = EmulatedDevice.open(); EmulatedDevice b = EmulatedDevice.open()) {
            long pa = assertDoesNotThrow(() -> a.malloc(64), "a, after b was opened on this thread");
            long pb = b.malloc(64);
            a.free(pa);
            b.free(pb);
        }
        try (EmulatedDevice a = EmulatedDevice.open()) {
            EmulatedDevice b = EmulatedDevice.open();
            b.close();
            assertDoesNotThrow(() -> a.free(a.malloc(16)), "a, after b was opened and closed");
            assertThrows(CudaError.class, () -> b.malloc(16), "a closed device");
        }
    }
}
