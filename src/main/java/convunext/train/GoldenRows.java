package convunext.train;

import convunext.backend.Precision;
import convunext.io.SafeTensors;
import java.util.ArrayList;
import java.util.List;

/** The error measures and the table of {@link GoldenCheck}: one {@link GoldenCheck.Row} per quantity. */
final class GoldenRows {
    /** Tolerance source of a well-conditioned quantity: float32 against float64 at the given tolerance. */
    static final String WELL = "well-conditioned";

    private GoldenRows() {}

    /**
     * The per-tensor rows' multiple m of a tensor's own twin spread ({@link Group#perTensor}): about
     * twice the largest m a correct tensor needed, (rel_k − 1e-4) / s_k, over 36 fixtures on the
     * CPU (5,708 gradient tensors: largest 2.79, a LayerNorm fixture's bias) and 10 on the
     * emulated device (the LayerNorm ones: largest 7.68, base_c 2); BN statistics need none. At
     * m = 16 the worst correct tensor sits at 0.19 (CPU) and 0.50 (emulated) of its tolerance.
     * reference/README.md, "Each tensor on its own".
     */
    static final double PER_TENSOR_M = 16;

    /** Tensors scored together: ‖Δ‖ over the concatenation / ‖ref‖ over it, plus the worst single tensor. */
    static final class Group {
        final List<String> keys = new ArrayList<>();
        final List<float[]> ours = new ArrayList<>();
        final List<float[][]> twins = new ArrayList<>();
        final List<double[]> refs = new ArrayList<>();

        void add(String key, float[] mine, SafeTensors.Entry ref) {
            add(key, mine, null, ref);
        }

        /** {@code twin}: the same quantity from other float32 evaluations (for the measured spread), or null. */
        void add(String key, float[] mine, float[][] twin, SafeTensors.Entry ref) {
            if (mine.length != ref.data().length)
                throw new IllegalArgumentException("'" + key + "' has " + mine.length + " values, the fixture " + ref.data().length);
            keys.add(key);
            ours.add(mine);
            twins.add(twin);
            refs.add(ref.data());
        }

        /** max over the twins of ‖ours − twin‖ / {@code denom}: the float32 noise of this group, in the units of its error. */
        double spread(double denom) {
            double worst = 0;
            for (int t = 0; t < twins.get(0).length; t++) {
                double n = 0;
                for (int k = 0; k < keys.size(); k++) n += sq(ours.get(k), twins.get(k)[t]);
                double s = Math.sqrt(n) / Math.max(denom, 1e-300);
                worst = Math.max(worst, Double.isNaN(s) ? Double.POSITIVE_INFINITY : s);
            }
            return worst;
        }

        /** {@link #compare} with tolerance tol + the spread against the twin evaluation ({@code what}). */
        GoldenCheck.Row compareMeasured(String name, double tol, String what) {
            double s = spread(refNorm());
            return compare(name, tol + s, measured(tol, s, what));
        }

        /** {@link #compareAgainst} with tolerance tol + the spread against the twin, both over {@code denom}. */
        GoldenCheck.Row compareMeasuredAgainst(String name, double denom, double tol, String what) {
            double s = spread(denom);
            return compareAgainst(name, denom, tol + s, measured(tol, s, what) + ", /‖grad‖ (true value 0)");
        }

        int size() { return keys.size(); }

        /**
         * Each tensor on its own: max over the group of rel_k / (tol + m·s_k), ≤ 1 passes, with
         * rel_k = ‖ours_k − ref_k‖ / ‖ref_k‖ and s_k the larger of ‖ours_k − twin_k‖ / ‖ref_k‖ over
         * the twins, m = {@link #PER_TENSOR_M}. The group rows score ‖Δ‖ over all tensors together,
         * where a tensor holding 1e-3 of the norm (a bias) can be 25 % wrong unseen; here each is
         * held to its own float32 noise. m is large because ours and the twins share float32's
         * systematic rounding (of every stored value, where the step is ill-conditioned), which
         * the spread between them cannot show; it is measured (see PER_TENSOR_M).
         */
        GoldenCheck.Row perTensor(String name, double tol) {
            double worst = -1;
            String worstKey = "";
            for (int k = 0; k < keys.size(); k++) {
                float[] a = ours.get(k);
                double[] nd = errAndNorm(a, refs.get(k));
                double n = nd[0], den = Math.max(Math.sqrt(nd[1]), 1e-300), s = 0;
                for (float[] t : twins.get(k)) s = Math.max(s, Math.sqrt(sq(a, t)) / den);
                double q = Math.sqrt(n) / den / (tol + PER_TENSOR_M * s);
                if (Double.isNaN(q)) q = Double.POSITIVE_INFINITY;
                if (q > worst) { worst = q; worstKey = keys.get(k); }
            }
            return new GoldenCheck.Row(name, keys.size(), worst, 1.0,
                    String.format("per tensor ‖Δ‖/‖ref‖ / (%.0e + %.0f x its own twin spread)", tol, PER_TENSOR_M), worstKey, worst);
        }

        double refNorm() {
            double s = 0;
            for (double[] r : refs) for (double v : r) s += v * v;
            return Math.sqrt(s);
        }

        double oursNorm() {
            double s = 0;
            for (float[] a : ours) for (float v : a) s += (double) v * v;
            return Math.sqrt(s);
        }

        /** ‖ours − ref‖ / ‖ref‖ over the group; the worst tensor by its own relative error. */
        GoldenCheck.Row compare(String name, double tol, String source) {
            return score(name, refNorm(), true, tol, source);
        }

        /** ‖ours − ref‖ / {@code denom} (for a group whose own norm is 0); worst tensor likewise. */
        GoldenCheck.Row compareAgainst(String name, double denom, double tol, String source) {
            return score(name, denom, false, tol, source);
        }

        private GoldenCheck.Row score(String name, double denom, boolean ownNorm, double tol, String source) {
            double num = 0, worst = -1;
            String worstKey = "";
            for (int k = 0; k < keys.size(); k++) {
                double[] nd = errAndNorm(ours.get(k), refs.get(k));
                double n = nd[0], d = nd[1];
                num += n;
                double rel = Math.sqrt(n) / Math.max(ownNorm ? Math.sqrt(d) : denom, 1e-300);
                if (Double.isNaN(rel)) rel = Double.POSITIVE_INFINITY;
                if (rel > worst) { worst = rel; worstKey = keys.get(k); }
            }
            double rel = Math.sqrt(num) / Math.max(denom, 1e-300);
            if (Double.isNaN(rel)) rel = Double.POSITIVE_INFINITY;
            return new GoldenCheck.Row(name, keys.size(), rel, tol, source, worstKey, worst);
        }

        /**
         * max over the group's elements of |ours − ref| / (bound + K·2^-23·|ref|): {@code bound} is
         * the most AdamW can move an element in K steps whatever its gradients
         * ({@link #adamDriftBound}), the second term the float32 rounding of p in K updates (two
         * roundings each). ≤ 1 is what float32 leftovers on an exactly-zero gradient can do, &gt; 1
         * is a real error.
         */
        GoldenCheck.Row drift(String name, double bound, int steps) {
            double worst = -1, all = 0;
            String worstKey = "";
            for (int k = 0; k < keys.size(); k++) {
                float[] a = ours.get(k);
                double[] r = refs.get(k);
                double m = 0;
                for (int i = 0; i < a.length; i++)
                    m = Math.max(m, Math.abs(a[i] - r[i]) / (bound + steps * 0x1p-23 * Math.abs(r[i])));
                if (Double.isNaN(m)) m = Double.POSITIVE_INFINITY;
                if (m > worst) { worst = m; worstKey = keys.get(k); }
                all = Math.max(all, m);
            }
            return new GoldenCheck.Row(name, keys.size(), all, 1.0,
                    String.format("AdamW bound %.2e = lr*sum_t max|m^/sqrt(v^)| (+ rounding of p)", bound), worstKey, worst);
        }
    }

    /**
     * The largest |Δp| K AdamW steps can make to one element, whatever the gradients: at step t,
     * m̂ = Σ a_s g_s and v̂ = Σ b_s g_s² (bias-corrected EMA weights), so by Cauchy–Schwarz
     * |m̂|/√v̂ ≤ √(Σ a_s²/b_s) (about 1.001 at t = 2); eps only shrinks the step and the decoupled
     * decay p·(1 − lr·wd) shrinks a difference. The fixture's own zero-gradient steps are ~1e-9·lr.
     */
    static double adamDriftBound(double lr, double beta1, double beta2, int steps) {
        double sum = 0;
        for (int t = 1; t <= steps; t++) {
            double c1 = 1 - Math.pow(beta1, t), c2 = 1 - Math.pow(beta2, t), r = 0;
            for (int s = 1; s <= t; s++) {
                double a = (1 - beta1) * Math.pow(beta1, t - s) / c1, b = (1 - beta2) * Math.pow(beta2, t - s) / c2;
                r += a * a / b;
            }
            sum += Math.sqrt(r);
        }
        return lr * sum;
    }

    /** Group relative error of parallel lists (one row). */
    static GoldenCheck.Row compare(String name, List<float[]> ours, List<SafeTensors.Entry> refs, List<String> keys,
                                   double tol, String source) {
        Group g = new Group();
        for (int k = 0; k < ours.size(); k++) g.add(keys.get(k), ours.get(k), refs.get(k));
        return g.compare(name, tol, source);
    }

    /** A scalar with tolerance tol + |ours − twin| / |ref|. */
    static GoldenCheck.Row scalar(String name, double ours, double[] twins, double ref, double tol, String what) {
        double den = Math.max(Math.abs(ref), 1e-300), rel = Math.abs(ours - ref) / den, s = 0;
        for (double t : twins) s = Math.max(s, Math.abs(ours - t) / den);
        if (Double.isNaN(rel)) rel = Double.POSITIVE_INFINITY;
        if (Double.isNaN(s)) s = Double.POSITIVE_INFINITY;
        return new GoldenCheck.Row(name, 1, rel, tol + s, measured(tol, s, what), name, rel);
    }

    /** Source text of a tolerance made of {@code tol} plus a spread measured in this run. */
    static String measured(double tol, double spread, String what) {
        return String.format("%.0e + %.2e measured: %s", tol, spread, what);
    }

    /** {Σ (a − r)², Σ r²}: a tensor's squared error and its reference's squared norm. */
    static double[] errAndNorm(float[] a, double[] r) {
        double n = 0, d = 0;
        for (int i = 0; i < a.length; i++) {
            double diff = a[i] - r[i];
            n += diff * diff;
            d += r[i] * r[i];
        }
        return new double[] {n, d};
    }

    /** Σ (a − b)². */
    static double sq(float[] a, float[] b) {
        double n = 0;
        for (int i = 0; i < a.length; i++) n += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
        return n;
    }

    /** ‖a − b‖ / ‖ref‖: how far two of our results are apart, in the units of the row's error. */
    static double spread(float[] a, float[] b, SafeTensors.Entry ref) {
        double d = 0;
        for (double v : ref.data()) d += v * v;
        double s = Math.sqrt(sq(a, b)) / Math.max(Math.sqrt(d), 1e-300);
        return Double.isNaN(s) ? Double.POSITIVE_INFINITY : s;
    }

    static String format(GoldenCheck.Report r) {
        StringBuilder b = new StringBuilder();
        var c = r.config();
        b.append(String.format("fixture %s%nconfig  in=%d classes=%d base_c=%d norm=%s input=%s backend=%s%s%n",
                r.fixture(), c.inChannels(), c.numClasses(), c.baseC(), c.norm().key(),
                java.util.Arrays.toString(r.inputShape()), r.backend(), r.precision() == Precision.FP32 ? ""
                        : String.format(" precision=%s (tolerances from its format floor; u = %s = %.2e)", r.precision(),
                        FormatTolerance.uText(r.precision()), r.precision().unitRoundoff())));
        b.append(String.format("%-56s %7s %10s %10s  %-26s %s%n", "quantity", "tensors", "error", "tolerance",
                "worst tensor (its error)", "tolerance from"));
        for (GoldenCheck.Row row : r.rows()) {
            String worst = row.tensors() > 1 ? String.format("%s (%.1e)", shorten(row.worstKey()), row.worstRel()) : "";
            b.append(String.format("%-56s %7d %10.3e %10.3e  %-26s %s%s%n", row.quantity(), row.tensors(), row.error(),
                    row.tolerance(), worst, row.source(), row.ok() ? "" : "   <-- FAIL"));
        }
        for (String n : r.notes()) b.append("note: ").append(n).append('\n');
        b.append(r.ok() ? "PASS" : "FAIL").append('\n');
        return b.toString();
    }

    private static String shorten(String key) {
        return key.length() <= 17 ? key : "…" + key.substring(key.length() - 16);
    }
}
