package convunext.api;

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
 * (three times the work).
 *
 * <pre>{@code
 * SegmenterOptions o = SegmenterOptions.defaults().withTile(768).withFlipTta(true);
 * }</pre>
 */
public final class SegmenterOptions {
    /** The model's smallest input side (four 2× downsamplings with reflect padding). */
    public static final int MIN_TILE = convunext.nn.ConvUNeXt.MIN_SIDE;
    private static final SegmenterOptions DEFAULTS = new SegmenterOptions(512, 64, false);

    private final int tile, overlap;
    private final boolean flipTta;

    private SegmenterOptions(int tile, int overlap, boolean flipTta) {
        if (tile < MIN_TILE) throw new IllegalArgumentException("tile must be ≥ " + MIN_TILE + ", got " + tile);
        if (overlap < 0) throw new IllegalArgumentException("overlap must be ≥ 0, got " + overlap);
        this.tile = tile;
        this.overlap = overlap;
        this.flipTta = flipTta;
    }

    /** {@code predict}'s defaults: tile 512, overlap 64, no test-time augmentation. */
    public static SegmenterOptions defaults() { return DEFAULTS; }

    /**
     * Window size in pixels; at least {@link #MIN_TILE} and, when a {@link Segmenter} opens,
     * larger than {@link #overlap()}.
     *
     * @throws IllegalArgumentException when below {@link #MIN_TILE}
     */
    public SegmenterOptions withTile(int tile) { return new SegmenterOptions(tile, overlap, flipTta); }

    /**
     * Pixels that neighbouring windows share: at least 0 and, when a {@link Segmenter} opens,
     * smaller than {@link #tile()}.
     *
     * @throws IllegalArgumentException when negative
     */
    public SegmenterOptions withOverlap(int overlap) { return new SegmenterOptions(tile, overlap, flipTta); }

    /** Whether to average the outputs of the image and its horizontal and vertical flips. */
    public SegmenterOptions withFlipTta(boolean flipTta) { return new SegmenterOptions(tile, overlap, flipTta); }

    public int tile() { return tile; }

    public int overlap() { return overlap; }

    public boolean flipTta() { return flipTta; }

    @Override public boolean equals(Object o) {
        return o instanceof SegmenterOptions s && s.tile == tile && s.overlap == overlap && s.flipTta == flipTta;
    }

    @Override public int hashCode() { return (tile * 31 + overlap) * 2 + (flipTta ? 1 : 0); }

    @Override public String toString() {
        return "tile " + tile + ", overlap " + overlap + (flipTta ? ", flip TTA" : "");
    }
}
