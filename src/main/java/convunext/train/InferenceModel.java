package convunext.train;

import convunext.backend.Backend;
import convunext.data.DataException;
import convunext.data.FloatImage;
import convunext.data.LabelMap;
import convunext.data.LoadedSample;
import convunext.data.Normalization;
import convunext.data.Resize;
import convunext.eval.Predictions;
import convunext.io.SafeTensors;
import convunext.nn.ConvUNeXt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A checkpoint loaded for inference, and the one per-image pipeline that {@code predict},
 * {@code evaluate}, the library API ({@code convunext.api.Segmenter}) and the Spark job all run:
 * {@link #prepare} (channel fix, size check) → resize to the inference scale ({@link InferenceScale};
 * bilinear, {@link Resize}) → {@link #normalize} → {@link #probabilities} (the tiled
 * {@link Predictor}) → probabilities resized back to the native size (bilinear, align_corners=False)
 * → {@link #labels} (arg-max at native size), all in {@link #segment}, so every path gives the same
 * bits. When no resize is due (native scale, or the image already at a trained scale) the two
 * resizes are skipped and nothing else changes.
 *
 * <p>Not thread-safe by itself: {@link #probabilities} drives one backend. The other steps touch
 * no shared state; a caller that shares the model between threads passes a {@link Gate} that
 * serialises the backend step alone.
 */
public final class InferenceModel implements AutoCloseable {
    /** Reference DRIVE statistics, used for RGB input when a plain PyTorch export holds none. */
    private static final Normalization DRIVE_RGB =
            new Normalization(new float[] {0.709f, 0.381f, 0.224f}, new float[] {0.127f, 0.079f, 0.043f});

    private final ConvUNeXt model;
    private final Normalization norm;
    private final Predictor predictor;
    private final InferenceScale scale;
    private final TrainingScale trained;   // null: the checkpoint records none

    /**
     * One image through the pipeline: the (channel-fixed) input, [K,H,W] probabilities and labels
     * at its native size, and the size [inferHeight × inferWidth] the model ran at.
     */
    public record Result(FloatImage image, float[] probabilities, LabelMap labels, int classes, int inferHeight, int inferWidth) {
        /** Whether the model ran at another size than the native one. */
        public boolean resized() { return inferHeight != image.height() || inferWidth != image.width(); }
    }

    private InferenceModel(ConvUNeXt model, Normalization norm, Predictor predictor, InferenceScale scale, TrainingScale trained) {
        this.model = model;
        this.norm = norm;
        this.predictor = predictor;
        this.scale = scale;
        this.trained = trained;
    }

    /** {@link #open(Path, Backend, int, int, boolean, InferenceScale, Consumer)} at the default scale ({@code auto}). */
    public static InferenceModel open(Path weights, Backend be, int tile, int overlap, boolean flipTta, Consumer<String> log) {
        return open(weights, be, tile, overlap, flipTta, InferenceScale.AUTO, log);
    }

    /**
     * Loads {@code weights} (a checkpoint of {@code train} or a PyTorch state_dict saved as
     * safetensors) onto {@code be}, with tiled inference settings ({@link Predictor}). Bad
     * settings and unusable files throw IllegalArgumentException or DataException naming them.
     * {@code scale} picks the size the model runs each image at ({@link InferenceScale}); at
     * {@code auto} a checkpoint that records no training scale runs at native size, and one line
     * to {@code log} says so.
     */
    public static InferenceModel open(Path weights, Backend be, int tile, int overlap, boolean flipTta, InferenceScale scale,
                                      Consumer<String> log) {
        if (weights == null) throw new IllegalArgumentException("no weights file given");
        if (scale == null) throw new IllegalArgumentException("no inference scale given");
        if (Files.isDirectory(weights))
            throw new IllegalArgumentException("weights " + weights + " is a folder: pass the checkpoint file in it");
        if (!Files.isRegularFile(weights)) throw new IllegalArgumentException("weights file not found: " + weights);
        Predictor.checkSettings(tile, overlap);
        return open(read(weights, log), be, tile, overlap, flipTta, scale, log);
    }

    /**
     * A weights file read and checked without a device: its tensors (a DataParallel 'module.'
     * prefix removed), the config they hold, the training scale it records (null: none) and its
     * normalisation (null: none recorded).
     */
    public record Weights(Path path, SafeTensors.Contents contents, ConvUNeXt.Config config, TrainingScale trained,
                          Normalization norm) {}

    /** The file's header, config, training scale and normalisation ({@link Weights}); the tensors' values are checked on loading. */
    private static Weights read(Path weights, Consumer<String> log) {
        SafeTensors.Contents c = Checkpoint.withoutDataParallelPrefix(SafeTensors.read(weights), weights, log);
        ConvUNeXt.Config cfg = Checkpoint.configOf(c, weights);
        TrainingScale trained = TrainingScale.of(c.metadata(), weights);
        Normalization n = null;
        if (c.metadata().containsKey("norm_mean")) {
            n = RunMeta.normalization(c.metadata(), weights);
            if (n.channels() != cfg.inChannels())
                throw new IllegalArgumentException(weights + ": normalisation statistics norm_mean '" + c.metadata().get("norm_mean")
                        + "' have " + n.channels() + " channels, the model takes " + cfg.inChannels());
        }
        return new Weights(weights, c, cfg, trained, n);
    }

    /**
     * Everything {@link #open} checks of the file, without a device: {@link #read}'s header, config,
     * training scale and normalisation, and every tensor (names, shapes, NaN/Inf, BatchNorm's
     * variances, on a throw-away float64 model). The CLI calls it before it opens a device, so a
     * damaged checkpoint is named before a GPU context is made (or a missing GPU reported instead),
     * then opens what it returns: the file is read once.
     */
    public static Weights check(Path weights, Consumer<String> log) {
        Weights w = read(weights, log);
        try (Backend shapes = new convunext.backend.cpu.ref.RefBackend(); ConvUNeXt m = new ConvUNeXt(w.config(), shapes, 0)) {
            Checkpoint.loadWeights(m, w.contents(), weights);
        }
        return w;
    }

    /** {@link #open(Path, Backend, int, int, boolean, InferenceScale, Consumer)} for a file already read ({@link #check}). */
    public static InferenceModel open(Weights w, Backend be, int tile, int overlap, boolean flipTta, InferenceScale scale,
                                      Consumer<String> log) {
        if (scale == null) throw new IllegalArgumentException("no inference scale given");
        Predictor.checkSettings(tile, overlap);
        Path weights = w.path();
        ConvUNeXt.Config cfg = w.config();
        ConvUNeXt m = new ConvUNeXt(cfg, be, 0);
        Predictor predictor;
        try {
            predictor = new Predictor(m, tile, overlap, flipTta);
            Checkpoint.loadWeights(m, w.contents(), weights);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        Normalization n = w.norm();
        if (n == null) {
            n = cfg.inChannels() == 3 ? DRIVE_RGB : Normalization.unit(cfg.inChannels());
            log.accept("note: " + weights + " holds no normalisation statistics; using " + n);
        }
        log.accept("model " + Checkpoint.describe(cfg) + " from " + weights);
        log.accept(describeScale(scale, w.trained(), weights));
        return new InferenceModel(m, n, predictor, scale, w.trained());
    }

    public ConvUNeXt.Config config() { return model.config; }

    public int classes() { return model.config.numClasses(); }

    public Normalization normalization() { return norm; }

    public Backend backend() { return model.backend(); }

    /** The scale setting this model infers at. */
    public InferenceScale scale() { return scale; }

    /** The training scale the checkpoint records, or null. */
    public TrainingScale trainingScale() { return trained; }

    /**
     * The size [h', w'] the model runs an {@code h}×{@code w} image at (see {@link InferenceScale#size}:
     * a size too large for its input or probability arrays is refused naming {@code name}).
     */
    public int[] inferenceSize(int h, int w, String name) {
        return scale.size(h, w, trained, name, planes());
    }

    /** Planes a resized image's buffers hold at most: its input channels or its class probabilities. */
    private int planes() { return Math.max(model.config.inChannels(), classes()); }

    /** The one line {@link #open} logs about the scale. */
    static String describeScale(InferenceScale scale, TrainingScale trained, Path weights) {
        return switch (scale.kind()) {
            case NATIVE -> "scale: native (every image as it is)";
            case FACTOR -> "scale: every image resized by " + scale.describe()
                    + " (short side), its probabilities back to its native size for the arg-max";
            case AUTO -> trained == null
                    ? "note: " + weights + " records no training scale (a PyTorch export or an older checkpoint): inferring at "
                      + "native size, as before; --scale <factor> resizes"
                    : "scale: trained at " + trained + "; images with a short side outside that range are resized to "
                      + trained.centre() + " px, their probabilities back to native size (--scale native turns this off)";
        };
    }

    /**
     * Gray input for a 3-channel model is replicated to RGB; any other channel mismatch is refused
     * naming {@code name}. The side minimum ({@link ConvUNeXt#MIN_SIDE}) applies to the size the
     * model runs at, which {@link #segment} checks: a small image that the scale rule resizes up
     * (auto, with a checkpoint's training scale; or a factor) is fine.
     */
    public FloatImage prepare(FloatImage img, String name) {
        return LoadedSample.toChannels(img, model.config.inChannels(), name);
    }

    /**
     * Refuses, naming it, an image whose resize would not fit the heap, or that the model would run
     * at below its minimum side (saying what would resize it).
     */
    private void checkRunSize(String name, int h, int w, int rh, int rw) {
        InferenceScale.requireHeap(name, h, w, rh, rw, planes(), Runtime.getRuntime().maxMemory());
        if (rh >= ConvUNeXt.MIN_SIDE && rw >= ConvUNeXt.MIN_SIDE) return;
        String side = ConvUNeXt.MIN_SIDE + "×" + ConvUNeXt.MIN_SIDE;
        // the smallest factor (two decimals, rounded up) that brings the short side to the minimum
        double f = Math.ceil(100.0 * ConvUNeXt.MIN_SIDE / Math.min(h, w)) / 100;
        String fix = "; --scale " + TrainingScale.fmt(f) + " or more resizes it";
        if (rh != h || rw != w)
            throw new DataException(name + " (" + w + "×" + h + ") would be " + rw + "×" + rh + " at scale " + scale
                    + ", smaller than the model's minimum " + side + fix);
        throw new DataException(name + " is " + w + "×" + h + ", smaller than the model's minimum " + side
                + " at scale " + scale + fix);
    }

    /** The model input [C,H,W] of a prepared image: (x/255 − mean)/std per channel. */
    public float[] normalize(FloatImage prepared) {
        float[] x = new float[prepared.channels() * prepared.pixels()];
        norm.apply(prepared, x, 0);
        return x;
    }

    /** Class probabilities [K,H,W] of a normalised image; the only step that uses the backend. */
    public float[] probabilities(float[] x, int c, int h, int w) {
        return predictor.probabilities(x, c, h, w);
    }

    /** Arg-max over classes (first maximum wins on ties). */
    public static LabelMap labels(float[] probabilities, int classes, int h, int w) {
        return Predictions.argmax(probabilities, 0, classes, h, w);
    }

    /**
     * How the backend step of {@link #segment(FloatImage, String, Gate)} runs: {@link #DIRECT}ly,
     * or serialised (and checked) by a caller that shares this model between threads.
     */
    @FunctionalInterface
    public interface Gate {
        float[] run(Supplier<float[]> backendStep);
    }

    public static final Gate DIRECT = Supplier::get;

    /** The whole pipeline for one decoded image, on the calling thread. */
    public Result segment(FloatImage img, String name) {
        return segment(img, name, DIRECT);
    }

    /** The whole pipeline; only {@link #probabilities} runs inside {@code gate}. */
    public Result segment(FloatImage img, String name, Gate gate) {
        FloatImage p = prepare(img, name);
        int c = p.channels(), h = p.height(), w = p.width(), k = classes();
        int[] size = inferenceSize(h, w, name);
        int rh = size[0], rw = size[1];
        checkRunSize(name, h, w, rh, rw);
        if (rh == h && rw == w) {
            float[] x = normalize(p);
            float[] probs = gate.run(() -> probabilities(x, c, h, w));
            return new Result(p, probs, labels(probs, k, h, w), k, h, w);
        }
        float[] x = normalize(Resize.bilinear(p, rh, rw));
        float[] small = gate.run(() -> probabilities(x, c, rh, rw));
        float[] probs = Resize.planes(small, k, rh, rw, h, w);
        return new Result(p, probs, labels(probs, k, h, w), k, rh, rw);
    }

    /** Releases the weights on the backend (the caller owns and closes the backend). */
    @Override public void close() {
        predictor.close();
        model.close();
    }
}
