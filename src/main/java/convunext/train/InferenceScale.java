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
     * A size too large for memory is refused naming {@code name}.
     */
    public int[] size(int h, int w, TrainingScale trained, String name) {
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
        if (target > MAX_SIDE || target * longSide / shortSide > MAX_SIDE)
            throw new DataException(name + " (" + w + "×" + h + ") at scale " + describe() + " would have a side over " + MAX_SIDE
                    + " px; pass a smaller --scale");
        return Augmenter.shortSideTo(h, w, (int) target);
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
