package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The selftests on the emulated device, plus what only the emulator does: randomised scheduling
 * that exposes races, and errors (not hangs) for partial barriers, asserts and bad launches.
 * Skipped when the suite runs on a GPU (-Dconvunext.test.device=cuda): JCudaDeviceTest runs the
 * selftests there, and nothing here says anything about the GPU.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmulatedDeviceTest extends DeviceSelftests {
    EmulatedDevice emu;

    @BeforeAll void open() {
        assumeTrue(Parity.onEmulator(), () -> "emulator-only; the suite runs on " + Parity.DEVICE);
        dev = emu = EmulatedDevice.open();
        emu.configure(2, 0, true);
    }

    @AfterEach void inOrder() {
        emu.configure(2, 0, true);
    }

    @AfterAll void close() {
        if (emu == null) return;   // @AfterAll runs also when open() was skipped
        emu.configure(0, 0, true);
        emu.close();
    }

    @Test void reductionsUnderShuffledOrder() {
        emu.configure(2, 12345, true);
        checkBlockSums("selftest_block_sum_static", 999, 256, 0, 6);
        checkBlockSums("selftest_block_sum_dynamic", 999, 256, 256 * 4, 7);
        matmul(19, 33, 17, 8);
    }

    @Test void randomisedOrderExposesTheRace() {
        int block = 256;
        float[] correct = new float[2 * block];
        for (int i = 0; i < 2 * block; i++) correct[i] = (i % block + 1) % block + 1;
        assertArrayEquals(correct, racy(1, block), "with the barrier, in order");
        float[] inOrder = racy(0, block);
        assertFalse(Arrays.equals(correct, inOrder), "the racy kernel must read stale values in order");
        int differing = 0;
        for (long seed = 1; seed <= 4; seed++) {
            emu.configure(2, seed, true);
            assertArrayEquals(correct, racy(1, block), "with the barrier, seed " + seed);
            float[] shuffled = racy(0, block);
            if (!Arrays.equals(inOrder, shuffled)) differing++;
        }
        assertTrue(differing > 0, "no shuffle seed changed the racy kernel's result");
    }

    void expectError(String kernel, int[] grid, int[] block, int shmem, KernelArgs args, String... fragments) {
        CudaError e = assertThrows(CudaError.class, () -> dev.launch(kernel, grid, block, shmem, args));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
    }

    @Test void partialBarriersAndAssertsAreErrorsNotHangs() {
        long po = dev.malloc(4L * 64);
        expectError("selftest_bad_sync", d(1), d(64), 0, new KernelArgs().ptr(po).i32(0),
                "selftest_bad_sync", "deadlock", "16 at __syncthreads, 48 exited");
        expectError("selftest_bad_sync", d(1), d(64), 0, new KernelArgs().ptr(po).i32(1), "deadlock", "1 exited");
        expectError("selftest_bad_sync", d(1), d(64), 0, new KernelArgs().ptr(po).i32(2), "warp 0", "lanes {31}");
        expectError("selftest_bad_sync", d(2), d(64), 0, new KernelArgs().ptr(po).i32(3), "device assert failed: t < 5",
                "selftest.cu");
        // the emulator is usable afterwards
        checkBlockSums("selftest_block_sum_static", 300, 256, 0, 14);
        dev.free(po);
    }

    /** Tensor-core misuse that is undefined on a GPU is an error here (kernels/emu/emu_wmma.h). */
    @Test void wmmaMisuseIsAnError() {
        long pa = upload(random(256, 31)), pc = dev.malloc(4L * 256);
        expectError("selftest_wmma_misuse", d(1), d(32), 0, new KernelArgs().ptr(pa).ptr(pc).i32(0),
                "not converted with wmma::__float_to_tf32");
        expectError("selftest_wmma_misuse", d(1), d(32), 0, new KernelArgs().ptr(pa).ptr(pc).i32(1), "multiple of 16 bytes");
        expectError("selftest_wmma_misuse", d(1), d(32), 0, new KernelArgs().ptr(pa).ptr(pc).i32(2), "deadlock");
        dev.launch("selftest_wmma_misuse", d(1), d(32), 0, new KernelArgs().ptr(pa).ptr(pc).i32(3));
        dev.free(pa);
        dev.free(pc);
    }

    @Test void badLaunchesAreRefused() {
        long p = dev.malloc(4L * 16);
        KernelArgs ok = new KernelArgs().ptr(p).ptr(p).f32(1f).i32(16);
        expectError("selftest_saxpy", d(1), d(2048), 0, ok, "2048 threads exceeds");
        expectError("selftest_saxpy", d(1), d(32, 1, 65), 0, ok, "exceeds");
        expectError("selftest_saxpy", d(0), d(32), 0, ok, "is 0");
        // a GPU's grid limits (y, z <= 65535; x < 2^31): a launcher that put more planes into y or
        // z than a GPU takes fails here as it would there (kernels/README.md, rule 10)
        expectError("selftest_saxpy", d(1, 65536, 1), d(32), 0, ok, "grid exceeds the limits", "y,z <= 65535");
        expectError("selftest_saxpy", d(1, 1, 65536), d(32), 0, ok, "grid exceeds the limits");
        dev.launch("selftest_saxpy", d(1, 65535, 1), d(32), 0, new KernelArgs().ptr(p).ptr(p).f32(1f).i32(0));   // the limit is a grid
        expectError("selftest_saxpy", d(1), d(32), 300_000, ok, "227 KiB");
        expectError("selftest_saxpy", d(1), d(32), 0, new KernelArgs().ptr(p).ptr(p).f32(1f), "do not match",
                "float* y");
        expectError("selftest_saxpy", d(1), d(32), 0, new KernelArgs().ptr(p).ptr(p).i32(1).i32(16), "do not match");
        expectError("selftest_saxpy", d(1), d(32), 0, new KernelArgs().ptr(p + 4096).ptr(p).f32(1f).i32(16),
                "argument 0", "not inside any live device allocation");
        assertThrows(CudaError.class, () -> dev.launch("no_such_kernel", d(1), d(1), 0, new KernelArgs()));
        // copies outside an allocation are errors, not crashes of the JVM
        CudaError c = assertThrows(CudaError.class, () -> dev.copyHtoD(p + 8, new float[16], 0, 16));
        assertTrue(c.getMessage().contains("not inside one live device allocation"), c.getMessage());
        assertThrows(CudaError.class, () -> dev.copyDtoH(new float[4], 0, 64, 4));
        assertThrows(CudaError.class, () -> dev.copyDtoD(p, p + 4, 64));
        assertThrows(CudaError.class, () -> dev.memsetZero(p, 65));
        dev.free(p);
        assertThrows(CudaError.class, () -> dev.free(p), "double free");
    }

    /** What a GPU leaves undefined is NaN in the shuffled mode, so reading it fails a parity test. */
    @Test void shuffledModePoisonsWhatAGpuLeavesUndefined() {
        emu.configure(2, 77, true);
        long fresh = dev.malloc(4L * 64), out = dev.malloc(4L * 128);
        dev.launch("selftest_read_unwritten", d(1), d(64), 0, new KernelArgs().ptr(fresh).ptr(out).i32(1));
        dev.launch("selftest_read_unwritten", d(2), d(64), 0, new KernelArgs().ptr(fresh).ptr(out).i32(0));
        float[] got = new float[128];
        dev.copyDtoH(got, 0, out, 128);
        for (int i = 0; i < 128; i++)
            assertTrue(Float.isNaN(got[i]), (i < 64 ? "static shared" : "fresh device memory") + " element " + i + " = " + got[i]);
        // a pool buffer handed out again is NaN too, not its previous owner's data
        try (DevicePool pool = new DevicePool(dev)) {
            DeviceBuffer b = pool.allocate(256);
            dev.copyHtoD(b.address(), new float[64], 0, 64);
            pool.release(b);
            DeviceBuffer again = pool.allocate(256);
            assertEquals(b.address(), again.address());
            dev.copyDtoH(got, 0, again.address(), 64);
            for (int i = 0; i < 64; i++) assertTrue(Float.isNaN(got[i]), "reused pool buffer element " + i);
        }
        dev.free(fresh);
        dev.free(out);
    }

    @Test void describesItself() {
        assertEquals("emulated", dev.kind());
        assertTrue(dev.describe().contains("CUDA emulator"), dev.describe());
        assertTrue(emu.kernelNames().contains("selftest_matmul"));
        long[] mem = dev.memInfo();
        assertTrue(mem[0] > 0 && mem[1] >= mem[0]);
    }
}
