package convunext.anchor;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The libtorch anchor: times ConvUNeXt's training step and inference in official libtorch (through
 * DJL), at the shapes bench/anchor/trace_model.py traced, and prints one JSON line last (the
 * fields of bench/torch_bench.py's, so `bench --anchors` reads both the same way).
 *
 * <ul>
 * <li>Training: train.pt (model + CE/Dice loss, BatchNorm on batch statistics) loaded with
 *   {@code trainParam=true}; one step = zero the gradients, forward to the loss, backward through
 *   DJL's GradientCollector, DJL's AdamW (lr 1e-4, betas 0.9/0.999, eps 1e-8, weight decay 5e-5,
 *   as our bench and torch_bench.py) on every parameter.</li>
 * <li>Inference: infer.pt (eval mode, frozen); one call = forward and the logits copied into a
 *   Java float[] (our inferLogits downloads them too).</li>
 * </ul>
 * Run with {@code -Dai.djl.offline=true} (the natives come from the pytorch-native-cpu jar) and
 * {@code -Dai.djl.pytorch.num_threads=N -Dai.djl.pytorch.num_interop_threads=1}.
 */
public final class LibtorchBench {
    private LibtorchBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        Path train = Path.of(a.getOrDefault("train", "train.pt")), infer = Path.of(a.getOrDefault("infer", "infer.pt"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "2")), size = Integer.parseInt(a.getOrDefault("size", "256"));
        int classes = Integer.parseInt(a.getOrDefault("classes", "2"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "2")), steps = Integer.parseInt(a.getOrDefault("steps", "3"));
        for (Path p : List.of(train, infer))
            if (!Files.isRegularFile(p)) throw new IOException("trace not found: " + p + " (bench/anchor/trace_model.py writes it)");

        Engine eng = Engine.getEngine("PyTorch");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("engine", "libtorch");
        out.put("torch_version", eng.getVersion());
        out.put("djl_version", Engine.getDjlVersion());
        out.put("native", nativeBuild());
        out.put("mkl", eng.hasCapability(StandardCapabilities.MKL));
        out.put("mkldnn", eng.hasCapability(StandardCapabilities.MKLDNN));
        out.put("openmp", eng.hasCapability(StandardCapabilities.OPENMP));
        out.put("threads", Integer.getInteger("ai.djl.pytorch.num_threads", -1));
        out.put("device", "cpu");
        out.put("batch", batch);
        out.put("size", size);
        out.put("classes", classes);
        out.put("warmup", warmup);
        out.put("steps", steps);

        Random rng = new Random(7);
        float[] xs = new float[batch * 3 * size * size];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextGaussian();
        long[] ys = new long[batch * size * size];
        for (int i = 0; i < ys.length; i++) ys[i] = rng.nextInt(classes);

        try (NDManager nm = NDManager.newBaseManager(); Model m = Model.newInstance("train", Device.cpu(), "PyTorch")) {
            m.load(train.getParent() == null ? Path.of(".") : train.getParent(), train.getFileName().toString(),
                    Map.of("trainParam", "true"));
            Block block = m.getBlock();
            ParameterList params = block.getParameters();
            long n = 0;
            for (Pair<String, Parameter> p : params) n += p.getValue().getArray().size();
            out.put("params", n);
            NDArray x = nm.create(xs, new Shape(batch, 3, size, size)), y = nm.create(ys, new Shape(batch, size, size));
            Optimizer opt = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(1e-4f)).optWeightDecays(5e-5f)
                    .optBeta1(0.9f).optBeta2(0.999f).optEpsilon(1e-8f).build();
            ParameterStore store = new ParameterStore(nm, false);
            float[] loss = new float[1];
            double[] ms = time(warmup, steps, () -> {
                try (NDManager sm = nm.newSubManager()) {
                    for (Pair<String, Parameter> p : params) {
                        NDArray g = p.getValue().getArray().getGradient();
                        g.subi(g);   // zero_grad(set_to_none=False), as torch_bench.py
                        g.close();
                    }
                    try (GradientCollector gc = eng.newGradientCollector()) {
                        NDArray l = block.forward(store, new NDList(x, y), true).singletonOrThrow();
                        loss[0] = l.getFloat();
                        gc.backward(l);
                        l.close();
                    }
                    for (Pair<String, Parameter> p : params) {
                        NDArray w = p.getValue().getArray(), g = w.getGradient();
                        opt.update(p.getKey(), w, g);
                        g.close();
                    }
                }
            });
            put(out, "train", ms, batch);
            out.put("last_loss", loss[0]);
        }
        try (NDManager nm = NDManager.newBaseManager(); Model m = Model.newInstance("infer", Device.cpu(), "PyTorch")) {
            m.load(infer.getParent() == null ? Path.of(".") : infer.getParent(), infer.getFileName().toString());
            Block block = m.getBlock();
            NDArray x = nm.create(xs, new Shape(batch, 3, size, size));
            ParameterStore store = new ParameterStore(nm, false);
            double[] ms = time(warmup, steps, () -> {
                try (NDManager sm = nm.newSubManager()) {
                    NDList o = block.forward(store, new NDList(x), false);
                    float[] logits = o.singletonOrThrow().toFloatArray();
                    if (logits.length != batch * classes * size * size) throw new IllegalStateException("logits " + logits.length);
                    o.close();
                }
            });
            put(out, "infer", ms, batch);
        }
        out.put("peak_rss_bytes", peakRssBytes());
        System.out.println(json(out));
    }

    private interface Body { void run() throws Exception; }

    private static double[] time(int warmup, int steps, Body body) throws Exception {
        for (int i = 0; i < warmup; i++) body.run();   // TorchScript's profiling executor optimises after the first runs
        double[] ms = new double[steps];
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms;
    }

    private static double median(double[] s) {
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    private static void put(Map<String, Object> out, String what, double[] ms, int batch) {
        List<Object> l = new ArrayList<>();
        for (double v : ms) l.add(v);
        if (what.equals("train")) {
            out.put("train_step_ms", median(ms));
            out.put("train_steps_ms", l);
            out.put("train_images_s", batch / (median(ms) / 1e3));
        } else {
            out.put("infer_ms", median(ms));
            out.put("infer_runs_ms", l);
            out.put("infer_images_s", batch / (median(ms) / 1e3));
        }
    }

    /** "2.7.1-20250812 cpu linux-x86_64" from the native jar's pytorch.properties. */
    private static String nativeBuild() {
        try (var in = LibtorchBench.class.getResourceAsStream("/native/lib/pytorch.properties")) {
            if (in == null) return "unknown";
            var p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version") + " " + p.getProperty("flavor") + " " + p.getProperty("classifier");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8))
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        } catch (IOException | NumberFormatException e) {
            // not Linux: no figure
        }
        return -1;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("usage: --key value …, got " + args[i]);
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }

    /** Flat JSON (strings, numbers, booleans, lists of numbers): no JSON library on this class path. */
    private static String json(Map<String, Object> m) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (b.length() > 1) b.append(", ");
            b.append('"').append(e.getKey()).append("\": ").append(value(e.getValue()));
        }
        return b.append('}').toString();
    }

    private static String value(Object v) {
        if (v instanceof String s) return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        if (v instanceof Double d) return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "null";
        if (v instanceof Float f) return Float.isFinite(f) ? String.format(Locale.ROOT, "%.6f", f) : "null";
        if (v instanceof List<?> l) {
            StringBuilder b = new StringBuilder("[");
            for (Object o : l) b.append(b.length() > 1 ? ", " : "").append(value(o));
            return b.append(']').toString();
        }
        return String.valueOf(v);
    }
}
