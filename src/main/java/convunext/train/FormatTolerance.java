package convunext.train;

import convunext.autograd.Tape;
import convunext.autograd.Var;
import convunext.backend.Backend;
import convunext.backend.Precision;
import convunext.backend.cpu.ref.RefBackend;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.nn.ParamStore;
import convunext.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * `verify` for results computed with TF32 or bf16 matrix-product operands ({@code --precision};
 * u, the format's unit roundoff, is 2^-11 for TF32 and 2^-8 for bf16). Every row compares the
 * same quantity as in fp32 ({@link GoldenCheck}) and gets the tolerance
 * <pre>  tol + E + S</pre>
 * from a <b>format floor</b> computed in the same run: the same computation on the float64 oracle
 * with the operands of exactly the products the CUDA backend runs on tensor cores rounded to the
 * format ({@link RoundedProducts}, {@link Precision#round} bit for bit), i.e. the format's own
 * rounding with exact accumulation. E is the floor's distance to the oracle's own result (nothing
 * rounded): what rounding the operands to u costs on this very problem, in the row's units (÷ the
 * fixture's norm). S is the larger distance between the floor and 2 twins of it whose weights and
 * input moved by a uniform random fraction in [−½, ½) of one format ulp (another draw of the same
 * rounding: how far two equally valid format results lie apart). With ref the fixture:
 * ‖ours − ref‖ ≤ ‖oracle − ref‖ + ‖floor − oracle‖ + ‖ours − floor‖, the first term is what
 * --tol covers (`verify --device ref` checks it), the second is E, and a correct device result is
 * one more draw of the format's rounding, no farther from the floor than its twins (S). E is
 * measured against the oracle, not the fixture, so a wrong fixture or a wrong result of ours is
 * not absorbed into the tolerance.
 * <ul>
 * <li>The floor does not come from the backend under test, so the bound is the format's, not the
 * device's: a device that rounds to fewer bits, truncates instead of rounding to nearest, rounds
 * an operand that should stay float, or has a wrong tile, lands farther from the floor than any
 * twin and fails.</li>
 * <li>The loss is a scalar (no norm to concentrate a random draw), so it also gets a first-order
 * bound through the logits row, |ΔL| ≤ ‖∂L/∂z‖·‖Δz‖ (Cauchy–Schwarz) with ‖Δz‖ at most the logits
 * tolerance × ‖z‖, whichever is larger.</li>
 * <li>AdamW rows: [anchored] from the floor's anchored trajectory and a twin trajectory (the weights
 * compare updates after − init, so the twin's start offset, which AdamW carries along unchanged,
 * does not count); [as trained] keeps the fp32 design: the [anchored] tolerance plus the spread
 * between the two trajectories on the device. The zero-gradient biases keep their AdamW bound.</li>
 * </ul>
 * reference/README.md argues the design and gives measured ratios.
 */
final class FormatTolerance {
    private FormatTolerance() {}

    /** The floor's twins: not transposed (float64 accumulation has no order to change), own seeds. */
    static final List<GoldenCheck.Twin> FLOOR_TWINS = List.of(new GoldenCheck.Twin(3, false), new GoldenCheck.Twin(4, false));

    /** One row's floor: the floor's error E and its twin spread S, in the row's units. */
    record Term(double e, double s) {
        double sum() { return e + s; }

        String source(double tol, Precision p) {
            return String.format("%.0e + %.2e (%.2fu): %s floor vs oracle %.2e + floor's twin spread %.2e", tol, sum(),
                    sum() / p.unitRoundoff(), p, e, s);
        }
    }

    /** "2^-8" for bf16, "2^-11" for TF32. */
    static String uText(Precision p) {
        return "2^-" + (p.mantissaBits + 1);
    }

    /** The step-1 groups of one evaluation (twins may be null). */
    private record Groups(GoldenRows.Group logits, GoldenRows.Group grads, GoldenRows.Group zero, GoldenRows.Group bn) {
        static Groups of(GoldenCheck.Step s, GoldenCheck.Step[] twins, ParamStore ps, SafeTensors.Contents c, Path file,
                         Set<String> zeroGrad) {
            GoldenRows.Group lg = new GoldenRows.Group(), g = new GoldenRows.Group(), gz = new GoldenRows.Group(),
                    bn = new GoldenRows.Group();
            lg.add("logits", s.logits(), twins == null ? null : GoldenCheck.each(twins, t -> t.logits()), c.require("logits", file));
            for (ParamStore.Entry e : ps.params())
                (zeroGrad.contains(e.name) ? gz : g).add(e.name, s.grads().get(e.name),
                        twins == null ? null : GoldenCheck.each(twins, t -> t.grads().get(e.name)), c.require("grad." + e.name, file));
            for (Map.Entry<String, float[]> e : s.stats().entrySet())
                bn.add(e.getKey(), e.getValue(), twins == null ? null : GoldenCheck.each(twins, t -> t.stats().get(e.getKey())),
                        c.require("step1." + e.getKey(), file));
            return new Groups(lg, g, gz, bn);
        }
    }

    /** ‖a − b‖ over parallel lists of tensors / {@code denom}. */
    private static double dist(List<float[]> a, List<float[]> b, double denom) {
        double n = 0;
        for (int k = 0; k < a.size(); k++) n += GoldenRows.sq(a.get(k), b.get(k));
        double d = Math.sqrt(n) / Math.max(denom, 1e-300);
        return Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
    }

    private static double dist(float[] a, float[] b, double denom) {
        return dist(List.of(a), List.of(b), denom);
    }

    /** A group's floor: its distance to the oracle's values {@code exact} and its twin spread, over {@code denom}. */
    private static Term term(GoldenRows.Group g, GoldenRows.Group exact, double denom) {
        return new Term(dist(g.ours, exact.ours, denom), g.spread(denom));
    }

    /**
     * The floor of every row, by row name: the format's results (f) on the float64 oracle with
     * rounded product operands, their distance to the oracle's own (o, nothing rounded), and the
     * spread to the format's twins, all in the units of the row (÷ the fixture's norm). Measured
     * against our oracle rather than the fixture, so that an error in a compared quantity, ours or
     * the fixture's, is not absorbed: the oracle against the fixture is `verify --device ref`.
     */
    private static Map<String, Term> floor(SafeTensors.Contents c, Path file, ConvUNeXt.Config cfg, Precision p,
                                           GoldenCheck.Hyper hp, int steps) {
        Map<String, Term> t = new LinkedHashMap<>();
        SafeTensors.Entry in = c.require("input", file), target = c.require("target", file);
        SafeTensors.Entry refLosses = c.require("adamw.losses", file), refEval = c.require("eval_logits", file);
        try (Backend ob = new RefBackend(); Backend fb = new RoundedProducts(new RefBackend(), p);
             ConvUNeXt om = new ConvUNeXt(cfg, ob, 0); ConvUNeXt fm = new ConvUNeXt(cfg, fb, 0)) {
            Tensor ox = ob.upload(in.toFloat(), in.shape()), oy = ob.upload(target.toFloat(), target.shape());
            Tensor fx = fb.upload(in.toFloat(), in.shape()), fy = fb.upload(target.toFloat(), target.shape());
            ParamStore ps = fm.params;
            Set<String> zeroGrad = GoldenCheck.zeroGradParams(ps, c, file);
            GoldenCheck.Step o0 = GoldenCheck.trainStep(om, c, file, ox, oy, null, Precision.FP32);
            GoldenCheck.Step f0 = GoldenCheck.trainStep(fm, c, file, fx, fy, null, p);
            GoldenCheck.Step[] tw = new GoldenCheck.Step[FLOOR_TWINS.size()];
            for (int k = 0; k < tw.length; k++) tw[k] = GoldenCheck.trainStep(fm, c, file, fx, fy, FLOOR_TWINS.get(k), p);
            Groups g = Groups.of(f0, tw, ps, c, file, zeroGrad), o = Groups.of(o0, null, om.params, c, file, zeroGrad);
            t.put("logits", term(g.logits, o.logits, g.logits.refNorm()));
            double ref = c.require("loss", file).data()[0], den = Math.abs(ref), s = 0;
            for (GoldenCheck.Step w : tw) s = Math.max(s, Math.abs(f0.loss() - w.loss()) / den);
            t.put("loss", new Term(Math.abs(f0.loss() - o0.loss()) / den, s));
            t.put("grads", term(g.grads, o.grads, g.grads.refNorm()));
            if (g.zero.size() > 0) t.put("zero", term(g.zero, o.zero, g.grads.refNorm()));
            if (g.bn.size() > 0) t.put("bn", term(g.bn, o.bn, g.bn.refNorm()));

            GoldenCheck.Trajectory oa = GoldenCheck.trajectory(om, c, file, ox, oy, hp, steps, zeroGrad, true, null, Precision.FP32);
            GoldenCheck.Trajectory a = GoldenCheck.trajectory(fm, c, file, fx, fy, hp, steps, zeroGrad, true, null, p);
            GoldenCheck.Trajectory at = GoldenCheck.trajectory(fm, c, file, fx, fy, hp, steps, zeroGrad, true, FLOOR_TWINS.get(0), p);
            double nl = norm(refLosses), ne = norm(refEval);
            t.put("losses", new Term(dist(a.losses(), oa.losses(), nl), GoldenRows.spread(a.losses(), at.losses(), refLosses)));
            GoldenRows.Group after = new GoldenRows.Group();
            List<float[]> fa = new ArrayList<>(), oaf = new ArrayList<>();
            for (ParamStore.Entry e : ps.entries().values()) {
                after.add(e.name, a.after().get(e.name), c.require("after." + e.name, file));
                fa.add(a.after().get(e.name));
                oaf.add(oa.after().get(e.name));
            }
            t.put("after", new Term(dist(fa, oaf, after.refNorm()), updateSpread(a, at, ps, after.refNorm())));
            t.put("eval", new Term(dist(a.evalLogits(), oa.evalLogits(), ne), GoldenRows.spread(a.evalLogits(), at.evalLogits(), refEval)));

            float[] oe = GoldenCheck.evalForward(om, c, file, ox, null, Precision.FP32);
            float[] e0 = GoldenCheck.evalForward(fm, c, file, fx, null, p);
            double se = 0;
            for (GoldenCheck.Twin w : FLOOR_TWINS) se = Math.max(se, dist(e0, GoldenCheck.evalForward(fm, c, file, fx, w, p), ne));
            t.put("evalAfter", new Term(dist(e0, oe, ne), se));
            for (Tensor x : new Tensor[] {ox, oy}) ob.release(x);
            for (Tensor x : new Tensor[] {fx, fy}) fb.release(x);
        }
        return t;
    }

    private static double norm(SafeTensors.Entry e) {
        double n = 0;
        for (double v : e.data()) n += v * v;
        return Math.sqrt(n);
    }

    /** `verify` of a result computed in {@code p} on {@code be} (see the class comment). */
    static GoldenCheck.Report run(Path file, Backend be, double tol, Precision p) {
        SafeTensors.Contents c = GoldenCheck.readChecked(file);
        ConvUNeXt.Config cfg = GoldenCheck.configOf(c, file);
        SafeTensors.Entry in = c.require("input", file), target = c.require("target", file);
        GoldenCheck.Hyper hp = GoldenCheck.Hyper.of(c.metadata(), file);
        SafeTensors.Entry refLosses = c.require("adamw.losses", file), refEval = c.require("eval_logits", file);
        int steps = refLosses.data().length;
        Map<String, Term> f = floor(c, file, cfg, p, hp, steps);
        List<GoldenCheck.Row> rows = new ArrayList<>();
        Tensor x = be.upload(in.toFloat(), in.shape()), y = be.upload(target.toFloat(), target.shape());
        try (ConvUNeXt model = new ConvUNeXt(cfg, be, 0)) {
            ParamStore ps = model.params;
            Set<String> zeroGrad = GoldenCheck.zeroGradParams(ps, c, file);
            // 1. one train-mode forward/backward from init.*
            GoldenCheck.Step ours = GoldenCheck.trainStep(model, c, file, x, y, null, p);
            Groups g = Groups.of(ours, null, ps, c, file, zeroGrad);
            GoldenCheck.Row logits = g.logits.compare("logits", tol + f.get("logits").sum(), f.get("logits").source(tol, p));
            rows.add(logits);
            double ref = c.require("loss", file).data()[0];
            double cs = lossBound(ours.dlogitsNorm(), logits.tolerance(), g.logits.refNorm(), ref);
            rows.add(lossRow(ours.loss(), ref, tol, f.get("loss"), cs, p));
            rows.add(g.grads.compare("grad.* (true gradient non-zero)", tol + f.get("grads").sum(), f.get("grads").source(tol, p)));
            if (g.zero.size() > 0)
                rows.add(g.zero.compareAgainst("grad.* (true gradient exactly 0) /‖grad‖", g.grads.refNorm(),
                        tol + f.get("zero").sum(), f.get("zero").source(tol, p) + ", /‖grad‖"));
            if (g.bn.size() > 0)
                rows.add(g.bn.compare("step1.* (BN running stats)", tol + f.get("bn").sum(), f.get("bn").source(tol, p)));

            // 2. K AdamW steps from init.*, anchored and as trained (GoldenCheck's class comment)
            GoldenCheck.Trajectory anchored = GoldenCheck.trajectory(model, c, file, x, y, hp, steps, zeroGrad, true, null, p);
            GoldenCheck.Trajectory trained = GoldenCheck.trajectory(model, c, file, x, y, hp, steps, Set.of(), false, null, p);
            String a = " [anchored]", o = " [as trained]", as = "spread [as trained] vs [anchored]";
            double tolLosses = tol + Math.max(f.get("losses").sum(), cs), tolAfter = tol + f.get("after").sum(),
                    tolEval = tol + f.get("eval").sum();
            rows.add(GoldenRows.compare("adamw.losses" + a, List.of(anchored.losses()), List.of(refLosses), List.of("adamw.losses"),
                    tolLosses, f.get("losses").sum() >= cs ? f.get("losses").source(tol, p) : csSource(tol, cs, p)));
            GoldenRows.Group after = new GoldenRows.Group();
            for (ParamStore.Entry e : ps.entries().values())
                after.add(e.name, anchored.after().get(e.name), c.require("after." + e.name, file));
            rows.add(after.compare("after.* (weights, buffers)" + a, tolAfter, f.get("after").source(tol, p) + " (updates)"));
            rows.add(GoldenRows.compare("eval_logits" + a, List.of(anchored.evalLogits()), List.of(refEval),
                    List.of("eval_logits"), tolEval, f.get("eval").source(tol, p)));

            double sl = GoldenRows.spread(trained.losses(), anchored.losses(), refLosses);
            rows.add(GoldenRows.compare("adamw.losses" + o, List.of(trained.losses()), List.of(refLosses),
                    List.of("adamw.losses"), tolLosses + sl, plus(tolLosses, sl, as, p)));
            GoldenRows.Group afterOurs = new GoldenRows.Group(), drift = new GoldenRows.Group();
            double sa = 0;
            for (ParamStore.Entry e : ps.entries().values()) {
                boolean ill = zeroGrad.contains(e.name);
                (ill ? drift : afterOurs).add(e.name, trained.after().get(e.name), c.require("after." + e.name, file));
                if (!ill) sa += GoldenRows.sq(trained.after().get(e.name), anchored.after().get(e.name));
            }
            sa = Math.sqrt(sa) / Math.max(afterOurs.refNorm(), 1e-300);
            rows.add(afterOurs.compare("after.* (" + (zeroGrad.isEmpty() ? "weights, buffers" : "the rest") + ")" + o,
                    tolAfter + sa, plus(tolAfter, sa, as, p)));
            if (drift.size() > 0)
                rows.add(drift.drift("after.* zero-grad biases" + o + " max|d|/bound",
                        GoldenRows.adamDriftBound(hp.lr(), hp.beta1(), hp.beta2(), steps), steps));
            double se = GoldenRows.spread(trained.evalLogits(), anchored.evalLogits(), refEval);
            rows.add(GoldenRows.compare("eval_logits" + o, List.of(trained.evalLogits()), List.of(refEval),
                    List.of("eval_logits"), tolEval + se, plus(tolEval, se, as, p)));

            // 3. the eval forward alone, from the fixture's own after.* weights
            GoldenCheck.load(model, c, "after.", file);
            try (Tape t = new Tape(be, false)) {
                Var out = model.forward(t, x, false);
                rows.add(GoldenRows.compare("eval_logits (from after.*)", List.of(be.download(out.value)), List.of(refEval),
                        List.of("eval_logits"), tol + f.get("evalAfter").sum(), f.get("evalAfter").source(tol, p)));
            }
        } finally {
            be.release(x);
            be.release(y);
        }
        return new GoldenCheck.Report(file, cfg, in.shape(), be.name(), p, rows, notes(p));
    }

    /** An [as trained] source: the [anchored] tolerance plus the spread between the two trajectories. */
    private static String plus(double base, double spread, String what, Precision p) {
        return String.format("%.2e [anchored] + %.2e (%.2fu) measured: %s", base, spread, spread / p.unitRoundoff(), what);
    }

    private static String csSource(double tol, double cs, Precision p) {
        return String.format("%.0e + %.2e (%.2fu): |dL/dz|*tol(logits)*|z|/|L| (first order, Cauchy-Schwarz)", tol, cs,
                cs / p.unitRoundoff());
    }

    /**
     * The loss's relative bound through the logits: ‖∂L/∂z‖ · tolLogits · ‖z_ref‖ / |L_ref|, where
     * tolLogits bounds ‖z − z_ref‖/‖z_ref‖ (the logits row's tolerance): first order in Δz.
     */
    static double lossBound(double dlogitsNorm, double tolLogits, double refLogitsNorm, double refLoss) {
        double b = dlogitsNorm * tolLogits * refLogitsNorm / Math.max(Math.abs(refLoss), 1e-300);
        return Double.isNaN(b) ? Double.POSITIVE_INFINITY : b;
    }

    /** The loss row: tol + max(the floor's E + S, {@link #lossBound}). */
    private static GoldenCheck.Row lossRow(double ours, double ref, double tol, Term floor, double cs, Precision p) {
        double rel = Math.abs(ours - ref) / Math.max(Math.abs(ref), 1e-300);
        if (Double.isNaN(rel)) rel = Double.POSITIVE_INFINITY;
        String src = floor.sum() >= cs ? floor.source(tol, p) : csSource(tol, cs, p);
        return new GoldenCheck.Row("loss", 1, rel, tol + Math.max(floor.sum(), cs), src, "loss", rel);
    }

    /**
     * ‖(after − init) − (after' − init')‖ / {@code refNorm} over every entry: how far the AdamW
     * updates of an anchored trajectory and its twin differ, in the units of the after.* row.
     */
    static double updateSpread(GoldenCheck.Trajectory a, GoldenCheck.Trajectory twin, ParamStore ps, double refNorm) {
        double n = 0;
        for (ParamStore.Entry e : ps.entries().values()) {
            float[] pa = a.after().get(e.name), ia = a.init().get(e.name), pt = twin.after().get(e.name),
                    it = twin.init().get(e.name);
            for (int i = 0; i < pa.length; i++) {
                double d = ((double) pa[i] - ia[i]) - ((double) pt[i] - it[i]);
                n += d * d;
            }
        }
        double s = Math.sqrt(n) / Math.max(refNorm, 1e-300);
        return Double.isNaN(s) ? Double.POSITIVE_INFINITY : s;
    }

    /** What `verify` prints under the table in a format. */
    static List<String> notes(Precision p) {
        return List.of(
                String.format("--precision %s: the products' operands are rounded to %d mantissa bits (u = %s = %.2e)."
                        + " Every tolerance is --tol + E + S from the %s floor, computed in this run: the same step on the"
                        + " float64 oracle with exactly the tensor-core products' operands rounded to %s (exact"
                        + " accumulation); E is its distance to the oracle's unrounded result, S to 2 twins whose weights"
                        + " and input moved by a random fraction of one %s ulp (another draw of the rounding). A correct result"
                        + " is one more such draw; a wrong one (fewer bits, truncation, a bias, a wrong kernel) lands farther.",
                        p, p.mantissaBits, uText(p), p.unitRoundoff(), p, p, p),
                "loss and adamw.losses: at least the first-order bound through the logits row (|dL/dz|*|dz|); [anchored]"
                        + " rows from the floor's anchored trajectory and a twin of it (weights compared as updates after - init);"
                        + " [as trained]: the [anchored] tolerance + the spread between the two trajectories on this backend.");
    }
}
