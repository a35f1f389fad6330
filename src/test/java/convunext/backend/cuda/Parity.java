package convunext.backend.cuda;

import convunext.backend.parity.BackendParity;

/**
 * {@link BackendParity} on a CudaBackend of this package's device, for the CUDA-only tests
 * (cuDNN baseline, events, pool, reflect pad): inputs are plain uploads (offset 0: cuDNN wants
 * aligned buffers). The op parity cases live in {@code convunext.backend.parity}.
 */
final class Parity extends BackendParity {
    /**
     * The device this package's tests run on: "emulated" (default, CI) or "cuda" (set by
     * bench/device-check.sh on a GPU machine). Emulator-only tests skip themselves unless emulated.
     */
    static final String DEVICE = BackendParity.DEVICE;

    static boolean onEmulator() { return DEVICE.equals("emulated"); }

    /**
     * For a test (or assertion) that needs the emulator itself: in CI (the suite on the emulator)
     * it must load, so failing to is a failure; on a GPU machine (-Dconvunext.test.device=cuda)
     * it may not (its library needs a recent glibc), and the test is skipped saying why.
     */
    static void requireEmulator() {
        String why = EmulatedDevice.probe();
        if (onEmulator()) org.junit.jupiter.api.Assertions.assertNull(why, () -> "the emulator does not load: " + why);
        else org.junit.jupiter.api.Assumptions.assumeTrue(why == null,
                () -> "the emulator does not load on this machine (" + why + "); the suite runs on " + DEVICE);
    }

    final CudaBackend cuda;

    Parity(long seed) { this(CudaBackend.open(DEVICE), seed); }

    private Parity(CudaBackend be, long seed) {
        super(DEVICE, be, seed, 0, be::close);
        this.cuda = be;
    }

    @Override public void close() {
        try {
            super.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
