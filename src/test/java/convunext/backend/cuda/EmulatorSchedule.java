package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The emulator's randomised schedules for tests in other packages: blocks run in a shuffled order
 * on two OS threads, threads resume in a random order after every barrier and dynamic shared
 * memory starts as NaN, so a missing barrier or a read of unwritten shared memory changes a
 * result. The mode is process-wide; {@link #shuffled} returns what restores the previous one.
 */
public final class EmulatorSchedule {
    private EmulatorSchedule() {}

    /** Turns on shuffled scheduling with {@code seed} on {@code be}'s emulated device; close restores the previous mode. */
    public static AutoCloseable shuffled(CudaBackend be, long seed) {
        EmulatedDevice emu = (EmulatedDevice) be.device();
        long[] before = EmuNative.state();   // [4] OS threads, [5] seed of the current mode
        emu.configure(2, seed, true);
        assertEquals(seed, EmuNative.state()[5], "shuffled mode is on");
        assertTrue(emu.describe().contains("shuffled"), emu.describe());
        return () -> emu.configure((int) before[4], before[5], true);
    }
}
