package convunext.train;

import convunext.data.LabelMap;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import java.nio.file.Path;

/**
 * Everything a training run is configured by (defaults: {@link Recipe}). {@code stopAfter} &gt; 0
 * ends this invocation after that many epochs (the schedule still spans {@code epochs}; continue
 * with --resume); {@code maxStepsPerEpoch} 0 means whole epochs. {@code overwrite} lets a run
 * replace an earlier run's files in {@code out}; without it such a folder is refused unless
 * {@code resume} is that folder's checkpoint.
 *
 * <p>Every value is checked here, when the options are made, so a bad one is refused before any
 * data is read (messages name the command-line flag).
 */
public record TrainOptions(Path data, Path out, String device, int epochs, int batch, int crop, int baseSize,
                           double lr, double weightDecay, int baseC, Norm norm, int numClasses, long seed,
                           double valSplit, Path trainRoi, Path testRoi, Path resume, int tile, int prefetch,
                           boolean cache, int maxStepsPerEpoch, int stopAfter, int valEvery, boolean overwrite) {
    /** Defaults shared by {@code train}'s options and the library's Trainer (strings for picocli's annotations). */
    public static final String DEFAULT_VAL_SPLIT = "0.2", DEFAULT_TILE = "768";
    /** Batches the loader thread prepares ahead of the step. */
    public static final int PREFETCH = 3;
    /**
     * The largest --base-size: training draws short sides up to 1.5× it, and validation (like
     * predict's default scale) resizes images to 1.095× it, which must stay within
     * {@link InferenceScale#MAX_PIXELS}; 8192 is 16× the reference recipe.
     */
    public static final int MAX_BASE_SIZE = 8192;
    /** The largest --crop (17× the reference recipe's 480; the tensor bound below is usually the tighter one). */
    public static final int MAX_CROP = 8192;
    /** The longest Java float array: a step's widest tensor must fit in one. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    public TrainOptions {
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be ≥ 1, got " + epochs);
        if (batch < 1) throw new IllegalArgumentException("--batch must be ≥ 1, got " + batch);
        if (crop < ConvUNeXt.MIN_SIDE)
            throw new IllegalArgumentException("--crop must be ≥ " + ConvUNeXt.MIN_SIDE + " (the model's smallest input side), got " + crop);
        if (crop > MAX_CROP) throw new IllegalArgumentException("--crop must be ≤ " + MAX_CROP + ", got " + crop);
        if (baseSize < 1 || baseSize > MAX_BASE_SIZE)
            throw new IllegalArgumentException("--base-size must be 1.." + MAX_BASE_SIZE + ", got " + baseSize);
        if (!(lr > 0) || !Double.isFinite(lr)) throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay))
            throw new IllegalArgumentException("--weight-decay must be ≥ 0, got " + weightDecay);
        if (baseC < 1) throw new IllegalArgumentException("--base-c must be ≥ 1, got " + baseC);
        if (numClasses < 2 || numClasses > LabelMap.IGNORE)
            throw new IllegalArgumentException("--classes must be 2.." + LabelMap.IGNORE + " (mask value " + LabelMap.IGNORE
                    + " is the 'ignore' label, so class indices stop at " + (LabelMap.IGNORE - 1) + "), got " + numClasses);
        if (!(valSplit >= 0 && valSplit < 1)) throw new IllegalArgumentException("--val-split must be in [0, 1), got " + valSplit);
        if (tile < ConvUNeXt.MIN_SIDE)
            throw new IllegalArgumentException("--tile must be ≥ " + ConvUNeXt.MIN_SIDE + " (the model's smallest input side), got " + tile);
        if (prefetch < 1) throw new IllegalArgumentException("prefetch must be ≥ 1, got " + prefetch);
        if (maxStepsPerEpoch < 0) throw new IllegalArgumentException("--max-steps-per-epoch must be ≥ 1 (0: whole epochs), got " + maxStepsPerEpoch);
        if (stopAfter < 0) throw new IllegalArgumentException("--stop-after must be ≥ 1, got " + stopAfter);
        if (valEvery < 1) throw new IllegalArgumentException("--val-every must be ≥ 1, got " + valEvery);
        // A step's widest tensor: batch × crop² × the widest layer (the blocks' 4·base_c expansion,
        // the logits' classes, or the 3 input channels) floats, in one Java array.
        long planes = widestPlanes(numClasses, baseC), values;
        try {
            values = Math.multiplyExact((long) batch * crop * crop, planes);   // a huge --base-c must not wrap around to a small count
        } catch (ArithmeticException beyondLong) {
            values = Long.MAX_VALUE;
        }
        if (values > MAX_ARRAY)
            throw new IllegalArgumentException("--batch " + batch + " × --crop " + crop + "² × " + planes
                    + " channels (the widest layer) = " + (values == Long.MAX_VALUE ? "more than 2^63" : Long.toString(values))
                    + " values in one tensor, more than a Java array"
                    + " holds (" + MAX_ARRAY + "); use a smaller --crop or --batch");
        // weights, gradients and AdamW's two moments, 4 bytes each: refused here, not after the data is
        // decoded (--base-c 4096: 5.6e10 parameters, an OutOfMemoryError advising --tile and --batch)
        long params = new convunext.nn.ConvUNeXt.Config(1, Math.max(2, numClasses), baseC, norm == null ? Norm.BATCH : norm).parameters();
        if (16.0 * params > Runtime.getRuntime().maxMemory())
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "--base-c %d: the model's %,d parameters need at least"
                    + " %.1f GiB for weights, gradients and AdamW's moments, more than this JVM's heap (%.1f GiB); use a smaller"
                    + " --base-c or give Java more memory (-Xmx)", baseC, params, 16.0 * params / 0x1p30,
                    Runtime.getRuntime().maxMemory() / 0x1p30));
        if (data == null || out == null) throw new IllegalArgumentException("data and output folders are required");
    }

    /**
     * Channels of a step's widest tensor: the blocks' 4·base_c expansion, the logits' classes or the
     * 3 input channels. Static: the compact constructor calls it before the fields are assigned.
     */
    private static long widestPlanes(int numClasses, int baseC) { return Math.max(3, Math.max(numClasses, 4L * baseC)); }

    /**
     * Refuses, before any data is read, a step that cannot fit this JVM's heap (the CPU backends
     * keep every tensor there): the level-0 blocks keep their 4·base_c-channel hidden state for the
     * backward pass and the backward pass makes its gradient, so a step holds at least two tensors
     * of batch × crop² × 4·base_c floats (the real peak is several times that). Beyond this bound an
     * OutOfMemoryError can still come; it is only the certain case that is refused by name here.
     */
    public void requireStepFitsHeap(long heapBytes) {
        long planes = widestPlanes(numClasses, baseC);
        double bytes = 2.0 * batch * crop * crop * planes * Float.BYTES;
        if (bytes > heapBytes)
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "--batch %d × --crop %d² × %d channels: a training"
                    + " step on the CPU holds at least %.1f GiB (two tensors of the widest layer), more than this JVM's heap (%.1f GiB);"
                    + " use a smaller --batch, --crop or --base-c, or give Java more memory (-Xmx)", batch, crop, planes,
                    bytes / 0x1p30, heapBytes / 0x1p30));
    }

    /** As above, not replacing an earlier run ({@code overwrite} false). */
    public TrainOptions(Path data, Path out, String device, int epochs, int batch, int crop, int baseSize,
                        double lr, double weightDecay, int baseC, Norm norm, int numClasses, long seed,
                        double valSplit, Path trainRoi, Path testRoi, Path resume, int tile, int prefetch,
                        boolean cache, int maxStepsPerEpoch, int stopAfter, int valEvery) {
        this(data, out, device, epochs, batch, crop, baseSize, lr, weightDecay, baseC, norm, numClasses, seed, valSplit,
                trainRoi, testRoi, resume, tile, prefetch, cache, maxStepsPerEpoch, stopAfter, valEvery, false);
    }

    public TrainOptions withOverwrite(boolean replace) {
        return new TrainOptions(data, out, device, epochs, batch, crop, baseSize, lr, weightDecay, baseC, norm, numClasses, seed,
                valSplit, trainRoi, testRoi, resume, tile, prefetch, cache, maxStepsPerEpoch, stopAfter, valEvery, replace);
    }
}
