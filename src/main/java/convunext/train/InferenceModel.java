package convunext.train;

import convunext.backend.Backend;
import convunext.data.DataException;
import convunext.data.FloatImage;
import convunext.data.LabelMap;
import convunext.data.LoadedSample;
import convunext.data.Normalization;
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
 * {@link #prepare} (channel fix, size check) → {@link #normalize} → {@link #probabilities} (the
 * tiled {@link Predictor}) → {@link #labels} (arg-max), all in {@link #segment}, so every path
 * gives the same bits.
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

    /** One image through the pipeline: the (channel-fixed) input, [K,H,W] probabilities, labels. */
    public record Result(FloatImage image, float[] probabilities, LabelMap labels, int classes) {}

    private InferenceModel(ConvUNeXt model, Normalization norm, Predictor predictor) {
        this.model = model;
        this.norm = norm;
        this.predictor = predictor;
    }

    /**
     * Loads {@code weights} (a checkpoint of {@code train} or a PyTorch state_dict saved as
     * safetensors) onto {@code be}, with tiled inference settings ({@link Predictor}). Bad
     * settings and unusable files throw IllegalArgumentException or DataException naming them.
     */
    public static InferenceModel open(Path weights, Backend be, int tile, int overlap, boolean flipTta, Consumer<String> log) {
        if (weights == null) throw new IllegalArgumentException("no weights file given");
        if (!Files.isRegularFile(weights)) throw new IllegalArgumentException("weights file not found: " + weights);
        Predictor.checkSettings(tile, overlap);
        SafeTensors.Contents c = SafeTensors.read(weights);
        ConvUNeXt.Config cfg = Checkpoint.configOf(c, weights);
        ConvUNeXt m = new ConvUNeXt(cfg, be, 0);
        Predictor predictor;
        try {
            predictor = new Predictor(m, tile, overlap, flipTta);
            Checkpoint.loadWeights(m, c, weights);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        Normalization n;
        if (c.metadata().containsKey("norm_mean")) {
            n = RunMeta.normalization(c.metadata(), weights);
        } else {
            n = cfg.inChannels() == 3 ? DRIVE_RGB : Normalization.unit(cfg.inChannels());
            log.accept("note: " + weights + " holds no normalisation statistics; using " + n);
        }
        log.accept("model " + Checkpoint.describe(cfg) + " from " + weights);
        return new InferenceModel(m, n, predictor);
    }

    public ConvUNeXt.Config config() { return model.config; }

    public int classes() { return model.config.numClasses(); }

    public Normalization normalization() { return norm; }

    public Backend backend() { return model.backend(); }

    /**
     * Gray input for a 3-channel model is replicated to RGB; any other channel mismatch, and
     * sides below {@link ConvUNeXt#MIN_SIDE}, are refused naming {@code name}.
     */
    public FloatImage prepare(FloatImage img, String name) {
        int want = model.config.inChannels();
        if (img.channels() != want) {
            if (img.channels() == 1 && want == 3) img = LoadedSample.replicate(img, 3);
            else throw new DataException(name + " has " + img.channels() + " channels, the model expects " + want);
        }
        if (img.height() < ConvUNeXt.MIN_SIDE || img.width() < ConvUNeXt.MIN_SIDE)
            throw new DataException(name + " is " + img.width() + "×" + img.height() + ", smaller than the model's minimum "
                    + ConvUNeXt.MIN_SIDE + "×" + ConvUNeXt.MIN_SIDE);
        return img;
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
        int c = p.channels(), h = p.height(), w = p.width();
        float[] x = normalize(p);
        float[] probs = gate.run(() -> probabilities(x, c, h, w));
        return new Result(p, probs, labels(probs, classes(), h, w), classes());
    }

    /** Releases the weights on the backend (the caller owns and closes the backend). */
    @Override public void close() { model.close(); }
}
