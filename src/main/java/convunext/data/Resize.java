package convunext.data;

/**
 * Bilinear resizing for inference at the training scale, with the training pipeline's sampling
 * ({@link Augmenter#axis}): half-pixel centres (PyTorch's {@code F.interpolate(mode="bilinear",
 * align_corners=False)}, no antialiasing), source positions below 0 clamped to 0, the right/bottom
 * neighbour clamped to the edge. So an image resized here and normalised holds the same bits as
 * the training crop of that image resized to the same size.
 *
 * <p>Used twice per image: the input image to the inference size, and the model's class
 * probabilities [K,h',w'] back to the native size (a convex combination per pixel, so the
 * probabilities still sum to 1 up to rounding), whose arg-max is then taken at native size.
 */
public final class Resize {
    private Resize() {}

    /** {@code img} resized to {@code rh}×{@code rw}; the same image when the size is unchanged. */
    public static FloatImage bilinear(FloatImage img, int rh, int rw) {
        if (rh == img.height() && rw == img.width()) return img;
        return new FloatImage(img.channels(), rh, rw, planes(img.data(), img.channels(), img.height(), img.width(), rh, rw));
    }

    /** {@code c} planes [c,h,w] resized to [c,rh,rw]. */
    public static float[] planes(float[] src, int c, int h, int w, int rh, int rw) {
        if (rh <= 0 || rw <= 0) throw new IllegalArgumentException("Resize: bad target size " + rw + "×" + rh);
        int[] y0 = new int[rh], y1 = new int[rh], ny = new int[rh];
        int[] x0 = new int[rw], x1 = new int[rw], nx = new int[rw];
        float[] fy = new float[rh], fx = new float[rw];
        Augmenter.axis(0, rh, h, false, y0, y1, fy, ny);
        Augmenter.axis(0, rw, w, false, x0, x1, fx, nx);
        float[] out = new float[Math.multiplyExact(Math.multiplyExact(c, rh), rw)];
        for (int ch = 0; ch < c; ch++) {
            int base = ch * h * w, o = ch * rh * rw;
            for (int i = 0; i < rh; i++) {
                int r0 = base + y0[i] * w, r1 = base + y1[i] * w;
                for (int j = 0; j < rw; j++) {
                    // The arithmetic of Augmenter.apply, term for term.
                    float top = src[r0 + x0[j]] + (src[r0 + x1[j]] - src[r0 + x0[j]]) * fx[j];
                    float bot = src[r1 + x0[j]] + (src[r1 + x1[j]] - src[r1 + x0[j]]) * fx[j];
                    out[o + i * rw + j] = top + (bot - top) * fy[i];
                }
            }
        }
        return out;
    }
}
