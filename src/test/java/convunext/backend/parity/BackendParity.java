package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Backend;
import convunext.backend.cpu.CpuBackend;
import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefBackend;
import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.EmulatorSchedule;
import convunext.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The backend-parity harness (tinygrad's {@code helper_test_op} shape): one case drives any
 * {@link Backend} and the float64 oracle {@link RefBackend} through the interface on the same
 * random inputs and compares normwise, max|got − ref| / max|ref| ≤ tol, after checking that every
 * value is finite and that the reference is not all zeros (else the test could not fail). Every
 * input of the backend under test sits {@link #OFFSET} floats into a larger buffer, so each op
 * must honour {@link Tensor#offset()}.
 *
 * <p>Backends ({@link #backends()}): "cpu", "emulated" and "emulated-shuffled:&lt;seed&gt;" (the
 * emulator with randomised schedules, see EmulatorSchedule) by default; only "cuda" with
 * {@code -Dconvunext.test.device=cuda} (bench/device-check.sh on a GPU machine).
 */
public class BackendParity implements AutoCloseable {
    /** Floats in front of every input of the backend under test. */
    public static final int OFFSET = 5;

    /** "emulated" (default: CI) or "cuda" (a GPU machine); the device the CUDA tests run on. */
    public static final String DEVICE = System.getProperty("convunext.test.device", "emulated");

    /** Seeds of the two randomised emulator schedules every parity case also runs under. */
    static final long[] SHUFFLE_SEEDS = {0x5eed1L, 0x5eed2L};

    /** Every backend a parity case runs on (see the class comment). */
    public static Stream<String> backends() {
        return DEVICE.equals("emulated") ? Stream.concat(Stream.of("cpu"), deviceBackends()) : deviceBackends();
    }

    /** The CUDA backends only: the emulated device in order and shuffled, or the GPU. */
    public static Stream<String> deviceBackends() {
        if (!DEVICE.equals("emulated")) return Stream.of(DEVICE);
        return Stream.concat(Stream.of("emulated"), Stream.of(SHUFFLE_SEEDS).flatMapToLong(java.util.Arrays::stream)
                .mapToObj(s -> "emulated-shuffled:" + Long.toHexString(s)));
    }

    public final String backendName;
    /** The backend under test. */
    public final Backend be;
    public final RefBackend ref = new RefBackend();
    public final Random rnd;
    private final int offset;
    private final AutoCloseable onClose;

    /** {@code offset}: floats in front of every input of {@code be}; {@code onClose} runs at {@link #close}. */
    public BackendParity(String backendName, Backend be, long seed, int offset, AutoCloseable onClose) {
        this.backendName = backendName;
        this.be = be;
        this.rnd = new Random(seed);
        this.offset = offset;
        this.onClose = onClose;
    }

    /** Whether the backend under test is the CPU backend. */
    public boolean onCpu() { return be instanceof CpuBackend; }

    /** The CPU backend's tolerance or the CUDA kernels', for the backend under test. */
    public double tol(double cpu, double device) { return onCpu() ? cpu : device; }

    // ------------------------------------------------------------------ inputs

    /** Gaussian values scaled by {@code scale}, shifted by {@code shift}. */
    public float[] gauss(int n, double scale, double shift) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale + shift);
        return a;
    }

    public float[] gauss(int n) { return gauss(n, 1.0, 0.0); }

    /** Uniform in [lo, hi). */
    public float[] uniform(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return a;
    }

    public static int numel(int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** {tensor of the backend under test, oracle tensor} holding {@code data}; the first at the offset of a larger buffer. */
    public Tensor[] up(float[] data, int... shape) {
        Tensor t;
        if (offset == 0) {
            t = be.upload(data, shape);
        } else {
            float[] buf = new float[data.length + offset + 3];
            java.util.Arrays.fill(buf, Float.NaN);   // an op that reads outside its view gets NaN
            System.arraycopy(data, 0, buf, offset, data.length);
            t = be.view(be.upload(buf, buf.length), offset, shape);
        }
        return new Tensor[] {t, ref.upload(data, shape)};
    }

    /** N(0, 1) inputs. */
    public Tensor[] gaussT(int... shape) { return up(gauss(numel(shape)), shape); }

    /** N(mean, std²) inputs. */
    public Tensor[] normalT(double std, double mean, int... shape) { return up(gauss(numel(shape), std, mean), shape); }

    /** Uniform [lo, hi) inputs. */
    public Tensor[] uniformT(double lo, double hi, int... shape) { return up(uniform(numel(shape), lo, hi), shape); }

    // ------------------------------------------------------------------ checks

    /** max|got − want| / max|want| (max|got − want| when want is all zeros); NaN if any difference is. */
    public static double relErr(float[] got, float[] want) {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            if (Double.isNaN(d)) return Double.NaN;
            maxDiff = Math.max(maxDiff, d);
            maxRef = Math.max(maxRef, Math.abs((double) want[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /**
     * Asserts equal shapes, finite values, a reference that is not all zeros (max|want| > 1e-6),
     * and max|got − want| / max|want| ≤ tol; returns the relative error.
     */
    public double check(String what, Tensor got, Tensor want, double tol) {
        String tag = what + " [" + backendName + "]";
        assertNotNull(got, tag + ": result is null");
        assertNotNull(want, tag + ": reference is null");
        assertArrayEquals(want.shape(), got.shape(), tag + ": shape");
        float[] g = be.download(got), w = ref.download(want);
        double maxRef = 0;
        for (int i = 0; i < g.length; i++) {
            assertTrue(Float.isFinite(g[i]), tag + ": non-finite value " + g[i] + " at " + i);
            maxRef = Math.max(maxRef, Math.abs(w[i]));
        }
        assertTrue(maxRef > 1e-6, tag + ": reference is all zeros (test cannot fail)");
        double e = relErr(g, w);
        assertTrue(e <= tol, tag + ": relative error " + e + " > " + tol);
        return e;
    }

    public double check(String what, Tensor[] got, Tensor[] want, int i, double tol) { return check(what, got[i], want[i], tol); }

    /** As {@link #check(String, Tensor, Tensor, double)} against float64 values (a static Ref* result, unrounded). */
    public double check(String what, Tensor got, D want, double tol) {
        String tag = what + " [" + backendName + "]";
        assertNotNull(got, tag + ": result is null");
        assertArrayEquals(want.shape, got.shape(), tag + ": shape");
        float[] g = be.download(got);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < g.length; i++) {
            assertTrue(Float.isFinite(g[i]), tag + ": non-finite value " + g[i] + " at " + i);
            maxDiff = Math.max(maxDiff, Math.abs(g[i] - want.data[i]));
            maxRef = Math.max(maxRef, Math.abs(want.data[i]));
        }
        assertTrue(maxRef > 1e-6, tag + ": reference is all zeros (test cannot fail)");
        double e = maxDiff / maxRef;
        assertTrue(e <= tol, tag + ": relative error " + e + " > " + tol);
        return e;
    }

    /** The float64 value of an oracle-side tensor (exact: float32 widens exactly). */
    public static D d(Tensor t) { return RefBackend.toD(t); }

    @Override public void close() throws Exception {
        if (onClose != null) onClose.close();
    }

    // ------------------------------------------------------------------ backends

    /**
     * The backends of one test class, opened on first use and closed after its last test
     * ({@code @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();}).
     */
    public static final class Backends implements AfterAllCallback {
        private final Map<String, Backend> open = new LinkedHashMap<>();

        /** A case on backend {@code name} with inputs from {@code seed}; close it (try-with-resources). */
        public BackendParity open(String name, long seed) {
            Backend be = open.computeIfAbsent(name, Backends::create);
            AutoCloseable restore = null;
            if (name.startsWith("emulated-shuffled:"))
                restore = EmulatorSchedule.shuffled((CudaBackend) be, Long.parseUnsignedLong(name.substring(name.indexOf(':') + 1), 16));
            return new BackendParity(name, be, seed, OFFSET, restore);
        }

        private static Backend create(String name) {
            if (name.equals("cpu")) return new CpuBackend();
            if (name.equals("cuda")) return CudaBackend.open("cuda");
            if (name.equals("emulated") || name.startsWith("emulated-shuffled:")) return CudaBackend.open("emulated");
            throw new IllegalArgumentException("backend '" + name + "': expected cpu, emulated, emulated-shuffled:<hex seed> or cuda");
        }

        @Override public void afterAll(ExtensionContext context) {
            for (Backend b : open.values()) b.close();
            open.clear();
        }
    }
}
