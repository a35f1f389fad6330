package convunext.train;

import convunext.backend.Backend;
import convunext.nn.ConvUNeXt;
import convunext.tensor.Tensor;

/**
 * Eval-mode inference on an image of any size with bounded memory: overlapping square windows
 * ({@code tile} pixels, stepping by tile − overlap), each window's softmax probabilities blended
 * with a weight that ramps linearly to a small value at the window's edges (so seams vanish), and
 * optional flip test-time augmentation (mean of identity, horizontal and vertical flips).
 * Images at most one tile in size go through whole. Sides below {@link ConvUNeXt#MIN_SIDE} are
 * refused by the model with the minimum in the message.
 *
 * <p>Every window runs the model's eval forward with BatchNorm (and each Up block's linear2) folded
 * into the neighbouring weights ({@link convunext.nn.InferenceModel}, on every backend: plain weight
 * arithmetic, one re-rounding per folded layer; against the float64 oracle within 2× the unfolded
 * eval forward's own error, InferenceModelTest), a
 * snapshot of the weights taken at the first window: make a new Predictor after they change, and
 * close it to release the folded weights.
 */
public final class Predictor implements AutoCloseable {
    private final ConvUNeXt model;
    private final int tile, overlap;
    private final boolean tta;
    private convunext.nn.InferenceModel folded;   // BatchNorm folded in: made at the first window

    public Predictor(ConvUNeXt model, int tile, int overlap, boolean tta) {
        checkSettings(tile, overlap);
        this.model = model;
        this.tile = tile;
        this.overlap = overlap;
        this.tta = tta;
    }

    /**
     * The overlap to run with: the one given, else 64, or tile/4 where 64 would not be below the
     * tile. Tile 64, the smallest the model takes, was refused over an overlap nobody gave
     * ("--overlap must be in [0, 64), got 64"); tile/4 is what train's validation uses there. The
     * one rule of predict's and evaluate's --overlap, the Spark job's and {@code SegmenterOptions}
     * (an overlap given is returned as it is and checked by {@link #checkSettings}).
     */
    public static int overlap(Integer given, int tile) {
        if (given != null) return given;
        return tile > 64 ? 64 : tile / 4;
    }

    /** Refuses a tile below the model's minimum side or an overlap outside [0, tile) (messages name the flags). */
    public static void checkSettings(int tile, int overlap) {
        if (tile < ConvUNeXt.MIN_SIDE)
            throw new IllegalArgumentException("--tile must be ≥ " + ConvUNeXt.MIN_SIDE + " (the model's smallest input side), got " + tile);
        if (overlap < 0 || overlap >= tile)
            throw new IllegalArgumentException("--overlap must be in [0, --tile) = [0, " + tile + "), got " + overlap);
    }

    /** Class probabilities [K,H,W] for a normalised image [C,H,W]. */
    public float[] probabilities(float[] image, int c, int h, int w) {
        int k = model.config.numClasses();
        float[] acc = new float[k * h * w];
        float[] wsum = new float[h * w];
        int th = Math.min(tile, h), tw = Math.min(tile, w);
        int[] ys = starts(h, th), xs = starts(w, tw);
        float[] win = new float[c * th * tw];
        float[] ramp = weights(th, tw, ys.length > 1, xs.length > 1);
        for (int y0 : ys) {
            for (int x0 : xs) {
                for (int ch = 0; ch < c; ch++)
                    for (int y = 0; y < th; y++)
                        System.arraycopy(image, (ch * h + y0 + y) * w + x0, win, (ch * th + y) * tw, tw);
                float[] p = windowProbs(win, c, th, tw);
                for (int cl = 0; cl < k; cl++)
                    for (int y = 0; y < th; y++)
                        for (int x = 0; x < tw; x++) {
                            float wt = ramp[y * tw + x];
                            acc[(cl * h + y0 + y) * w + x0 + x] += wt * p[(cl * th + y) * tw + x];
                        }
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++) wsum[(y0 + y) * w + x0 + x] += ramp[y * tw + x];
            }
        }
        for (int cl = 0; cl < k; cl++)
            for (int i = 0; i < h * w; i++) acc[cl * h * w + i] /= wsum[i];
        return acc;
    }

    /** Window origins covering [0, n) with windows of size t and at least {@code overlap} shared. */
    int[] starts(int n, int t) {
        if (n <= t) return new int[] {0};
        int step = t - overlap;
        int count = (n - t + step - 1) / step + 1;
        int[] s = new int[count];
        for (int i = 0; i < count; i++) s[i] = (int) Math.round((double) i * (n - t) / (count - 1));
        return s;
    }

    /** Blend weights: 1 in the middle, falling linearly to 1/(ramp+1) over the overlap at each edge. */
    private float[] weights(int th, int tw, boolean rampY, boolean rampX) {
        float[] wgt = new float[th * tw];
        int r = Math.max(1, overlap);
        for (int y = 0; y < th; y++) {
            float wy = rampY ? Math.min(1f, (Math.min(y, th - 1 - y) + 1f) / (r + 1f)) : 1f;
            for (int x = 0; x < tw; x++) {
                float wx = rampX ? Math.min(1f, (Math.min(x, tw - 1 - x) + 1f) / (r + 1f)) : 1f;
                wgt[y * tw + x] = wy * wx;
            }
        }
        return wgt;
    }

    private float[] windowProbs(float[] win, int c, int h, int w) {
        float[] p = softmax(logits(win, c, h, w), h * w);
        if (!tta) return p;
        for (int flip = 1; flip <= 2; flip++) {
            float[] q = softmax(logits(flip(win, c, h, w, flip), c, h, w), h * w);
            q = flip(q, q.length / (h * w), h, w, flip);
            for (int i = 0; i < p.length; i++) p[i] += q[i];
        }
        for (int i = 0; i < p.length; i++) p[i] /= 3f;
        return p;
    }

    private float[] logits(float[] win, int c, int h, int w) {
        Backend be = model.backend();
        if (folded == null) folded = convunext.nn.InferenceModel.of(model);
        Tensor x = be.upload(win, 1, c, h, w);
        try {
            return foldedLogits(folded, be, x);
        } finally {
            be.release(x);
        }
    }

    /**
     * Logits of {@code images} through the folded model, downloaded; repeated windows of one shape
     * are captured and replayed as one step (as {@link TrainStep#inferLogits} does).
     */
    public static float[] foldedLogits(convunext.nn.InferenceModel im, Backend be, Tensor images) {
        Tensor logits;
        try (Backend.StepScope s = be.step("infer folded " + java.util.Arrays.toString(images.shape()))) {
            logits = im.forward(images);
        }
        try {
            return be.download(logits);
        } finally {
            be.release(logits);
        }
    }

    /** Releases the folded weights (the model stays the caller's). */
    @Override public void close() {
        if (folded != null) folded.close();
        folded = null;
    }

    /** flip 1: horizontal (x), 2: vertical (y); planes [C,H,W]. */
    static float[] flip(float[] a, int planes, int h, int w, int flip) {
        float[] b = new float[a.length];
        for (int p = 0; p < planes; p++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int sy = flip == 2 ? h - 1 - y : y, sx = flip == 1 ? w - 1 - x : x;
                    b[(p * h + y) * w + x] = a[(p * h + sy) * w + sx];
                }
        return b;
    }

    /** Softmax over classes of logits [K,HW] (one image), in place; returns it. */
    static float[] softmax(float[] logits, int hw) {
        int k = logits.length / hw;
        for (int i = 0; i < hw; i++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) m = Math.max(m, logits[c * hw + i]);
            double s = 0;
            for (int c = 0; c < k; c++) s += Math.exp(logits[c * hw + i] - m);
            for (int c = 0; c < k; c++) logits[c * hw + i] = (float) (Math.exp(logits[c * hw + i] - m) / s);
        }
        return logits;
    }
}
