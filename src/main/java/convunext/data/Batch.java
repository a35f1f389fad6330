package convunext.data;

import java.util.List;

/**
 * A batch ready for the model: {@code images} [B,C,H,W] normalised, {@code targets} [B,H,W]
 * class indices as floats with 255 = ignore (null for unlabelled images), {@code ids} the sample
 * ids in batch order.
 */
public record Batch(int size, int channels, int height, int width, float[] images, float[] targets,
                    List<String> ids) {
    public Batch {
        long n = (long) size * channels * height * width;
        if (images.length != n)
            throw new IllegalArgumentException("Batch: images length " + images.length + " != " + size + "*"
                    + channels + "*" + height + "*" + width);
        if (targets != null && targets.length != (long) size * height * width)
            throw new IllegalArgumentException("Batch: targets length " + targets.length + " != " + size + "*"
                    + height + "*" + width);
        if (ids.size() != size) throw new IllegalArgumentException("Batch: " + ids.size() + " ids for " + size + " images");
        ids = List.copyOf(ids);
    }

    public int[] imageShape() { return new int[] {size, channels, height, width}; }

    public int[] targetShape() { return new int[] {size, height, width}; }
}
