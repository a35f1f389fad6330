package convunext.train;

import convunext.data.Augmenter;
import convunext.data.DataException;
import convunext.nn.ConvUNeXt;
import java.util.Locale;

/**
 * At which size {@code predict}, {@code evaluate} and the library API run the model on an image
 * (masks, probabilities and metrics are always at the image's native size; see
 * {@link InferenceModel#segment}):
 * <ul>
 * <li>{@code auto} (the default): at the training scale the checkpoint records
 * ({@link TrainingScale}). An image whose short side is one that training drew (409–768 px for
 * 512 × 0.8–1.5) runs at native size: training saw every short side in that range equally often
 * (a uniform draw), so no size inside it is more familiar to the model than the native one, and
 * resizing would only blur the image and the probabilities and cost time. Any other image is
 * resized so its short side is the centre of the range, {@link TrainingScale#centre()} (561 px).
 * So DRIVE (565×584) runs exactly as at native size, and a 2000-px dermoscopy photo at 561 px.
 * A checkpoint without a recorded training scale runs at native size.</li>
 * <li>{@code native}: the image as it is.</li>
 * <li>a positive factor: the short side scaled by it (rounded), whatever the checkpoint says.</li>
 * </ul>
 * Resized sizes follow training's rule ({@link Augmenter#shortSideTo}): short side set, long side
 * in proportion, rounded down.
 */
public record InferenceScale(Kind kind, double factor) {
    public enum Kind { AUTO, NATIVE, FACTOR }

    public static final InferenceScale AUTO = new InferenceScale(Kind.AUTO, 0), NATIVE = new InferenceScale(Kind.NATIVE, 1);

    /** The largest side a resized image may have (beyond it the arrays would not fit anyway). */
    static final long MAX_SIDE = 1 << 20;
    /**
     * The most pixels a resized image may have (16384², 1 GiB per float plane): far beyond any
     * trained scale, and with 3 channels still indexable by a Java int (3·2^28 &lt; 2^31).
     */
    public static final long MAX_PIXELS = 1L << 28;
    /** The longest Java float array the pipeline can allocate. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    public InferenceScale {
        if (kind == Kind.FACTOR && !(factor > 0 && Double.isFinite(factor)))
            throw new IllegalArgumentException("a scale factor must be a positive number, got " + factor);
    }

    /** What the values mean, for messages and help. */
    public static final String VALUES = "'auto' (the training scale the checkpoint records), 'native' or a positive factor such as 0.5";

    /**
     * Parses {@code auto}, {@code native} (any case) or a positive finite number; anything else
     * throws IllegalArgumentException whose message quotes the value (callers prefix the flag).
     */
    public static InferenceScale parse(String s) {
        if (s == null) throw new IllegalArgumentException("must be " + VALUES + ", got nothing");
        String t = s.strip().toLowerCase(Locale.ROOT);
        if (t.equals("auto")) return AUTO;
        if (t.equals("native")) return NATIVE;
        double f;
        try {
            // Only plain decimals: no hex floats, no "NaN"/"Infinity", no type suffix (1d, 2f).
            if (!t.matches("[+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([e][+-]?[0-9]+)?")) throw new NumberFormatException();
            f = Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be " + VALUES + ", got '" + s + "'");
        }
        if (!(f > 0) || !Double.isFinite(f)) throw new IllegalArgumentException("must be " + VALUES + ", got '" + s + "'");
        return new InferenceScale(Kind.FACTOR, f);
    }

    /**
     * The size [h', w'] the model runs an {@code h}×{@code w} image at, given the checkpoint's
     * training scale ({@code null} when it records none). Exactly [h, w] when no resize is due.
     * A resized size with a side over {@link #MAX_SIDE}, more than {@link #MAX_PIXELS} pixels, or
     * more than a Java array holds in {@code planes} planes (the larger of the model's input
     * channels and classes: the resized input and its probabilities) is refused naming {@code name},
     * its size and the size it would have.
     */
    public int[] size(int h, int w, TrainingScale trained, String name, int planes) {
        int shortSide = Math.min(h, w), longSide = Math.max(h, w);
        long target;
        switch (kind) {
            case NATIVE -> { return new int[] {h, w}; }
            case AUTO -> {
                if (trained == null || trained.contains(shortSide)) return new int[] {h, w};
                // Never below the model's smallest input (a checkpoint trained at a tiny base size).
                target = Math.max(trained.centre(), ConvUNeXt.MIN_SIDE);
            }
            default -> {
                if (factor == 1) return new int[] {h, w};
                target = Math.max(1, Math.round(factor * shortSide));
            }
        }
        if (target == shortSide) return new int[] {h, w};
        // In double: target·longSide overflows a long at factors like 1e300.
        double rs = target, rl = Math.floor((double) target * longSide / shortSide), pixels = rs * rl;
        String why = null;
        if (rl > MAX_SIDE) why = "a side over " + MAX_SIDE + " px";
        else if (pixels > MAX_PIXELS) why = "more than the " + MAX_PIXELS + " pixels (16384×16384) an image may run at";
        else if (pixels * Math.max(1, planes) > MAX_ARRAY)
            why = planes + " planes of " + (long) pixels + " values, more than a Java array holds";

        if (why != null) {
            String rw = fmtSide(h <= w ? rl : rs), rh = fmtSide(h <= w ? rs : rl);
            throw new DataException(name + " (" + w + "×" + h + ") at scale " + describe() + " would be resized to " + rw + "×" + rh
                    + ": " + why + "; pass a smaller --scale" + (kind == Kind.AUTO ? " or --scale native" : ""));
        }
        return Augmenter.shortSideTo(h, w, (int) target);
    }

    /**
     * The float buffers InferenceModel.segment holds at once for a resized image of {@code pixels}:
     * the resized input and its normalised copy (c planes each), the blended probabilities and the
     * tiles' weight sum (k planes + 1), the probabilities resized back (k planes, at the original
     * size, counted at the resized one): at most (4·planes + 1) floats a pixel. A degenerate image (a
     * 1-pixel strip brought to the training scale) reaches gigabytes this way; refusing it names the
     * file, where the allocation would end the whole folder (or Spark task) with an OutOfMemoryError.
     */
    static double bufferBytes(double pixels, int planes) {
        return (4.0 * Math.max(1, planes) + 1) * pixels * Float.BYTES;
    }

    /**
     * Refuses, naming {@code name}, a resize from h×w to rh×rw whose buffers ({@link #bufferBytes})
     * exceed {@code heapBytes} (the JVM's -Xmx): a resized image is this file's failure, not the
     * folder's. Images run at their own size are not refused here (their input is already decoded).
     */
    static void requireHeap(String name, int h, int w, int rh, int rw, int planes, long heapBytes) {
        if (rh == h && rw == w) return;
        double need = bufferBytes((double) rh * rw, planes);
        if (need > heapBytes)
            throw new DataException(String.format(Locale.ROOT, "%s (%d×%d) would be resized to %d×%d: about %.1f GiB of buffers, more"
                    + " than this JVM's heap (%.1f GiB); pass a smaller --scale, --scale native, or a larger -Xmx", name, w, h, rw, rh,
                    need / 0x1p30, heapBytes / 0x1p30));
    }

    /** {@link #size(int, int, TrainingScale, String, int)} for one plane (the pixel and side limits alone). */
    public int[] size(int h, int w, TrainingScale trained, String name) {
        return size(h, w, trained, name, 1);
    }

    private static String fmtSide(double side) {
        return side < 1e15 ? Long.toString((long) side) : String.format(Locale.ROOT, "%.3g", side);
    }

    /** {@code auto}, {@code native} or the factor. */
    public String describe() {
        return switch (kind) {
            case AUTO -> "auto";
            case NATIVE -> "native";
            case FACTOR -> TrainingScale.fmt(factor);
        };
    }

    @Override public String toString() { return describe(); }
}
