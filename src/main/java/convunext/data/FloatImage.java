package convunext.data;

/**
 * An image as float planes [C,H,W] (channel-major), values on the 0..255 scale of the file
 * (16-bit files are rescaled to 0..255). C is 1 (gray) or 3 (RGB); alpha is dropped on reading.
 */
public record FloatImage(int channels, int height, int width, float[] data) {
    public FloatImage {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new IllegalArgumentException("FloatImage: bad shape [" + channels + "," + height + "," + width + "]");
        if (data.length != (long) channels * height * width)
            throw new IllegalArgumentException("FloatImage: data length " + data.length + " != "
                    + channels + "*" + height + "*" + width);
    }

    public float get(int c, int y, int x) { return data[(c * height + y) * width + x]; }

    public int pixels() { return height * width; }
}
