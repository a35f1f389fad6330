package convunext.bench;

import convunext.backend.Backend;
import convunext.backend.EventTimer;
import convunext.backend.LossResult;
import convunext.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Supplier;
import org.apache.commons.math3.stat.descriptive.rank.Median;

/**
 * Timing of one op on a backend: warm-up calls (JIT, first touch, the device pool), then
 * {@code reps} timed calls. On a device the time is between two events recorded in the device's
 * queue ({@link Backend#eventTimer}: CUDA events on a GPU), so it is the kernels' time without
 * the host's launch and synchronisation overhead; on the CPU it is wall time between two
 * {@link Backend#sync()}. Results are released after each call, outside the timing.
 */
public final class Timing {
    private Timing() {}

    /** Sorted times in milliseconds of {@code reps} calls after {@code warmup} untimed ones. */
    public static double[] run(Backend be, int warmup, int reps, Supplier<?> op) {
        if (reps < 1) throw new IllegalArgumentException("reps must be ≥ 1, got " + reps);
        for (int i = 0; i < warmup; i++) release(be, op.get());
        double[] ms = new double[reps];
        try (EventTimer ev = be.eventTimer()) {
            for (int i = 0; i < reps; i++) {
                be.sync();
                Object r;
                if (ev != null) {
                    ev.start();
                    r = op.get();
                    ms[i] = ev.stopMs();
                } else {
                    long t0 = System.nanoTime();
                    r = op.get();
                    be.sync();
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                release(be, r);
            }
        }
        Arrays.sort(ms);
        return ms;
    }

    /** How {@link #run} measures on this backend, for reports. */
    public static String method(Backend be) {
        try (EventTimer ev = be.eventTimer()) {
            return ev == null ? "wall clock between syncs" : ev.kind();
        }
    }

    /** Median (the mean of the middle two for an even count). */
    public static double median(double[] values) {
        return new Median().evaluate(values);
    }

    /** Returns whatever an op produced (tensor, tensor array, loss result) to the backend. */
    public static void release(Backend be, Object r) {
        if (r instanceof Tensor t) be.release(t);
        else if (r instanceof Tensor[] ts) { for (Tensor t : ts) if (t != null) be.release(t); }
        else if (r instanceof LossResult l) be.release(l.dlogits());
    }
}
