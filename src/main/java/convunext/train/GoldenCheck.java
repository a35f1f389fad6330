package convunext.train;

import convunext.autograd.Tape;
import convunext.autograd.Var;
import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.backend.Precision;
import convunext.backend.cpu.ref.RefBackend;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.nn.ParamStore;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Reproduces every quantity of a fixture written by reference/make_golden.py (train-mode logits,
 * loss, every gradient, BN running statistics, the AdamW losses and weights, eval logits) on a
 * backend, and reports ‖ours − ref‖ / ‖ref‖ for each beside its tolerance and where that tolerance
 * comes from ({@link GoldenRows}; the design is argued in reference/README.md).
 *
 * <p>Every pass/fail row is either a well-conditioned quantity held to {@code tol} (1e-4), or has
 * a tolerance of tol + a spread measured in the same run, or a hard bound. Float32 makes three
 * things ill-conditioned:
 * <ol>
 * <li>The train step itself on some configs (LayerNorm at base_c 4: a one-ulp change of every
 * weight moves the float64 gradient by up to 1e-3). Its rows get tol + the larger spread between
 * ours and two {@link Twin} evaluations of the same step, the float32 noise of this computation.</li>
 * <li>Exactly-zero gradients: biases directly before a BatchNorm are cancelled by its batch mean.
 * The float64 fixture leaves ~1e-17 there, so torch's AdamW (÷(√v + 1e-8)) barely moves them; our
 * float32 leaves ~1e-9, which AdamW turns into steps of up to lr. Train mode cannot see those
 * biases, eval mode (running statistics) can.</li>
 * <li>AdamW's first step, lr·g/(|g| + 1e-8) ≈ lr·sign(g): an element whose gradient is at the
 * float32 noise level gets a random sign. (Later steps are robust: the moments remember earlier
 * gradients.)</li>
 * </ol>
 * So the AdamW steps run twice from {@code init.*}: "anchored" (step 1 with the fixture's gradient,
 * which the grad.* row checks on its own; the zero-gradient biases at exactly 0, their true value,
 * at every step), whose rows get tol + the largest spread to three twins of that trajectory
 * (init.* and x moved by one ulp: K steps can carry float32 noise far where a gradient stays at
 * noise level and AdamW's steps on it stay sign-like, reference/README.md); its eval logits, which
 * amplify that noise, at least tol + sqrt(K-1) times the spread to the same trajectory with our own
 * step-1 gradient (one twin alone is a single draw and can miss the flips); and "as trained" (our gradients, as
 * {@code train} runs), whose rows get the anchored tolerance + the spread between the two
 * trajectories, except its zero-gradient biases, held to the most AdamW can move any element in K
 * steps. A fixture whose layout disagrees with its config is refused first ({@link GoldenLayout}).
 *
 * <p>Gradients and BN statistics also get an "each tensor" row ({@link GoldenRows.Group#perTensor}):
 * a group row scores all its tensors as one vector, where a small one (a bias) can be far off unseen.
 *
 * <p>All of that is for float32 results. Results whose matrix products ran in TF32 or bf16
 * ({@code --precision}) are compared row for row the same way, but every tolerance comes from that
 * format's floor measured in the same run ({@link FormatTolerance}).
 */
public final class GoldenCheck {
    /** One compared quantity: error vs tolerance, the tolerance's origin, the worst single tensor. */
    public record Row(String quantity, int tensors, double error, double tolerance, String source,
                      String worstKey, double worstRel) {
        public boolean ok() { return error <= tolerance && !Double.isNaN(error); }
    }

    /** {@code precision}: the format the tolerances are derived from (FP32: the float32 tolerances). */
    public record Report(Path fixture, ConvUNeXt.Config config, int[] inputShape, String backend, Precision precision,
                         List<Row> rows, List<String> notes) {
        public boolean ok() { return rows.stream().allMatch(Row::ok); }
    }

    private static final String AS = "spread [as trained] vs [anchored]";
    private static final String TT = "spread vs 3 twin trajectories";
    private static final String TE = "max(spread vs 3 twin trajectories, sqrt(K-1) x our step 1's)";

    /** An [as trained] source: the [anchored] tolerance plus the spread between the two trajectories. */
    private static String plus(double anchored, double spread) {
        return String.format("%.2e [anchored] + %.2e measured: %s", anchored, spread, AS);
    }

    /** A reference gradient this small relative to the whole gradient's norm is a true zero. */
    static final double ZERO_GRAD = 1e-12;

    private GoldenCheck() {}

    /**
     * Reads a fixture and checks its layout against its own config ({@link GoldenLayout}: dtypes,
     * shapes, the metadata that restates them) before any work, on a model built only for the
     * state_dict's shapes.
     */
    public static SafeTensors.Contents readChecked(Path file) {
        SafeTensors.Contents c = SafeTensors.read(file);
        if (!c.tensors().containsKey("input") && c.tensors().containsKey("in_conv.0.weight"))   // say what it is, not which key it lacks
            throw new IllegalArgumentException(file + ": a model's weights (a checkpoint), not a verify fixture: verify compares"
                    + " against a fixture written by reference/make_golden.py (testdata/golden holds some)");
        ConvUNeXt.Config cfg = configOf(c, file);
        GoldenLayout.checkSizes(c, file, cfg);   // before a model of the metadata's size is built
        try (Backend shapes = new RefBackend(); ConvUNeXt m = new ConvUNeXt(cfg, shapes, 0)) {
            GoldenLayout.check(c, file, cfg, m.params);
        }
        Hyper.of(c.metadata(), file);   // the AdamW settings parse now, not after the train step
        return c;
    }

    public static ConvUNeXt.Config configOf(SafeTensors.Contents c, Path file) {
        Map<String, String> m = c.metadata();
        for (String k : new String[] {"in_channels", "num_classes", "base_c"})
            if (!m.containsKey(k)) throw new IllegalArgumentException(file + ": metadata lacks '" + k + "' (not a make_golden.py fixture?)");
        try {
            return new ConvUNeXt.Config(GoldenLayout.intMeta(m, file, "in_channels"), GoldenLayout.intMeta(m, file, "num_classes"),
                    GoldenLayout.intMeta(m, file, "base_c"), Norm.parse(m.getOrDefault("norm", "batch")));
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(file.toString()) ? e
                    : new IllegalArgumentException(file + ": metadata: " + e.getMessage());
        }
    }

    /** Loads {@code prefix + name} for every state_dict entry (weights and buffers). */
    public static void load(ConvUNeXt model, SafeTensors.Contents c, String prefix, Path file) {
        for (ParamStore.Entry e : model.params.entries().values()) {
            SafeTensors.Entry t = c.require(prefix + e.name, file);
            model.params.write(e, t.toFloat(), t.shape(), file.toString());
        }
    }

    /** AdamW's settings as the fixture's metadata states them. */
    record Hyper(float lr, float wd, float beta1, float beta2, float eps) {
        static Hyper of(Map<String, String> meta, Path file) {
            String betas = meta.getOrDefault("adamw.betas", "0.9,0.999");
            String[] bs = betas.split(",", -1);
            if (bs.length != 2) throw new IllegalArgumentException(file + ": metadata 'adamw.betas' is \"" + betas + "\", expected two numbers: b1,b2");
            Map<String, String> b = Map.of("adamw.betas[0]", bs[0], "adamw.betas[1]", bs[1]);
            Hyper h = new Hyper(GoldenLayout.floatMeta(meta, file, "adamw.lr", "1.5e-3"),
                    GoldenLayout.floatMeta(meta, file, "adamw.weight_decay", "5e-5"),
                    GoldenLayout.floatMeta(b, file, "adamw.betas[0]", null), GoldenLayout.floatMeta(b, file, "adamw.betas[1]", null),
                    GoldenLayout.floatMeta(meta, file, "adamw.eps", "1e-8"));
            // the ranges torch.optim.AdamW accepts: no fixture made by PyTorch holds other values
            requireRange(file, "adamw.lr", h.lr, h.lr >= 0 && Float.isFinite(h.lr), "≥ 0");
            requireRange(file, "adamw.weight_decay", h.wd, h.wd >= 0 && Float.isFinite(h.wd), "≥ 0");
            requireRange(file, "adamw.betas[0]", h.beta1, h.beta1 >= 0 && h.beta1 < 1, "in [0, 1)");
            requireRange(file, "adamw.betas[1]", h.beta2, h.beta2 >= 0 && h.beta2 < 1, "in [0, 1)");
            requireRange(file, "adamw.eps", h.eps, h.eps >= 0 && Float.isFinite(h.eps), "≥ 0");
            return h;
        }

        private static void requireRange(Path file, String key, float v, boolean ok, String range) {
            if (!ok) throw new IllegalArgumentException(file + ": metadata '" + key + "' is " + v + ", but AdamW needs it " + range);
        }
    }

    /** What one AdamW run from init.* ends with ({@code init}: the values it started from). */
    record Trajectory(float[] losses, Map<String, float[]> init, Map<String, float[]> after, float[] evalLogits) {}

    /** One train-mode forward/backward from init.*: logits, loss, ‖dloss/dlogits‖, gradients, BN running statistics. */
    record Step(float[] logits, double loss, double dlogitsNorm, Map<String, float[]> grads,
                        Map<String, float[]> stats) {}

    /** {@link #run(Path, Backend, double, Precision)} in the backend's own precision. */
    public static Report run(Path file, Backend be, double tol) {
        return run(file, be, tol, be.precision());
    }

    /**
     * Checks the fixture on {@code be}, with tolerances for results computed in {@code p}: FP32's
     * (the rows described above), or, for TF32 and bf16, tolerances measured at the format's ulp
     * ({@link FormatTolerance}). Passing FP32 for a backend that rounds its products (or bf16 for one
     * that does not) is how the tests show that the tolerance matters.
     */
    public static Report run(Path file, Backend be, double tol, Precision p) {
        if (p != Precision.FP32) return FormatTolerance.run(file, be, tol, p);
        SafeTensors.Contents c = readChecked(file);
        ConvUNeXt.Config cfg = configOf(c, file);
        SafeTensors.Entry in = c.require("input", file), target = c.require("target", file);
        List<Row> rows = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Tensor x = be.upload(in.toFloat(), in.shape());
        Tensor y = be.upload(target.toFloat(), target.shape());
        try (ConvUNeXt model = new ConvUNeXt(cfg, be, 0)) {
            ParamStore ps = model.params;
            // 1. one train-mode forward/backward from init.*, and twice more with other float32 rounding
            Step ours = trainStep(model, c, file, x, y, null, Precision.FP32);
            Step[] twins = new Step[TWINS.size()];
            for (int k = 0; k < twins.length; k++) twins[k] = trainStep(model, c, file, x, y, TWINS.get(k), Precision.FP32);
            GoldenRows.Group lg = new GoldenRows.Group();
            lg.add("logits", ours.logits, each(twins, t -> t.logits), c.require("logits", file));
            rows.add(lg.compareMeasured("logits", tol, TW));
            double[] twinLoss = new double[twins.length];
            for (int k = 0; k < twins.length; k++) twinLoss[k] = twins[k].loss;
            rows.add(GoldenRows.scalar("loss", ours.loss, twinLoss, c.require("loss", file).data()[0], tol, TW));
            Set<String> zeroGrad = zeroGradParams(ps, c, file);
            GoldenRows.Group g = new GoldenRows.Group(), gz = new GoldenRows.Group();
            for (ParamStore.Entry e : ps.params())
                (zeroGrad.contains(e.name) ? gz : g).add(e.name, ours.grads.get(e.name), each(twins, t -> t.grads.get(e.name)),
                        c.require("grad." + e.name, file));
            rows.add(g.compareMeasured("grad.* (true gradient non-zero)", tol, TW));
            rows.add(g.perTensor("grad.* (true gradient non-zero) each tensor", tol));
            if (!zeroGrad.isEmpty())
                rows.add(gz.compareMeasuredAgainst("grad.* (true gradient exactly 0) /‖grad‖", g.refNorm(), tol, TW));
            GoldenRows.Group bn = new GoldenRows.Group();
            for (Map.Entry<String, float[]> e : ours.stats.entrySet())
                bn.add(e.getKey(), e.getValue(), each(twins, t -> t.stats.get(e.getKey())), c.require("step1." + e.getKey(), file));
            if (bn.size() > 0) {
                rows.add(bn.compareMeasured("step1.* (BN running stats)", tol, TW));
                rows.add(bn.perTensor("step1.* (BN running stats) each tensor", tol));
            }

            // 2. K AdamW steps on the same batch, fresh from init.*, twice (see the class comment)
            Hyper hp = Hyper.of(c.metadata(), file);
            SafeTensors.Entry refLosses = c.require("adamw.losses", file), refEval = c.require("eval_logits", file);
            int steps = refLosses.data().length;
            Trajectory anchored = trajectory(model, c, file, x, y, hp, steps, zeroGrad, true, null, Precision.FP32);
            // the anchored steps again with OUR step-1 gradient: one step's real float32 error, carried
            // (without zero-gradient biases that is the [as trained] trajectory itself)
            Trajectory trained = trajectory(model, c, file, x, y, hp, steps, Set.of(), false, null, Precision.FP32);
            Trajectory own1 = zeroGrad.isEmpty() ? trained
                    : trajectory(model, c, file, x, y, hp, steps, zeroGrad, false, null, Precision.FP32);
            Trajectory[] twinTr = new Trajectory[TRAJECTORY_TWINS.size()];
            for (int k = 0; k < twinTr.length; k++)
                twinTr[k] = trajectory(model, c, file, x, y, hp, steps, zeroGrad, true, TRAJECTORY_TWINS.get(k), Precision.FP32);
            String a = " [anchored]", o = " [as trained]";
            GoldenRows.Group after = new GoldenRows.Group();
            for (ParamStore.Entry e : ps.entries().values())
                after.add(e.name, anchored.after.get(e.name), c.require("after." + e.name, file));
            // [anchored]: tol + the largest spread to the twin trajectories (float32 noise carried through
            // K steps); the eval logits, which amplify the weights' noise, also at least sqrt(K-1) x the
            // effect of one step's own float32 gradient error (steps 2..K each carry one like it)
            double twLosses = 0, twAfter = 0,
                    twEval = Math.sqrt(Math.max(steps - 1, 0)) * GoldenRows.spread(own1.evalLogits, anchored.evalLogits, refEval);
            for (Trajectory twin : twinTr) {
                twLosses = Math.max(twLosses, GoldenRows.spread(twin.losses, anchored.losses, refLosses));
                twAfter = Math.max(twAfter, FormatTolerance.updateSpread(anchored, twin, ps, after.refNorm()));
                twEval = Math.max(twEval, GoldenRows.spread(twin.evalLogits, anchored.evalLogits, refEval));
            }
            rows.add(GoldenRows.compare("adamw.losses" + a, List.of(anchored.losses), List.of(refLosses),
                    List.of("adamw.losses"), tol + twLosses, GoldenRows.measured(tol, twLosses, TT)));
            rows.add(after.compare("after.* (weights, buffers)" + a, tol + twAfter, GoldenRows.measured(tol, twAfter, TT + " (updates)")));
            rows.add(GoldenRows.compare("eval_logits" + a, List.of(anchored.evalLogits), List.of(refEval),
                    List.of("eval_logits"), tol + twEval, GoldenRows.measured(tol, twEval, TE)));

            // [as trained]: the [anchored] tolerance + the spread between the two trajectories (triangle inequality)
            double spreadLosses = GoldenRows.spread(trained.losses, anchored.losses, refLosses);
            rows.add(GoldenRows.compare("adamw.losses" + o, List.of(trained.losses), List.of(refLosses),
                    List.of("adamw.losses"), tol + twLosses + spreadLosses, plus(tol + twLosses, spreadLosses)));
            GoldenRows.Group afterOurs = new GoldenRows.Group(), drift = new GoldenRows.Group();
            double spreadAfter = 0;
            for (ParamStore.Entry e : ps.entries().values()) {
                boolean ill = zeroGrad.contains(e.name);
                (ill ? drift : afterOurs).add(e.name, trained.after.get(e.name), c.require("after." + e.name, file));
                if (!ill) spreadAfter += GoldenRows.sq(trained.after.get(e.name), anchored.after.get(e.name));
            }
            spreadAfter = Math.sqrt(spreadAfter) / Math.max(afterOurs.refNorm(), 1e-300);
            rows.add(afterOurs.compare("after.* (" + (zeroGrad.isEmpty() ? "weights, buffers" : "the rest") + ")" + o,
                    tol + twAfter + spreadAfter, plus(tol + twAfter, spreadAfter)));
            if (drift.size() > 0)
                rows.add(drift.drift("after.* zero-grad biases" + o + " max|d|/bound",
                        GoldenRows.adamDriftBound(hp.lr, hp.beta1, hp.beta2, steps), steps));
            double spreadEval = GoldenRows.spread(trained.evalLogits, anchored.evalLogits, refEval);
            rows.add(GoldenRows.compare("eval_logits" + o, List.of(trained.evalLogits), List.of(refEval),
                    List.of("eval_logits"), tol + twEval + spreadEval, plus(tol + twEval, spreadEval)));
            notes.add("the step-1 rows add the larger spread between ours and 2 twin evaluations (every weight and input"
                    + " moved by one ulp; the second also with H and W transposed, so every sum runs in another order):"
                    + " the float32 noise of this very computation, which grows where the problem is ill-conditioned.");
            notes.add("[anchored]: step 1 takes the fixture's gradient (ours is the grad.* row), steps 2..K ours;"
                    + " [as trained]: ours throughout, as `train` runs. AdamW's first step is lr*g/(|g|+1e-8) ~ lr*sign(g),"
                    + " so elements whose gradient is at float32 noise level flip: the spread between the two trajectories"
                    + " measures that in this run and is added to the [as trained] tolerances. The [anchored] rows add the"
                    + " largest spread to 3 twins of that trajectory (weights and input moved by one ulp; weights compared"
                    + " as updates after - init): K steps can carry float32 noise far, e.g. where a gradient sits at noise"
                    + " level in every step, AdamW's steps on it are sign-like throughout. Eval logits amplify that noise"
                    + " and whether a twin flips the same signs is chance, so their [anchored] row adds at least sqrt(K-1)"
                    + " x the spread to the same trajectory with our own step-1 gradient (one step's real float32 error,"
                    + " carried; steps 2..K each carry one like it).");
            if (!zeroGrad.isEmpty())
                notes.add(String.format("%d parameters have an exactly-zero true gradient (fixture |grad| %.1e, ours %.1e:"
                        + " float32 rounding): %s. AdamW turns our leftovers into steps of up to lr, which eval mode sees"
                        + " (most of the eval_logits spread); [anchored] sets their gradients to exactly 0 at every step (their"
                        + " true value, as the float64 fixture effectively does); [as trained] keeps ours, held to the most"
                        + " AdamW can move an element in K steps.", zeroGrad.size(), gz.refNorm(), gz.oursNorm(),
                        describe(zeroGrad, ps, cfg)));

            // 3. the eval forward alone, from the fixture's own after.* weights
            load(model, c, "after.", file);
            try (Tape t = new Tape(be, false)) {
                Var logits = model.forward(t, x, false);
                rows.add(GoldenRows.compare("eval_logits (from after.*)", List.of(be.download(logits.value)), List.of(refEval),
                        List.of("eval_logits"), tol, GoldenRows.WELL));
            }
        } finally {
            be.release(x);
            be.release(y);
        }
        return new Report(file, cfg, in.shape(), be.name(), Precision.FP32, rows, notes);
    }

    /**
     * Parameters whose fixture gradient is ≤ {@link #ZERO_GRAD} × the whole gradient's norm: a true
     * zero (float64 leaves ~1e-17 relative), not a small gradient.
     */
    static Set<String> zeroGradParams(ParamStore ps, SafeTensors.Contents c, Path file) {
        double total = 0;
        Map<String, Double> norms = new LinkedHashMap<>();
        for (ParamStore.Entry e : ps.params()) {
            double n = 0;
            for (double d : c.require("grad." + e.name, file).data()) n += d * d;
            norms.put(e.name, n);
            total += n;
        }
        Set<String> zero = new LinkedHashSet<>();
        for (Map.Entry<String, Double> n : norms.entrySet())
            if (Math.sqrt(n.getValue()) <= ZERO_GRAD * Math.sqrt(total)) zero.add(n.getKey());
        return zero;
    }

    /**
     * K AdamW steps from init.* on the fixture's batch. {@code zeroGrad}'s gradients are set to 0
     * before every step; with {@code fixtureStep1} the first step uses the fixture's gradient (its
     * float64 values rounded to float32) instead of ours. A non-null {@code twin} (not transposed)
     * starts from init.* and x moved as {@link #perturb} moves them.
     */
    static Trajectory trajectory(ConvUNeXt model, SafeTensors.Contents c, Path file, Tensor x0, Tensor y,
                                         Hyper hp, int steps, Set<String> zeroGrad, boolean fixtureStep1, Twin twin,
                                         Precision p) {
        ParamStore ps = model.params;
        Backend be = ps.backend();
        if (twin != null && twin.transposed) throw new IllegalArgumentException("a trajectory twin is not transposed");
        SplittableRandom rnd = twin == null ? null : new SplittableRandom(twin.seed);
        Map<String, float[]> init = new LinkedHashMap<>();
        for (ParamStore.Entry e : ps.entries().values()) {
            SafeTensors.Entry t = c.require("init." + e.name, file);
            float[] v = rnd != null && e.kind == ParamStore.Kind.PARAM ? perturb(t.toFloat(), rnd, p) : t.toFloat();
            ps.write(e, v, t.shape(), file.toString());
            init.put(e.name, v);
        }
        Tensor x = rnd == null ? x0 : be.upload(perturb(be.download(x0), rnd, p), x0.shape());
        float[] losses = new float[steps];
        try (AdamW opt = new AdamW(ps, hp.beta1, hp.beta2, hp.eps, hp.wd)) {
            for (int s = 0; s < steps; s++) {
                if (!fixtureStep1 && zeroGrad.isEmpty()) {
                    // the training step itself (on a device: captured and replayed once the shapes repeat)
                    losses[s] = (float) TrainStep.run(model, opt, x, y, hp.lr).loss();
                    continue;
                }
                ps.zeroGrads();
                try (Tape t = new Tape(be, true)) {
                    Var logits = model.forward(t, x, true);
                    LossResult lr = be.ceDiceLoss(logits.value, y);
                    losses[s] = (float) lr.loss();
                    t.backward(logits, lr.dlogits());
                }
                if (fixtureStep1 && s == 0) {
                    float[] g = new float[Math.toIntExact(ps.numParams())];
                    for (ParamStore.Entry e : ps.params()) {
                        float[] v = c.require("grad." + e.name, file).toFloat();
                        System.arraycopy(v, 0, g, Math.toIntExact(e.offset()), v.length);
                    }
                    Tensor t = be.upload(g, g.length);
                    be.copy(t, ps.flatGrads());
                    be.release(t);
                }
                for (String k : zeroGrad) be.fill(ps.get(k).var().grad(), 0f);
                opt.step(hp.lr);
            }
        }
        Map<String, float[]> after = new LinkedHashMap<>();
        for (ParamStore.Entry e : ps.entries().values()) after.put(e.name, ps.read(e));
        float[] eval;
        try (Tape t = new Tape(be, false)) {
            eval = be.download(model.forward(t, x, false).value);
        }
        if (x != x0) be.release(x);
        return new Trajectory(losses, init, after, eval);
    }

    /** The eval forward from the fixture's after.* weights, or from a {@link Twin} of them and of x (transposed back). */
    static float[] evalForward(ConvUNeXt model, SafeTensors.Contents c, Path file, Tensor x, Twin twin, Precision p) {
        Backend be = model.params.backend();
        SplittableRandom rnd = twin == null ? null : new SplittableRandom(twin.seed);
        boolean tr = twin != null && twin.transposed;
        loadTwin(model, c, file, "after.", rnd, tr, p);
        Tensor xs = twin == null ? x : twinInput(be, x, rnd, tr, p);
        try (Tape t = new Tape(be, false)) {
            Var out = model.forward(t, xs, false);
            float[] logits = be.download(out.value);
            return tr ? swapHW(logits, out.value.shape()) : logits;
        } finally {
            if (xs != x) be.release(xs);
        }
    }

    /** Loads {@code prefix}.*, each parameter {@link #perturb}ed by {@code rnd} (if not null), transposed with {@code tr}. */
    private static void loadTwin(ConvUNeXt model, SafeTensors.Contents c, Path file, String prefix, SplittableRandom rnd,
                                 boolean tr, Precision p) {
        ParamStore ps = model.params;
        for (ParamStore.Entry e : ps.entries().values()) {
            SafeTensors.Entry t = c.require(prefix + e.name, file);
            float[] v = t.toFloat();
            if (rnd != null && e.kind == ParamStore.Kind.PARAM) v = perturb(v, rnd, p);
            ps.write(e, tr ? swapKernel(v, t.shape()) : v, t.shape(), file.toString());
        }
    }

    /** x moved by {@link #perturb} (after the weights, from the same {@code rnd}), transposed with {@code tr}. */
    private static Tensor twinInput(Backend be, Tensor x, SplittableRandom rnd, boolean tr, Precision p) {
        float[] xv = perturb(be.download(x), rnd, p);
        return tr ? be.upload(swapHW(xv, x.shape()), swapLast(x.shape())) : be.upload(xv, x.shape());
    }

    /**
     * A second float32 evaluation of the same step with other rounding: every non-zero weight and
     * input element moved by one ulp (signs drawn from {@code seed}), and with {@code transposed}
     * the problem with H and W swapped (x, the target and every spatial kernel transposed; the
     * network is equivariant under that: square kernels, reflect and zero padding and the decoder's
     * diff//2 split treat H and W alike, the loss sums over pixels), so every sum runs in another
     * order. Its results, transposed back, differ from ours by float32 noise alone (and by the
     * true response to a one-ulp change, which is part of what float32 can resolve).
     */
    record Twin(long seed, boolean transposed) {}

    static final List<Twin> TWINS = List.of(new Twin(1, false), new Twin(2, true));
    /** The twins of the [anchored] trajectory (not transposed: a trajectory twin cannot be). */
    static final List<Twin> TRAJECTORY_TWINS = List.of(new Twin(1, false), new Twin(3, false), new Twin(5, false));
    private static final String TW = "spread vs twin evaluations";

    static float[][] each(Step[] steps, Function<Step, float[]> f) {
        float[][] r = new float[steps.length][];
        for (int k = 0; k < steps.length; k++) r[k] = f.apply(steps[k]);
        return r;
    }

    /**
     * One train-mode forward/backward from init.* on (x, y), or on a {@link Twin} of them (weights
     * and x moved as {@link #perturb} moves them for {@code p}); with p not FP32 also ‖dloss/dlogits‖.
     */
    static Step trainStep(ConvUNeXt model, SafeTensors.Contents c, Path file, Tensor x, Tensor y, Twin twin, Precision p) {
        ParamStore ps = model.params;
        Backend be = ps.backend();
        boolean tr = twin != null && twin.transposed;
        SplittableRandom rnd = twin == null ? null : new SplittableRandom(twin.seed);
        loadTwin(model, c, file, "init.", rnd, tr, p);
        Tensor xs = x, ys = y;
        if (twin != null) {
            xs = twinInput(be, x, rnd, tr, p);
            float[] yv = be.download(y);
            ys = tr ? be.upload(swapHW(yv, y.shape()), swapLast(y.shape())) : be.upload(yv, y.shape());
        }
        try {
            ps.zeroGrads();
            float[] logits;
            double loss, dnorm = 0;
            try (Tape t = new Tape(be, true)) {
                Var out = model.forward(t, xs, true);
                logits = be.download(out.value);
                if (tr) logits = swapHW(logits, out.value.shape());
                LossResult lr = be.ceDiceLoss(out.value, ys);
                loss = lr.loss();
                if (p != Precision.FP32) for (float d : be.download(lr.dlogits())) dnorm += (double) d * d;
                t.backward(out, lr.dlogits());
            }
            Map<String, float[]> grads = new LinkedHashMap<>(), stats = new LinkedHashMap<>();
            for (ParamStore.Entry e : ps.params()) {
                float[] gr = ps.readGrad(e);
                grads.put(e.name, tr ? swapKernel(gr, e.shape) : gr);
            }
            for (ParamStore.Entry e : ps.entries().values())
                if (e.kind == ParamStore.Kind.RUNNING_MEAN || e.kind == ParamStore.Kind.RUNNING_VAR) stats.put(e.name, ps.read(e));
            return new Step(logits, loss, Math.sqrt(dnorm), grads, stats);
        } finally {
            if (twin != null) {
                be.release(xs);
                be.release(ys);
            }
        }
    }

    /** Each non-zero element one ulp up or down (zeros stay: no denormals). */
    static float[] ulp(float[] a, SplittableRandom r) {
        float[] o = a.clone();
        for (int i = 0; i < o.length; i++) if (o[i] != 0) o[i] = r.nextBoolean() ? Math.nextUp(o[i]) : Math.nextDown(o[i]);
        return o;
    }

    /**
     * {@link #ulp} in FP32; in TF32 or bf16 each non-zero element moved by a uniformly random fraction
     * in [−½, ½) of one ulp of that format (2^(23 − mantissa bits) float32 ulps): a perturbation
     * distributed like the format's own rounding error, so that a twin's products round afresh,
     * as another draw of the same rounding.
     */
    static float[] perturb(float[] a, SplittableRandom r, Precision p) {
        if (p == Precision.FP32) return ulp(a, r);
        float[] o = a.clone();
        for (int i = 0; i < o.length; i++)
            if (o[i] != 0) o[i] += (float) ((r.nextDouble() - 0.5) * Math.scalb(Math.ulp(o[i]), 23 - p.mantissaBits));
        return o;
    }

    /** Transposes the last two dimensions of a row-major array of {@code shape}. */
    static float[] swapHW(float[] a, int[] shape) {
        int h = shape[shape.length - 2], w = shape[shape.length - 1], plane = h * w;
        float[] o = new float[a.length];
        for (int base = 0; base < a.length; base += plane)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) o[base + j * h + i] = a[base + i * w + j];
        return o;
    }

    static int[] swapLast(int[] shape) {
        int[] s = shape.clone();
        s[s.length - 1] = shape[s.length - 2];
        s[s.length - 2] = shape[s.length - 1];
        return s;
    }

    /** A conv weight [O, I, k, k] with each k×k kernel transposed; anything else unchanged. */
    private static float[] swapKernel(float[] a, int[] shape) {
        if (shape.length != 4 || shape[2] == 1 && shape[3] == 1) return a;
        if (shape[2] != shape[3]) throw new IllegalStateException("non-square kernel " + Arrays.toString(shape));
        return swapHW(a, shape);
    }

    /**
     * Whether the true gradient of {@code name} is zero by construction: a bias directly before a
     * BatchNorm (the stem conv's, each Block's dwconv and pwconv2), whose batch mean cancels it.
     */
    static boolean beforeBatchNorm(String name, ConvUNeXt.Config cfg) {
        return cfg.norm() == Norm.BATCH
                && (name.equals("in_conv.0.bias") || name.endsWith(".dwconv.bias") || name.endsWith(".pwconv2.bias"));
    }

    /** The zero-gradient set in words, and how it differs from the structural expectation (if it does). */
    static String describe(Set<String> zeroGrad, ParamStore ps, ConvUNeXt.Config cfg) {
        List<String> missing = new ArrayList<>(), extra = new ArrayList<>();
        for (ParamStore.Entry e : ps.params()) {
            boolean expected = beforeBatchNorm(e.name, cfg);
            if (expected && !zeroGrad.contains(e.name)) missing.add(e.name);
            if (!expected && zeroGrad.contains(e.name)) extra.add(e.name);
        }
        if (missing.isEmpty() && extra.isEmpty())
            return "exactly the biases directly before a BatchNorm (stem conv, every Block's dwconv and pwconv2),"
                    + " whose batch mean cancels them";
        return "biases before a BatchNorm (batch mean cancels them)"
                + (extra.isEmpty() ? "" : "; also zero in the fixture: " + String.join(", ", extra))
                + (missing.isEmpty() ? "" : "; not zero in the fixture: " + String.join(", ", missing));
    }

    /** The fixed-width table `verify` prints. */
    public static String format(Report r) {
        return GoldenRows.format(r);
    }
}
