package convunext.eval;

import convunext.data.Batch;
import convunext.data.LabelMap;

/** Turning model output into labels, and batch targets back into label arrays. */
public final class Predictions {
    private Predictions() {}

    /**
     * Arg-max over classes of image {@code n} of logits [N,K,H,W] (first maximum wins on ties,
     * as torch.argmax).
     */
    public static LabelMap argmax(float[] logits, int n, int k, int h, int w) {
        int hw = h * w;
        if (logits.length < (long) (n + 1) * k * hw)
            throw new IllegalArgumentException("argmax: logits length " + logits.length + " too short for image "
                    + n + " of [?," + k + "," + h + "," + w + "]");
        int base = n * k * hw;
        int[] out = new int[hw];
        for (int i = 0; i < hw; i++) {
            float best = logits[base + i];
            int arg = 0;
            for (int c = 1; c < k; c++) {
                float v = logits[base + c * hw + i];
                if (v > best) { best = v; arg = c; }
            }
            out[i] = arg;
        }
        return new LabelMap(h, w, out);
    }

    /** Image {@code n}'s targets of a batch as int labels (255 = ignore). */
    public static int[] targets(Batch b, int n) {
        if (b.targets() == null) throw new IllegalArgumentException("batch has no targets (unlabelled images)");
        int hw = b.height() * b.width();
        int[] t = new int[hw];
        for (int i = 0; i < hw; i++) t[i] = (int) b.targets()[n * hw + i];
        return t;
    }
}
