package convunext.train;

import convunext.autograd.Tape;
import convunext.autograd.Var;
import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.nn.ParamStore;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reproduces every quantity of a fixture written by shared/reference/make_golden.py (train-mode
 * logits, loss, every gradient, BN running statistics, the AdamW losses and weights, eval logits)
 * on a backend, and reports ‖ours − ref‖ / ‖ref‖ for each.
 *
 * <p>Groups of tensors (gradients, weights after AdamW) are scored as a whole (‖Δ‖ over the
 * concatenation / ‖ref‖ over it); the worst single tensor is printed beside. A few parameters have
 * an exactly-zero true gradient (biases just before a BatchNorm, whose batch mean cancels them:
 * the fixture's float64 gradient is ~1e-17). Float32 rounding leaves ~1e-9 there, and AdamW, which
 * divides by √v + 1e-8, turns that into real steps of up to ~0.1·lr. Those weights are therefore
 * scored in their own row (with the running means that track them) against the largest drift AdamW
 * can produce ({@link #drift}), and because eval-mode BatchNorm no
 * longer cancels them, the eval logits after our own AdamW steps get {@link #EVAL_TRAJECTORY_FACTOR}
 * × the tolerance; the eval forward itself is held to the tolerance by a second row that starts
 * from the fixture's {@code after.*} weights.
 */
public final class GoldenCheck {
    /** One compared quantity. */
    public record Row(String quantity, int tensors, double relError, String worstKey, double worstRel, double tolerance) {
        public boolean ok() { return relError <= tolerance && !Double.isNaN(relError); }
    }

    public record Report(Path fixture, ConvUNeXt.Config config, int[] inputShape, String backend, List<Row> rows) {
        public boolean ok() { return rows.stream().allMatch(Row::ok); }
    }

    /** Bound for weights whose true gradient is zero, in units of AdamW's largest drift (see {@link #drift}). */
    public static final double ILL_TOL = 1.0;
    /** Eval logits after our own AdamW trajectory, when zero-gradient weights exist: this × tol. */
    public static final double EVAL_TRAJECTORY_FACTOR = 50;   // measured: 2e-4 … 2.3e-3 (float32 CPU, batch 1)
    /** A reference gradient this small relative to the whole gradient's norm is a true zero. */
    static final double ZERO_GRAD = 1e-12;

    private GoldenCheck() {}

    public static ConvUNeXt.Config configOf(SafeTensors.Contents c, Path file) {
        Map<String, String> m = c.metadata();
        for (String k : new String[] {"in_channels", "num_classes", "base_c"})
            if (!m.containsKey(k)) throw new IllegalArgumentException(file + ": metadata lacks '" + k + "' (not a make_golden.py fixture?)");
        return new ConvUNeXt.Config(Integer.parseInt(m.get("in_channels")), Integer.parseInt(m.get("num_classes")),
                Integer.parseInt(m.get("base_c")), Norm.parse(m.getOrDefault("norm", "batch")));
    }

    /** Loads {@code prefix + name} for every state_dict entry (weights and buffers). */
    public static void load(ConvUNeXt model, SafeTensors.Contents c, String prefix, Path file) {
        for (ParamStore.Entry e : model.params.entries().values()) {
            SafeTensors.Entry t = c.require(prefix + e.name, file);
            model.params.write(e, t.toFloat(), t.shape(), file.toString());
        }
    }

    public static Report run(Path file, Backend be, double tol) {
        SafeTensors.Contents c = SafeTensors.read(file);
        ConvUNeXt.Config cfg = configOf(c, file);
        SafeTensors.Entry in = c.require("input", file), target = c.require("target", file);
        List<Row> rows = new ArrayList<>();
        Tensor x = be.upload(in.toFloat(), in.shape());
        Tensor y = be.upload(target.toFloat(), target.shape());
        try (ConvUNeXt model = new ConvUNeXt(cfg, be, 0)) {
            // 1. one train-mode forward/backward from init.*
            load(model, c, "init.", file);
            model.params.zeroGrads();
            try (Tape t = new Tape(be, true)) {
                Var logits = model.forward(t, x, true);
                rows.add(compare("logits", List.of(be.download(logits.value)), List.of(c.require("logits", file)), List.of("logits"), tol));
                LossResult lr = be.ceDiceLoss(logits.value, y);
                rows.add(scalar("loss", lr.loss(), c.require("loss", file).data()[0], tol));
                t.backward(logits, lr.dlogits());
            }
            List<float[]> ours = new ArrayList<>();
            List<SafeTensors.Entry> refs = new ArrayList<>();
            List<String> keys = new ArrayList<>();
            for (ParamStore.Entry e : model.params.params()) {
                ours.add(model.params.readGrad(e));
                refs.add(c.require("grad." + e.name, file));
                keys.add(e.name);
            }
            rows.add(compare("grad.* (all parameters)", ours, refs, keys, tol));
            double gradNorm = 0;
            for (SafeTensors.Entry r : refs) for (double d : r.data()) gradNorm += d * d;
            gradNorm = Math.sqrt(gradNorm);
            java.util.Set<String> zeroGrad = new java.util.HashSet<>();
            for (int k = 0; k < refs.size(); k++) {
                double n = 0;
                for (double d : refs.get(k).data()) n += d * d;
                if (Math.sqrt(n) <= ZERO_GRAD * gradNorm) zeroGrad.add(keys.get(k));
            }
            ours.clear(); refs.clear(); keys.clear();
            for (ParamStore.Entry e : model.params.entries().values()) {
                if (e.kind != ParamStore.Kind.RUNNING_MEAN && e.kind != ParamStore.Kind.RUNNING_VAR) continue;
                ours.add(model.params.read(e));
                refs.add(c.require("step1." + e.name, file));
                keys.add(e.name);
            }
            if (!keys.isEmpty()) rows.add(compare("step1.* (BN running stats)", ours, refs, keys, tol));

            // 2. AdamW steps on the same batch, fresh from init.*
            load(model, c, "init.", file);
            SafeTensors.Entry refLosses = c.require("adamw.losses", file);
            int steps = refLosses.data().length;
            Map<String, String> meta = c.metadata();
            float lrate = Float.parseFloat(meta.getOrDefault("adamw.lr", "1.5e-3"));
            float wd = Float.parseFloat(meta.getOrDefault("adamw.weight_decay", "5e-5"));
            String[] betas = meta.getOrDefault("adamw.betas", "0.9,0.999").split(",");
            float eps = Float.parseFloat(meta.getOrDefault("adamw.eps", "1e-8"));
            double[] losses = new double[steps];
            try (AdamW opt = new AdamW(model.params, Float.parseFloat(betas[0]), Float.parseFloat(betas[1]), eps, wd)) {
                // the training step itself (on a device: captured and replayed once the shapes repeat)
                for (int s = 0; s < steps; s++) losses[s] = TrainStep.run(model, opt, x, y, lrate).loss();
            }
            float[] lf = new float[steps];
            for (int s = 0; s < steps; s++) lf[s] = (float) losses[s];
            rows.add(compare("adamw.losses", List.of(lf), List.of(refLosses), List.of("adamw.losses"), tol));
            ours.clear(); refs.clear(); keys.clear();
            List<float[]> illOurs = new ArrayList<>();
            List<SafeTensors.Entry> illRefs = new ArrayList<>();
            List<String> illKeys = new ArrayList<>();
            for (ParamStore.Entry e : model.params.entries().values()) {
                boolean ill = zeroGrad.contains(e.name) || zeroGrad.contains(biasFeeding(e.name));
                (ill ? illOurs : ours).add(model.params.read(e));
                (ill ? illRefs : refs).add(c.require("after." + e.name, file));
                (ill ? illKeys : keys).add(e.name);
            }
            rows.add(compare("after.* (weights and buffers)", ours, refs, keys, tol));
            if (!illKeys.isEmpty()) rows.add(drift("after.* (zero-grad biases, BN mean)", illOurs, illRefs, illKeys, steps * lrate));

            // 3. eval-mode forward with the running statistics: after our AdamW steps, and from after.*
            double evalTol = zeroGrad.isEmpty() ? tol : EVAL_TRAJECTORY_FACTOR * tol;
            SafeTensors.Entry refEval = c.require("eval_logits", file);
            try (Tape t = new Tape(be, false)) {
                Var logits = model.forward(t, x, false);
                rows.add(compare("eval_logits (our AdamW steps)", List.of(be.download(logits.value)), List.of(refEval),
                        List.of("eval_logits"), evalTol));
            }
            load(model, c, "after.", file);
            try (Tape t = new Tape(be, false)) {
                Var logits = model.forward(t, x, false);
                rows.add(compare("eval_logits (from after.*)", List.of(be.download(logits.value)), List.of(refEval),
                        List.of("eval_logits"), tol));
            }
        } finally {
            be.release(x);
            be.release(y);
        }
        return new Report(file, cfg, in.shape(), be.name(), rows);
    }

    /**
     * The bias whose output a BatchNorm's running_mean tracks, for the zero-gradient case: a
     * Block's norm1 follows its dwconv, norm2 its pwconv2, the stem's norm its conv.
     */
    static String biasFeeding(String name) {
        if (!name.endsWith(".running_mean")) return "";
        String bn = name.substring(0, name.length() - ".running_mean".length());
        if (bn.endsWith(".norm1")) return bn.substring(0, bn.length() - 5) + "dwconv.bias";
        if (bn.endsWith(".norm2")) return bn.substring(0, bn.length() - 5) + "pwconv2.bias";
        if (bn.equals("in_conv.1")) return "in_conv.0.bias";
        return "";
    }

    /**
     * ‖ours − ref‖ in units of the largest drift AdamW can make in {@code steps} steps of size lr
     * (|update| ≤ lr per element and step, so ‖drift‖ ≤ steps·lr·√n); ≤ 1 is consistent with
     * rounding noise amplified by Adam, &gt; 1 is a real error.
     */
    private static Row drift(String name, List<float[]> ours, List<SafeTensors.Entry> refs, List<String> keys, double maxStep) {
        double num = 0, worst = -1;
        long n = 0;
        String worstKey = "";
        for (int k = 0; k < ours.size(); k++) {
            float[] a = ours.get(k);
            double[] r = refs.get(k).data();
            double d = 0;
            for (int i = 0; i < a.length; i++) d += (a[i] - r[i]) * (a[i] - r[i]);
            num += d;
            n += a.length;
            double rel = Math.sqrt(d) / (maxStep * Math.sqrt(a.length));
            if (rel > worst) { worst = rel; worstKey = keys.get(k); }
        }
        return new Row(name + " /max drift", ours.size(), Math.sqrt(num) / (maxStep * Math.sqrt(n)), worstKey, worst, ILL_TOL);
    }

    private static Row scalar(String name, double ours, double ref, double tol) {
        double rel = Math.abs(ours - ref) / Math.max(Math.abs(ref), 1e-30);
        return new Row(name, 1, rel, name, rel, tol);
    }

    /** Group relative error ‖Δ‖/‖ref‖ over all tensors, plus the worst single tensor. */
    static Row compare(String name, List<float[]> ours, List<SafeTensors.Entry> refs, List<String> keys, double tol) {
        double num = 0, den = 0, worst = -1;
        String worstKey = "";
        for (int k = 0; k < ours.size(); k++) {
            float[] a = ours.get(k);
            double[] r = refs.get(k).data();
            if (a.length != r.length)
                throw new IllegalArgumentException(name + ": '" + keys.get(k) + "' has " + a.length + " values, the fixture " + r.length);
            double n = 0, d = 0;
            for (int i = 0; i < a.length; i++) {
                double diff = a[i] - r[i];
                n += diff * diff;
                d += r[i] * r[i];
            }
            num += n;
            den += d;
            double rel = Math.sqrt(n) / Math.max(Math.sqrt(d), 1e-30);
            if (Double.isNaN(rel)) rel = Double.POSITIVE_INFINITY;
            if (rel > worst) { worst = rel; worstKey = keys.get(k); }
        }
        double rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
        return new Row(name, ours.size(), rel, worstKey, worst, tol);
    }

    /** The fixed-width table `verify` prints. */
    public static String format(Report r) {
        StringBuilder b = new StringBuilder();
        ConvUNeXt.Config c = r.config();
        b.append(String.format("fixture %s%nconfig  in=%d classes=%d base_c=%d norm=%s input=%s backend=%s%n",
                r.fixture(), c.inChannels(), c.numClasses(), c.baseC(), c.norm().key(),
                java.util.Arrays.toString(r.inputShape()), r.backend()));
        b.append(String.format("%-44s %7s %12s %10s  %s%n", "quantity", "tensors", "rel.error", "tolerance", "worst tensor (its rel.error)"));
        for (Row row : r.rows()) {
            b.append(String.format("%-44s %7d %12.3e %10.1e  %s%s%n", row.quantity(), row.tensors(), row.relError(),
                    row.tolerance(), row.tensors() > 1 ? row.worstKey() + String.format(" (%.2e)", row.worstRel()) : "",
                    row.ok() ? "" : "   <-- FAIL"));
        }
        b.append(r.ok() ? "PASS" : "FAIL").append('\n');
        return b.toString();
    }
}
