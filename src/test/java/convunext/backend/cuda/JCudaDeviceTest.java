package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The selftests on a real GPU; skipped (with the reason) where none can be opened, except when
 * the suite was asked to run on one (-Dconvunext.test.device=cuda): then no GPU is a failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JCudaDeviceTest extends DeviceSelftests {

    @BeforeAll void open() {
        String why = JCudaDevice.probe();
        if (Parity.DEVICE.equals("cuda")) assertNull(why, () -> "-Dconvunext.test.device=cuda but " + why);
        else assumeTrue(why == null, () -> "no GPU: " + why);
        dev = JCudaDevice.open();
    }

    @AfterAll void close() {
        if (dev != null) dev.close();
    }

    @Test void describesTheGpu() {
        assertEquals("cuda", dev.kind());
        assertTrue(dev.describe().contains("sm_"), dev.describe());
        long[] mem = dev.memInfo();
        assertTrue(mem[0] > 0 && mem[1] >= mem[0]);
    }

    /** On an sm_90 GPU every kernel file comes from the jar's sm_90 cubin, not from a PTX JIT. */
    @Test void sm90LoadsMachineCodeNotPtx() {
        JCudaDevice g = (JCudaDevice) dev;
        long p = g.malloc(64);
        g.launch("selftest_saxpy", new int[] {1}, new int[] {16}, 0, new KernelArgs().ptr(p).ptr(p).f32(1f).i32(16));
        g.synchronize();
        g.free(p);
        String src = g.moduleSources().get("selftest");
        assertNotNull(src, g.moduleSources().toString());
        if (g.describe().contains("(sm_90,")) assertEquals("sm_90 SASS", src);
        else assertTrue(src.startsWith("PTX JIT"), src);
    }

    @Test void unknownKernelIsACudaError() {
        CudaError e = assertThrows(CudaError.class, () -> dev.launch("no_such_kernel", new int[] {1}, new int[] {1}, 0, new KernelArgs()));
        assertTrue(e.getMessage().contains("no_such_kernel"));
    }
}
