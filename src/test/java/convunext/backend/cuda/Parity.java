package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.RefBackend;
import convunext.tensor.Tensor;
import java.util.Random;

/**
 * Test harness: the same random inputs on the CUDA backend (on the emulated device, or on a GPU
 * with -Dconvunext.test.device=cuda) and on the float64 oracle {@link RefBackend}, and a
 * norm-relative comparison of the results: max|cuda - ref| / max|ref| must not exceed the op's
 * tolerance.
 */
final class Parity implements AutoCloseable {
    /**
     * The device this package's tests run on: "emulated" (default, CI) or "cuda" (set by
     * bench/device-check.sh on a GPU machine). Emulator-only tests skip themselves unless emulated.
     */
    static final String DEVICE = System.getProperty("convunext.test.device", "emulated");

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
    final RefBackend ref = new RefBackend();
    final Random rnd;

    Parity(long seed) {
        cuda = CudaBackend.open(DEVICE);
        rnd = new Random(seed);
    }

    /** Gaussian values scaled by {@code scale}, shifted by {@code shift}; never all zero. */
    float[] gauss(int n, double scale, double shift) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale + shift);
        return a;
    }

    float[] gauss(int n) { return gauss(n, 1.0, 0.0); }

    /** Uniform in [lo, hi). */
    float[] uniform(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return a;
    }

    static int numel(int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** {cuda tensor, ref tensor} holding the same data. */
    Tensor[] up(float[] data, int... shape) {
        return new Tensor[]{cuda.upload(data, shape), ref.upload(data, shape)};
    }

    Tensor[] gaussT(int... shape) { return up(gauss(numel(shape)), shape); }

    static double relErr(float[] got, float[] want) {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < want.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) got[i] - want[i]));
            maxRef = Math.max(maxRef, Math.abs((double) want[i]));
        }
        if (Double.isNaN(maxDiff)) return Double.NaN;
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /** Asserts equal shapes and max|c - r| / max|r| <= tol; returns the relative error. */
    double check(String what, Tensor c, Tensor r, double tol) {
        assertNotNull(c, what + ": cuda result is null");
        assertNotNull(r, what + ": ref result is null");
        assertArrayEquals(r.shape(), c.shape(), what + ": shape");
        float[] got = cuda.download(c), want = ref.download(r);
        double e = relErr(got, want);
        double maxRef = 0;
        for (float v : want) maxRef = Math.max(maxRef, Math.abs(v));
        assertTrue(maxRef > 0 || got.length == 0 || what.contains("zero"), what + ": reference is all zeros (test cannot fail)");
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
        return e;
    }

    double check(String what, Tensor[] c, Tensor[] r, int i, double tol) { return check(what, c[i], r[i], tol); }

    @Override public void close() { cuda.close(); }
}
