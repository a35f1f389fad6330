package convunext.bench;

import convunext.backend.Backend;
import convunext.io.Json;
import convunext.nn.ConvUNeXt;
import convunext.nn.InferenceModel;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.TrainStep;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Our training step and inference side by side with other engines on the same shapes, alternated
 * in one invocation: each round times ours (in this JVM), then each anchor in a child process, and
 * prints the machine's load before each; the reported figure per engine is the median over rounds
 * of its per-round medians, and each ratio is the median over rounds of ours / anchor within the
 * round (a slow moment then hurts both sides of the ratio it lands in, not the whole comparison).
 * Each round also measures the GEMM ceiling around our run (before and after, the faster kept), so
 * the step's FLOP-floor ratio is also given per round and as their median, by the same rule.
 *
 * <p>Anchors (see bench/anchor/README.md):
 * <ul>
 * <li>{@code libtorch}: official libtorch 2.7.1 (MKL, oneDNN) through DJL 0.36, from Maven Central:
 *   bench/anchor's LibtorchBench in a child JVM on TorchScript traces of the PyTorch reference
 *   (bench/anchor/trace_model.py). The strongest CPU anchor a JVM user can pick.</li>
 * <li>{@code torch-openblas}: the interpreter's PyTorch (Debian's python3-torch 1.13 here) with
 *   OpenBLAS loaded through LD_LIBRARY_PATH, eager, bench/torch_bench.py.</li>
 * <li>{@code torch-netlib} (only with {@code weak}): the same PyTorch on the netlib reference BLAS it
 *   links by default: a weak anchor (Debian builds it with BLAS_INFO=generic), run once, last.</li>
 * </ul>
 * An anchor that cannot run is reported with its reason; ours still runs.
 */
public final class Anchors {
    private Anchors() {}

    /** Where things are and how many rounds. {@code openblasDir} holds OpenBLAS's libblas.so.3. */
    public record Options(int rounds, boolean weak, String python, Path torchScript, Path anchorDir, Path workDir,
                          String openblasDir, int threads) {}

    /** One engine: how to run it, and its results per round (null entries: failed that round). */
    private static final class Engine {
        final String id, label, role;
        final List<Map<String, Object>> runs = new ArrayList<>();
        final List<Double> loads = new ArrayList<>();
        String error;

        Engine(String id, String label, String role) { this.id = id; this.label = label; this.role = role; }
    }

    public static Map<String, Object> run(Backend be, BenchConfig cfg, Options o, PrintStream log) {
        List<Engine> engines = new ArrayList<>();
        Engine ours = new Engine("ours", "ours (" + be.describe() + ")", "ours");
        Engine lt = new Engine("libtorch", "libtorch through DJL (training: TorchScript trace + GradientCollector + AdamW; inference: frozen trace)", "strong anchor");
        Engine ob = new Engine("torch-openblas", "PyTorch eager + OpenBLAS (LD_LIBRARY_PATH)", "second anchor");
        Engine nl = new Engine("torch-netlib", "PyTorch eager + netlib reference BLAS", "weak anchor");
        engines.add(ours);
        engines.add(lt);
        engines.add(ob);
        if (o.weak()) engines.add(nl);

        List<String> ltCmd = null;
        try {
            ltCmd = libtorchCommand(cfg, o, log);
        } catch (IOException e) {
            lt.error = e.getMessage();
            log.println("anchors   libtorch not run: " + lt.error);
        }
        Path blas = Path.of(o.openblasDir(), "libblas.so.3");
        if (!Files.isReadable(blas)) {
            ob.error = blas + " not found (Debian: apt-get install libopenblas0-pthread; or pass --openblas-dir)";
            log.println("anchors   torch-openblas not run: " + ob.error);
        }

        long params;
        double[] flops = stepFlops(be, cfg);
        try (Session s = new Session(be, cfg)) {
            params = s.params;
            for (int r = 1; r <= o.rounds(); r++) {
                log.printf("anchors   round %d/%d%n", r, o.rounds());
                double load = load();
                // the GEMM ceiling around our run in this round (the faster of before and after, as
                // Ceilings.best): the floor ratio of the round then shares the round's moment of load
                Ceilings before = ceilings(be, cfg);
                Map<String, Object> m = s.time(Math.max(1, cfg.warmup()), cfg.steps());
                Ceilings c = Ceilings.best(before, ceilings(be, cfg));
                m.put("gemm_ceiling_gflop_s", c.flopsPerS() / 1e9);
                m.put("copy_ceiling_gb_s", c.bytesPerS() / 1e9);
                m.put("floor_ratio_train", num(m.get("train_step_ms")) / (flops[0] / c.flopsPerS() * 1e3));
                m.put("floor_ratio_infer", num(m.get("infer_ms")) / (flops[1] / c.flopsPerS() * 1e3));
                record(ours, m, load, log);
                if (ltCmd != null) child(lt, ltCmd, openmp(Map.of()), log);
                if (ob.error == null)
                    child(ob, torchCommand(cfg, o), openmp(Map.of("LD_LIBRARY_PATH", o.openblasDir())), log);
            }
        }
        if (o.weak()) child(nl, torchCommand(cfg, o), openmp(Map.of()), log);   // once: ≈ 15 s per step on 2 cores

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rounds", o.rounds());
        out.put("omp_wait_policy", System.getenv().getOrDefault("OMP_WAIT_POLICY", "PASSIVE"));
        out.put("params", params);
        out.put("train_step_mac_flops", flops[0]);
        out.put("infer_mac_flops", flops[1]);
        List<Object> es = new ArrayList<>();
        for (Engine e : engines) es.add(summary(e, ours));
        out.put("engines", es);
        return out;
    }

    /**
     * Multiply-add FLOPs (2 per MAC) of one training step and of one inference, counted by
     * {@link TimedBackend} over the convolutions and linears: the arithmetic no implementation
     * avoids, which at the GEMM ceiling of the same run gives the step's FLOP floor.
     */
    static double[] stepFlops(Backend be, BenchConfig cfg) {
        TimedBackend tb = new TimedBackend(be);
        try (Session s = new Session(tb, cfg)) {
            TrainStep.run(s.model, s.opt, s.images, s.targets, 1e-4);
            double train = tb.macFlops();
            tb.reset();
            try (InferenceModel im = InferenceModel.of(s.model)) {
                ModelBench.logits(tb, im, s.images);
            }
            return new double[] {train, tb.macFlops()};
        }
    }

    /** Our model, optimiser and batch, kept across rounds. */
    private static final class Session implements AutoCloseable {
        final Backend be;
        final ConvUNeXt model;
        final AdamW opt;
        final Tensor images, targets;
        final long params;

        Session(Backend be, BenchConfig cfg) {
            this.be = be;
            SplittableRandom rng = new SplittableRandom(7);
            int n = cfg.batch(), sz = cfg.size();
            float[] x = new float[n * 3 * sz * sz], y = new float[n * sz * sz];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            for (int i = 0; i < y.length; i++) y[i] = rng.nextInt(cfg.classes());
            images = be.upload(x, n, 3, sz, sz);
            targets = be.upload(y, n, sz, sz);
            model = new ConvUNeXt(new ConvUNeXt.Config(3, cfg.classes(), cfg.baseC(), Norm.BATCH), be, 1);
            opt = AdamW.withDefaults(model.params);
            params = model.params.numParams();
        }

        Map<String, Object> time(int warmup, int steps) {
            double[] last = new double[1];
            long cpu0 = processCpuNs();
            long[] stepAlloc = {-1}, inferAlloc = {-1};
            double[] train = Timing.run(be, warmup, steps,
                    ModelBench.metered(() -> { last[0] = TrainStep.run(model, opt, images, targets, 1e-4).loss(); return null; }, stepAlloc));
            long cpu1 = processCpuNs();
            double[] infer;
            try (InferenceModel im = InferenceModel.of(model)) {
                infer = Timing.run(be, warmup, steps, ModelBench.metered(() -> ModelBench.logits(be, im, images), inferAlloc));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("train_step_ms", Timing.median(train));
            m.put("train_steps_ms", list(train));
            m.put("infer_ms", Timing.median(infer));
            m.put("infer_runs_ms", list(infer));
            m.put("last_loss", last[0]);
            m.put("cpu_s_train_incl_warmup", (cpu1 - cpu0) / 1e9);
            m.put("heap_alloc_bytes_last_step", stepAlloc[0]);   // the names and units of bench's JSON
            m.put("heap_alloc_bytes_last_inference", inferAlloc[0]);
            return m;
        }

        @Override public void close() {
            model.close();
            opt.close();
            be.release(images);
            be.release(targets);
        }
    }

    /** The traces (written once per shape by trace_model.py) and the child JVM's command line. */
    private static List<String> libtorchCommand(BenchConfig cfg, Options o, PrintStream log) throws IOException {
        Path jar = o.anchorDir().resolve("target/convunext-anchor.jar"), cpFile = o.anchorDir().resolve("target/classpath.txt");
        if (!Files.isRegularFile(jar) || !Files.isRegularFile(cpFile))
            throw new IOException(jar + " or " + cpFile + " missing: build it with mvn -B -q -f " + o.anchorDir().resolve("pom.xml") + " package");
        Path dir = o.workDir().resolve(String.format("b%d-s%d-c%d-k%d", cfg.batch(), cfg.size(), cfg.baseC(), cfg.classes()));
        Path train = dir.resolve("train.pt"), infer = dir.resolve("infer.pt");
        if (!Files.isRegularFile(train) || !Files.isRegularFile(infer)) {
            Files.createDirectories(dir);
            log.println("anchors   tracing the PyTorch reference into " + dir + " (once per shape) ...");
            List<String> cmd = List.of(o.python(), o.anchorDir().resolve("trace_model.py").toString(), "--out", dir.toString(),
                    "--batch", "" + cfg.batch(), "--size", "" + cfg.size(), "--base-c", "" + cfg.baseC(), "--classes", "" + cfg.classes());
            Map<String, Object> r = exec(cmd, Map.of());
            if (r == null || !Files.isRegularFile(infer)) throw new IOException(String.join(" ", cmd) + " failed");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        String cp = jar + File.pathSeparator + Files.readString(cpFile).trim();
        return List.of(java, "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=" + o.threads(),
                "-Dai.djl.pytorch.num_interop_threads=1", "-Xmx2g", "-cp", cp, "convunext.anchor.LibtorchBench",
                "--train", train.toString(), "--infer", infer.toString(), "--batch", "" + cfg.batch(),
                "--size", "" + cfg.size(), "--classes", "" + cfg.classes(),
                "--warmup", "" + Math.max(2, cfg.warmup()), "--steps", "" + cfg.steps());
    }

    /**
     * The anchors' OpenMP threads sleep while they wait (OMP_WAIT_POLICY=PASSIVE) unless the caller
     * chose a policy: spinning waits collapse when other processes share the cores (libtorch's step
     * at batch 2, 256², load average 12–14 on 2 cores: 73 s spinning, 7.6 s passive), and a bench
     * on a shared machine should compare the anchors at their best.
     */
    static Map<String, String> openmp(Map<String, String> env) {
        Map<String, String> m = new LinkedHashMap<>(env);
        if (System.getenv("OMP_WAIT_POLICY") == null) m.put("OMP_WAIT_POLICY", "PASSIVE");
        return m;
    }

    private static List<String> torchCommand(BenchConfig cfg, Options o) {
        return List.of(o.python(), o.torchScript().toString(), "--device", "cpu", "--batch", "" + cfg.batch(),
                "--size", "" + cfg.size(), "--base-c", "" + cfg.baseC(), "--classes", "" + cfg.classes(),
                "--warmup", "" + Math.max(1, cfg.warmup()), "--steps", "" + cfg.steps(), "--threads", "" + o.threads());
    }

    private static void child(Engine e, List<String> cmd, Map<String, String> env, PrintStream log) {
        double load = load();
        Map<String, Object> m;
        try {
            m = exec(cmd, env);
            if (m == null) throw new IOException(cmd.get(0) + " … " + e.id + " printed no JSON");
        } catch (IOException ex) {
            e.error = ex.getMessage();
            e.runs.add(null);
            e.loads.add(load);
            log.printf("anchors   %-15s failed: %s%n", e.id, ex.getMessage());
            return;
        }
        record(e, m, load, log);
    }

    private static void record(Engine e, Map<String, Object> m, double load, PrintStream log) {
        e.runs.add(m);
        e.loads.add(load);
        log.printf("anchors   %-15s train %9.1f ms  inference %8.1f ms  (load average %.2f before)%s%n", e.id,
                num(m.get("train_step_ms")), num(m.get("infer_ms")), load, note(m));
    }

    /** The end of a round's line: an anchor's torch version and BLAS, or our heap allocation. */
    private static String note(Map<String, Object> m) {
        if (m.containsKey("torch_version"))
            return "  torch " + m.get("torch_version") + (m.containsKey("blas") ? ", BLAS " + m.get("blas") : "");
        if (m.containsKey("heap_alloc_bytes_last_inference"))
            return String.format("  heap allocated %.0f / %.0f MiB (last step / inference)",
                    num(m.get("heap_alloc_bytes_last_step")) / 1048576.0, num(m.get("heap_alloc_bytes_last_inference")) / 1048576.0);
        return "";
    }

    /** Runs a child, its stderr passed through, and parses the last stdout line that starts with '{'. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> exec(List<String> cmd, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException ex) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        String json = null;
        for (String line : out.split("\n")) if (line.startsWith("{")) json = line;
        if (rc != 0) throw new IOException(String.join(" ", cmd.subList(0, Math.min(3, cmd.size()))) + " … exited with " + rc);
        return json == null ? null : (Map<String, Object>) Json.parse(json);
    }

    private static Map<String, Object> summary(Engine e, Engine ours) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("id", e.id);
        s.put("label", e.label);
        s.put("role", e.role);
        Map<String, Object> first = null;
        for (Map<String, Object> m : e.runs) if (m != null) { first = m; break; }
        if (first != null)
            for (String k : List.of("torch_version", "djl_version", "native", "blas", "mkl", "mkldnn", "threads", "last_loss", "peak_rss_bytes"))
                if (first.containsKey(k)) s.put(k, first.get(k));
        if (e.error != null) s.put("error", e.error);
        s.put("load_avg_before", new ArrayList<Object>(e.loads));
        List<Object> tr = new ArrayList<>(), in = new ArrayList<>();
        for (Map<String, Object> m : e.runs) {
            tr.add(m == null ? null : m.get("train_step_ms"));
            in.add(m == null ? null : m.get("infer_ms"));
        }
        s.put("train_step_ms_per_round", tr);
        s.put("infer_ms_per_round", in);
        s.put("train_step_ms", medianOf(e.runs, "train_step_ms"));
        s.put("infer_ms", medianOf(e.runs, "infer_ms"));
        if (e != ours) {
            s.put("ratio_ours_train", ratio(ours, e, "train_step_ms"));
            s.put("ratio_ours_infer", ratio(ours, e, "infer_ms"));
        } else {
            for (String k : List.of("gemm_ceiling_gflop_s", "floor_ratio_train", "floor_ratio_infer")) {
                List<Object> v = new ArrayList<>();
                for (Map<String, Object> m : e.runs) v.add(m == null ? null : m.get(k));
                s.put(k + "_per_round", v);
                s.put(k, medianOf(e.runs, k));
            }
        }
        return s;
    }

    private static Double medianOf(List<Map<String, Object>> runs, String key) {
        List<Double> v = new ArrayList<>();
        for (Map<String, Object> m : runs) if (m != null && m.get(key) instanceof Number n) v.add(n.doubleValue());
        return median(v);
    }

    /** Median over rounds of ours/theirs within the round (rounds where both ran). */
    private static Double ratio(Engine ours, Engine e, String key) {
        List<Double> v = new ArrayList<>();
        if (e.runs.size() == 1 && e.runs.size() != ours.runs.size()) {   // run once (the weak anchor): against our median
            Double o = medianOf(ours.runs, key), t = medianOf(e.runs, key);
            return o == null || t == null ? null : o / t;
        }
        for (int i = 0; i < Math.min(e.runs.size(), ours.runs.size()); i++) {
            Map<String, Object> a = ours.runs.get(i), b = e.runs.get(i);
            if (a != null && b != null) v.add(num(a.get(key)) / num(b.get(key)));
        }
        return median(v);
    }

    private static Double median(List<Double> v) {
        if (v.isEmpty()) return null;
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return Timing.median(a);
    }

    private static List<Object> list(double[] a) {
        List<Object> l = new ArrayList<>();
        for (double v : a) l.add(v);
        return l;
    }

    private static double num(Object v) { return v instanceof Number n ? n.doubleValue() : Double.NaN; }

    /** The copy and GEMM ceilings as bench measures them (LayerBench.ceilings), its tensors released after. */
    private static Ceilings ceilings(Backend be, BenchConfig cfg) {
        return new LayerBench(be, cfg, null).ceilings();
    }

    static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static long processCpuNs() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getProcessCpuTime() : -1;
    }
}
