package convunext.backend.cpu.ref;

import java.util.Random;

/**
 * Central-difference gradient checks in float64. For a forward f(inputs) and a random weighting r
 * of its output, the scalar L = Σ r⊙f(inputs) has gradient d L / d input = the op's backward
 * applied to r; each element of each checked input is perturbed by ±h and
 * (L(x+h) − L(x−h))/(2h) compared with the analytic value.
 * Reusable by other backends' tests (it only needs D).
 */
public final class GradCheck {
    private GradCheck() {}

    public static final double H = 1e-6;
    public static final double TOL = 1e-6;

    /** The forward under test, evaluated on (possibly perturbed) inputs. */
    @FunctionalInterface
    public interface Forward {
        D apply(D[] inputs);
    }

    /** Largest error seen by the last {@link #check} on this thread, for reports. */
    private static final ThreadLocal<Double> LAST_MAX = ThreadLocal.withInitial(() -> 0.0);

    public static double lastMaxError() { return LAST_MAX.get(); }

    /** A random weighting of the output, in [-1,1), away from 0 so no element is ignored. */
    public static D weights(Random rnd, D like) {
        D r = new D(like.shape);
        for (int i = 0; i < r.data.length; i++) {
            double u = rnd.nextDouble() * 0.9 + 0.1;
            r.data[i] = rnd.nextBoolean() ? u : -u;
        }
        return r;
    }

    public static void check(String op, String[] names, D[] inputs, Forward f, D r, D[] analytic) {
        check(op, names, inputs, f, r, analytic, TOL);
    }

    /**
     * Compares analytic[i] (skipped when null) with the numeric gradient of Σ r⊙f(inputs) w.r.t.
     * inputs[i]: |num − ana| ≤ tol·max(1, |num|, |ana|). Inputs are restored afterwards.
     * Throws AssertionError naming the op, the input and the flat index.
     */
    public static void check(String op, String[] names, D[] inputs, Forward f, D r, D[] analytic, double tol) {
        if (names.length != inputs.length || analytic.length != inputs.length)
            throw new IllegalArgumentException("GradCheck " + op + ": names, inputs and analytic must have equal length");
        double worst = 0;
        int checked = 0;
        for (int k = 0; k < inputs.length; k++) {
            if (analytic[k] == null) continue;
            D x = inputs[k];
            if (!analytic[k].sameShape(x))
                throw new AssertionError(op + ": gradient of " + names[k] + " has shape " + analytic[k].shapeString()
                        + ", input is " + x.shapeString());
            for (int j = 0; j < x.data.length; j++) {
                double orig = x.data[j];
                x.data[j] = orig + H;
                D yp = f.apply(inputs);
                x.data[j] = orig - H;
                D ym = f.apply(inputs);
                x.data[j] = orig;
                if (yp.numel() != r.numel())
                    throw new IllegalArgumentException("GradCheck " + op + ": output " + yp.shapeString() + " vs weights " + r.shapeString());
                // Σ r⊙(y+ − y−): differencing before summing keeps the rounding of large sums out.
                double diff = 0;
                for (int i = 0; i < r.data.length; i++) diff += r.data[i] * (yp.data[i] - ym.data[i]);
                double num = diff / (2 * H), ana = analytic[k].data[j];
                double err = Math.abs(num - ana) / Math.max(1, Math.max(Math.abs(num), Math.abs(ana)));
                worst = Math.max(worst, err);
                if (!(err <= tol))
                    throw new AssertionError(String.format("%s: d/d %s at flat index %d: numeric %.12g, analytic %.12g (err %.3g > %.1g)",
                            op, names[k], j, num, ana, err, tol));
                checked++;
            }
        }
        if (checked == 0) throw new IllegalArgumentException("GradCheck " + op + ": nothing to check");
        LAST_MAX.set(worst);
    }
}
