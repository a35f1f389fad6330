package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Opening devices by name and the probe summary; must never crash where no GPU exists. */
class DevicesTest {

    @Test void probeGivesAReasonInsteadOfCrashing() {
        String why = JCudaDevice.probe();
        if (why != null) assertTrue(why.startsWith("CUDA device unavailable") || why.contains("PTX"), why);
        String s = Devices.describe();
        for (String line : new String[] {"cuda:", "emulated:", "ptx:", "cuBLAS:", "cuDNN:"})
            assertTrue(s.contains(line), line + " missing in:\n" + s);
        if (Parity.onEmulator() || EmulatedDevice.probe() == null) assertTrue(s.contains("emulated: available"), s);
        if (why != null) {
            assertTrue(s.contains("cuda:     unavailable"), s);
            assertTrue(s.contains("cuBLAS:   not used: no CUDA device"), s);
            assertTrue(s.contains("cuDNN:    not available: no CUDA device"), s);
        }
        for (String line : s.split("\n")) assertFalse(line.isBlank() || line.contains("\tat "), s);
    }

    @Test void autoFallsBackToTheEmulator() {
        if (JCudaDevice.probe() != null) Parity.requireEmulator();   // auto opens the emulator only without a GPU
        try (Device d = Devices.open("auto")) {
            if (JCudaDevice.probe() != null) assertEquals("emulated", d.kind());
            long p = d.malloc(64);
            d.memsetZero(p, 64);
            float[] back = {7f, 7f};
            d.copyDtoH(back, 0, p, 2);
            assertArrayEquals(new float[] {0f, 0f}, back);
            d.free(p);
        }
        if (Parity.onEmulator() || EmulatedDevice.probe() == null) {
            try (Device d = Devices.open("emulated")) {
                assertEquals("emulated", d.kind());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Devices.open("tpu"));
    }

    @Test void ptxIndexListsTheSelftestKernelsWhenNvccBuiltThem() {
        var index = JCudaDevice.readIndex();
        if (!index.isEmpty()) assertEquals("selftest.ptx", index.get("selftest_matmul"));
    }
}
