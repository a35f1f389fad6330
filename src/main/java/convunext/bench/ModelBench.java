package convunext.bench;

import convunext.backend.Backend;
import convunext.nn.ConvUNeXt;
import convunext.nn.InferenceModel;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.TrainStep;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The whole model: median training step (TrainStep.run: zero grads, forward, CE+Dice, backward,
 * AdamW) and median inference ({@link InferenceModel}: BatchNorm folded, the forward and the
 * logits' download),
 * on one device-resident batch, plus the JVM heap high-water mark over both and, on a device, the
 * device-memory high-water mark ({@link Backend#deviceMemoryPeak}) counted as bench/torch_bench.py
 * counts PyTorch's: from after the model, optimiser and batch exist, over training and inference.
 */
public final class ModelBench {
    private ModelBench() {}

    /** Times in ms, sorted; breakdown: op → {ms per step, calls per step} (empty unless asked). */
    /** devicePeak: {bytes in use, bytes reserved from the driver} at the high-water mark, or null (heap tensors). */
    public record Result(long params, double[] trainMs, double[] inferMs, double lastLoss, long peakHeapBytes,
                         long maxHeapBytes, String memoryNote, Map<String, double[]> breakdown, long[] devicePeak,
                         Map<String, double[]> inferBreakdown, long stepAllocBytes, long inferAllocBytes) {
        /** Without an inference breakdown or allocation figures (-1: not measured). */
        public Result(long params, double[] trainMs, double[] inferMs, double lastLoss, long peakHeapBytes,
                      long maxHeapBytes, String memoryNote, Map<String, double[]> breakdown, long[] devicePeak) {
            this(params, trainMs, inferMs, lastLoss, peakHeapBytes, maxHeapBytes, memoryNote, breakdown, devicePeak, Map.of(), -1, -1);
        }

        public double trainMedianMs() { return Timing.median(trainMs); }
        public double inferMedianMs() { return Timing.median(inferMs); }
    }

    /**
     * Warm-up steps at least before the timed ones: after a single one the first timed steps of a
     * fresh model ran up to 1.9× slow on the CPU (fresh heap pages, code still compiling; the
     * median of 3 steps 518–745 ms in `--layers` runs against 395 in the anchors' rounds, which warm
     * up every round; bench/NOTES.md, CPU round 27). A GPU's warm-up is its first step's capture.
     */
    static final int MIN_WARMUP = 3;

    /** The whole model's warm-up steps for cfg: its --warmup, at least {@link #MIN_WARMUP}. */
    static int warmupSteps(BenchConfig cfg) { return Math.max(MIN_WARMUP, cfg.warmup()); }

    public static Result run(Backend be, BenchConfig cfg, boolean breakdown) {
        int n = cfg.batch(), sz = cfg.size();
        ConvUNeXt.Config mc = new ConvUNeXt.Config(3, cfg.classes(), cfg.baseC(), Norm.BATCH);
        SplittableRandom rng = new SplittableRandom(7);
        Tensor images = upload(be, rng, -1, n, 3, sz, sz), targets = upload(be, rng, cfg.classes(), n, sz, sz);
        System.gc();
        HeapPeak.reset();
        double[] train, infer;
        long[] stepAlloc = {-1}, inferAlloc = {-1};
        double loss;
        long params;
        long[] devicePeak;
        try (ConvUNeXt model = new ConvUNeXt(mc, be, 1); AdamW opt = AdamW.withDefaults(model.params)) {
            params = model.params.numParams();
            be.resetDeviceMemoryPeak();
            double[] last = new double[1];
            train = Timing.run(be, warmupSteps(cfg), cfg.steps(),
                    metered(() -> { last[0] = TrainStep.run(model, opt, images, targets, 1e-4).loss(); return null; }, stepAlloc));
            loss = last[0];
            // Inference as a deployment runs it: BatchNorm folded once, nothing kept for a backward.
            try (InferenceModel im = InferenceModel.of(model)) {
                infer = Timing.run(be, warmupSteps(cfg), cfg.steps(), metered(() -> logits(be, im, images), inferAlloc));
            }
            devicePeak = be.deviceMemoryPeak();
        }
        long peak = HeapPeak.peakBytes();
        Map<String, double[]> ops = new LinkedHashMap<>(), inferOps = new LinkedHashMap<>();
        if (breakdown) breakdown(be, mc, images, targets, cfg.warmup(), cfg.steps(), ops, inferOps);
        be.release(images);
        be.release(targets);
        String note = "cpu".equals(be.name())
                ? "JVM heap high-water over the train and inference runs (sum of pool peaks; includes uncollected garbage); tensors live on the heap"
                : "JVM heap high-water (host side only); device memory is the separate device peak;"
                  + " the backend describes itself after the model runs as: " + be.describe();
        return new Result(params, train, infer, loss, peak, Runtime.getRuntime().maxMemory(), note, ops, devicePeak, inferOps, stepAlloc[0],
                inferAlloc[0]);
    }

    /**
     * op, with the Java heap bytes its last call allocated (all threads: the CPU backend's pool
     * threads too) left in {@code lastAlloc[0]}. In steady state the CPU backend allocates next to
     * nothing per step; hundreds of MiB mean Vector API values boxed by a C2 compilation that failed
     * to intrinsify them (bench/NOTES.md, CPU round 16), a slower run for reasons outside our code.
     */
    public static <T> Supplier<T> metered(Supplier<T> op, long[] lastAlloc) {
        return () -> {
            long a0 = TimedBackend.allocatedBytes();
            T r = op.get();
            lastAlloc[0] = TimedBackend.allocatedBytes() - a0;
            return r;
        };
    }

    /** Folded-model logits downloaded to the host, as TrainStep.inferLogits downloads the tape's. */
    static float[] logits(Backend be, InferenceModel im, Tensor images) {
        Tensor y = im.forward(images);
        try {
            return be.download(y);
        } finally {
            be.release(y);
        }
    }

    /** Gaussian values (classes &lt; 0) or class indices 0 … classes−1 as floats. */
    private static Tensor upload(Backend be, SplittableRandom rng, int classes, int... shape) {
        int len = 1;
        for (int d : shape) len = Math.multiplyExact(len, d);
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = classes < 0 ? (float) rng.nextGaussian() : rng.nextInt(classes);
        return be.upload(a, shape);
    }

    /**
     * Time per op: the median over {@code steps} training steps and over as many inferences of the
     * folded model, after {@code warmup} (at least 2) of each, through {@link TimedBackend}, which
     * syncs after every op; the sum of ops is therefore a little above an unwrapped step on a GPU.
     * One step after one warm-up read single ops up to 3× slow: the new model's first steps take
     * freshly committed heap pages (bench/NOTES.md, CPU round 24).
     */
    private static void breakdown(Backend be, ConvUNeXt.Config mc, Tensor images, Tensor targets, int warmup, int steps,
                                  Map<String, double[]> train, Map<String, double[]> infer) {
        TimedBackend tb = new TimedBackend(be);
        try (ConvUNeXt model = new ConvUNeXt(mc, tb, 1); AdamW opt = AdamW.withDefaults(model.params)) {
            medianPerOp(tb, be, Math.max(2, warmup), Math.max(1, steps), () -> TrainStep.run(model, opt, images, targets, 1e-4), train);
            try (InferenceModel im = InferenceModel.of(model)) {
                medianPerOp(tb, be, Math.max(2, warmup), Math.max(1, steps), () -> logits(tb, im, images), infer);
            }
        }
    }

    /** Per op, the median ms over the timed runs (calls, heap MiB and GFLOP of the last run), slowest first. */
    private static void medianPerOp(TimedBackend tb, Backend be, int warmup, int steps, Runnable run, Map<String, double[]> out) {
        for (int i = 0; i < warmup; i++) run.run();
        be.sync();
        Map<String, double[]> ms = new LinkedHashMap<>(), last = new LinkedHashMap<>();
        for (int i = 0; i < steps; i++) {
            tb.reset();
            run.run();
            be.sync();
            int step = i;
            tb.stats().forEach((k, v) -> {
                ms.computeIfAbsent(k, x -> new double[steps])[step] = v[0] / 1e6;
                last.put(k, new double[] {0, v[1], v[2] / 1048576.0, v[3] / 1e9});
            });
        }
        last.forEach((k, v) -> v[0] = Timing.median(ms.get(k)));
        last.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]))
                .forEach(e -> out.put(e.getKey(), e.getValue()));
    }
}
