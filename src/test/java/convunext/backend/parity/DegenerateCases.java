package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import convunext.backend.Backend;
import convunext.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The harness of the degenerate-shape parity suites: each case calls one op on the backend under
 * test and on the float64 oracle ({@link Call} gets the backend and the index of its inputs in the
 * {@link BackendParity#up} pairs) and compares every returned tensor: same shape (null where the
 * oracle's is null), the oracle's NaNs at the same places, values exactly where the oracle's are
 * all zero, else 1e-5 normwise. Where the oracle refuses the call (IllegalArgumentException), the
 * backend must refuse it with the same message. Failures are collected, so one run lists every
 * op × shape that disagrees, and reported together at {@link #close}.
 */
final class DegenerateCases implements AutoCloseable {
    /** One op call; {@code i} indexes the inputs: 0 the backend under test, 1 the oracle. Returns a Tensor or Tensor[]. */
    interface Call {
        Object run(Backend be, int i);
    }

    final BackendParity p;
    private final List<String> failures = new ArrayList<>();

    DegenerateCases(BackendParity p) { this.p = p; }

    /** Runs {@code call} on the oracle and the backend under test and records any disagreement under {@code tag}. */
    void cmp(String tag, Call call) {
        Object want;
        try {
            want = call.run(p.ref, 1);
        } catch (IllegalArgumentException refused) {
            try {
                call.run(p.be, 0);
                failures.add(tag + ": the oracle refuses (" + refused.getMessage() + "), " + p.backendName + " does not");
            } catch (IllegalArgumentException e) {
                if (!refused.getMessage().equals(e.getMessage()))
                    failures.add(tag + ": refused as '" + e.getMessage() + "', the oracle: '" + refused.getMessage() + "'");
            } catch (Throwable e) {
                failures.add(tag + ": " + e + " where the oracle refuses (" + refused.getMessage() + ")");
            }
            return;
        }
        try {
            Object got = call.run(p.be, 0);
            Tensor[] w = want instanceof Tensor t ? new Tensor[]{t} : (Tensor[]) want;
            Tensor[] g = got instanceof Tensor t ? new Tensor[]{t} : (Tensor[]) got;
            assertEquals(w.length, g.length, tag + ": results");
            for (int k = 0; k < w.length; k++) same(tag + " #" + k, g[k], w[k]);
        } catch (Throwable e) {
            failures.add(tag + " [" + p.backendName + "]: " + e);
        }
    }

    /** Asserts that the oracle refuses {@code call} with a message naming {@code op} and {@code shape}, then compares as {@link #cmp}. */
    void refused(String tag, String op, String shape, Call call) {
        try {
            call.run(p.ref, 1);
            failures.add(tag + ": the oracle does not refuse it");
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().startsWith(op + ":") || !e.getMessage().contains(shape))
                failures.add(tag + ": the oracle's message '" + e.getMessage() + "' names not " + op + " and " + shape);
        }
        cmp(tag, call);
    }

    private void same(String what, Tensor got, Tensor want) {
        if (want == null) { assertNull(got, what + ": null as the oracle's"); return; }
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        float[] r = p.ref.download(want), g = p.be.download(got);
        double maxDiff = 0, maxRef = 0;
        for (int k = 0; k < r.length; k++) {
            if (Float.isNaN(r[k])) { assertTrue(Float.isNaN(g[k]), what + ": " + g[k] + " at " + k + " where the oracle has NaN"); continue; }
            assertTrue(Float.isFinite(g[k]), what + ": non-finite " + g[k] + " at " + k);
            maxDiff = Math.max(maxDiff, Math.abs((double) g[k] - r[k]));
            maxRef = Math.max(maxRef, Math.abs(r[k]));
        }
        if (maxRef == 0) assertEquals(0.0, maxDiff, what + ": the oracle's zeros");
        else assertTrue(maxDiff / maxRef <= 1e-5, what + ": relative error " + maxDiff / maxRef);
    }

    @Override public void close() {
        if (!failures.isEmpty()) fail(failures.size() + " disagreement(s) on " + p.backendName + ":\n  " + String.join("\n  ", failures));
    }
}
