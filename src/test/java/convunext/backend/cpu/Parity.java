package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.D;
import convunext.tensor.Tensor;
import java.util.Random;

/**
 * Helpers for the CpuBackend-vs-oracle tests. Inputs are random floats placed at a non-zero
 * offset inside a larger buffer (so every op must honour {@link Tensor#offset()}); they are
 * widened exactly to float64 for the oracle. The error measure is normwise:
 * max|cpu − ref| / max|ref| over the whole tensor.
 */
final class Parity {
    private Parity() {}

    static final CpuBackend BE = new CpuBackend();
    static final int OFFSET = 5;

    /** N(mean, 1) values at offset {@link #OFFSET} of a larger buffer. */
    static Tensor randn(Random r, double mean, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] buf = new float[n + OFFSET + 3];
        for (int i = 0; i < buf.length; i++) buf[i] = (float) (mean + r.nextGaussian());
        return BE.view(BE.upload(buf, buf.length), OFFSET, shape);
    }

    /** Uniform [lo, hi) values at an offset. */
    static Tensor uniform(Random r, double lo, double hi, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] buf = new float[n + OFFSET + 3];
        for (int i = 0; i < buf.length; i++) buf[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return BE.view(BE.upload(buf, buf.length), OFFSET, shape);
    }

    static D d(Tensor t) { return t == null ? null : D.fromFloats(t.array(), t.off(), t.shape()); }

    /** Normwise relative error of got against ref. */
    static double relErr(D ref, Tensor got) {
        assertArrayEquals(ref.shape, got.shape(), "shape");
        float[] g = got.array();
        double num = 0, den = 0;
        for (int i = 0; i < ref.data.length; i++) {
            double v = g[got.off() + i];
            assertTrue(Double.isFinite(v), "non-finite value at " + i);
            num = Math.max(num, Math.abs(v - ref.data[i]));
            den = Math.max(den, Math.abs(ref.data[i]));
        }
        return den == 0 ? num : num / den;
    }

    static void close(String what, D ref, Tensor got, double tol) {
        double e = relErr(ref, got);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }

    /** The reference must itself be non-trivial, so a test cannot pass on zeros. */
    static void nonTrivial(String what, D ref) {
        double m = 0;
        for (double v : ref.data) m = Math.max(m, Math.abs(v));
        assertTrue(m > 1e-6, what + ": reference is all zeros");
    }

    static void check(String what, D ref, Tensor got, double tol) {
        nonTrivial(what, ref);
        close(what, ref, got, tol);
    }
}
