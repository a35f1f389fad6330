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

    @Test void unknownKernelIsACudaError() {
        CudaError e = assertThrows(CudaError.class, () -> dev.launch("no_such_kernel", new int[] {1}, new int[] {1}, 0, new KernelArgs()));
        assertTrue(e.getMessage().contains("no_such_kernel"));
    }
}
