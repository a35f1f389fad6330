package convunext.api;

import convunext.train.InferenceScale;
import convunext.train.Predictor;

/**
 * How a {@link Segmenter} runs the model over an image: the same settings as {@code predict}'s
 * {@code --tile}, {@code --overlap} and {@code --tta flip}. Immutable; each {@code with…} returns
 * a copy.
 *
 * <p>Images whose sides are at most {@link #tile()} go through the model whole. Larger ones are
 * covered by overlapping square windows of {@code tile} pixels that share at least
 * {@code overlap} pixels, whose softmax outputs are blended with weights falling towards each
 * window's edges (so memory stays bounded and seams vanish). With flip test-time augmentation
 * every window is also run flipped horizontally and vertically and the three outputs averaged
 * (three times the work). Without {@link #withOverlap} the overlap is {@code predict}'s default
 * for the tile: 64, or 16 (tile/4) at tile 64, the smallest, where 64 would leave no step.
 *
 * <p><b>Scale.</b> By default ({@code "auto"}) the model runs each image at the scale it was
 * trained at, as the checkpoint records it: an image whose short side lies outside the range
 * {@code train} resized its images to (409–768 px for base size 512 × 0.8–1.5) is resized
 * (bilinear) so its short side is the range's geometric centre (561 px), and the class
 * probabilities are resized back (bilinear, half-pixel centres) before the arg-max. Masks and
 * probabilities are always at the image's own size. {@code "native"} runs every image as it is
 * (also what a checkpoint without a recorded training scale does under {@code "auto"}); a factor
 * scales every image's short side by it.
 *
 * <pre>{@code
 * SegmenterOptions o = SegmenterOptions.defaults().withTile(768).withFlipTta(true).withScale("native");
 * }</pre>
 */
public final class SegmenterOptions {
    /** The model's smallest input side (four 2× downsamplings with reflect padding). */
    public static final int MIN_TILE = convunext.nn.ConvUNeXt.MIN_SIDE;
    private static final SegmenterOptions DEFAULTS = new SegmenterOptions(512, null, false, InferenceScale.AUTO);

    private final int tile;
    private final Integer overlap;   // null: not set, predict's default for the tile (Predictor.overlap)
    private final boolean flipTta;
    private final InferenceScale scale;

    private SegmenterOptions(int tile, Integer overlap, boolean flipTta, InferenceScale scale) {
        if (tile < MIN_TILE) throw new IllegalArgumentException("tile must be ≥ " + MIN_TILE + ", got " + tile);
        if (overlap != null && overlap < 0) throw new IllegalArgumentException("overlap must be ≥ 0, got " + overlap);
        this.tile = tile;
        this.overlap = overlap;
        this.flipTta = flipTta;
        this.scale = scale;
    }

    /**
     * {@code predict}'s defaults: tile 512, overlap 64 (16 after {@code withTile(64)}, unless
     * {@link #withOverlap} sets one), no test-time augmentation, scale {@code auto}.
     */
    public static SegmenterOptions defaults() { return DEFAULTS; }

    /**
     * Window size in pixels; at least {@link #MIN_TILE} and, when a {@link Segmenter} opens,
     * larger than {@link #overlap()}. Without {@link #withOverlap} the overlap follows the tile as
     * {@code predict}'s does: 64, or 16 at tile 64 (64 would leave no step and be refused).
     *
     * @throws IllegalArgumentException when below {@link #MIN_TILE}
     */
    public SegmenterOptions withTile(int tile) { return new SegmenterOptions(tile, overlap, flipTta, scale); }

    /**
     * Pixels that neighbouring windows share: at least 0 and, when a {@link Segmenter} opens,
     * smaller than {@link #tile()} (checked then, whatever the tile: an overlap set here is never
     * replaced by the default).
     *
     * @throws IllegalArgumentException when negative
     */
    public SegmenterOptions withOverlap(int overlap) { return new SegmenterOptions(tile, overlap, flipTta, scale); }

    /** Whether to average the outputs of the image and its horizontal and vertical flips. */
    public SegmenterOptions withFlipTta(boolean flipTta) { return new SegmenterOptions(tile, overlap, flipTta, scale); }

    /**
     * The size the model runs each image at, as {@code predict --scale} takes it: {@code "auto"}
     * (the checkpoint's training scale), {@code "native"}, or a positive factor such as
     * {@code "0.5"}.
     *
     * @throws IllegalArgumentException for any other value (the message quotes it)
     */
    public SegmenterOptions withScale(String scale) {
        InferenceScale s;
        try {
            s = InferenceScale.parse(scale);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scale " + e.getMessage(), e);
        }
        return new SegmenterOptions(tile, overlap, flipTta, s);
    }

    public int tile() { return tile; }

    /** The overlap set with {@link #withOverlap}, else the default for {@link #tile()} (64; 16 at tile 64). */
    public int overlap() { return Predictor.overlap(overlap, tile); }

    public boolean flipTta() { return flipTta; }

    /** {@code "auto"}, {@code "native"} or the factor. */
    public String scale() { return scale.describe(); }

    /** The parsed scale (for {@link Segmenter}). */
    InferenceScale inferenceScale() { return scale; }

    @Override public boolean equals(Object o) {
        // an overlap set and the default of the same value differ: withTile keeps the one, follows the other
        return o instanceof SegmenterOptions s && s.tile == tile && java.util.Objects.equals(s.overlap, overlap) && s.flipTta == flipTta
                && s.scale.equals(scale);
    }

    @Override public int hashCode() {
        return ((tile * 31 + java.util.Objects.hashCode(overlap)) * 2 + (flipTta ? 1 : 0)) * 31 + scale.hashCode();
    }

    @Override public String toString() {
        return "tile " + tile + ", overlap " + overlap() + (flipTta ? ", flip TTA" : "") + ", scale " + scale;
    }
}
