package convunext.data;

/** Per-pixel integer labels [H,W] (row-major): class indices, or 255 for "ignore". */
public record LabelMap(int height, int width, int[] labels) {
    /** The ignore label used throughout (matches the loss's ignore index). */
    public static final int IGNORE = 255;

    public LabelMap {
        if (height <= 0 || width <= 0)
            throw new IllegalArgumentException("LabelMap: bad shape [" + height + "," + width + "]");
        if (labels.length != (long) height * width)
            throw new IllegalArgumentException("LabelMap: labels length " + labels.length + " != " + height + "*" + width);
    }

    public int get(int y, int x) { return labels[y * width + x]; }

    public int pixels() { return height * width; }
}
