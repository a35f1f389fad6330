package convunext.train;

import convunext.data.Batch;
import convunext.data.LabelMap;
import convunext.data.WholeImageBatches;
import convunext.eval.Predictions;
import convunext.data.Normalization;
import convunext.data.Resize;
import convunext.data.SampleCache;
import convunext.nn.ConvUNeXt;

/**
 * Validation after each epoch: whole images (tiled when large) in eval mode, arg-max labels, and
 * a confusion count per class pooled over all validation pixels (pixels labelled 255 or outside
 * the ROI excluded), giving Dice and IoU per class as the reference's evaluate() does. Weights
 * whose outputs are NaN or Inf (a diverged step) are reported, not scored as a label (the arg-max
 * of NaN probabilities is class 0, which scored as a Dice and could make them the best epoch).
 */
final class Validation {
    /** {@code nonFinite}: the first validation image whose class probabilities hold NaN or Inf (null: none). */
    record Scores(double[] dice, double[] iou, String nonFinite) {
        /** Mean over the foreground classes (all classes but 0). */
        double foregroundDice() { return fg(dice); }
        double foregroundIou() { return fg(iou); }

        private static double fg(double[] a) {
            double s = 0;
            for (int c = 1; c < a.length; c++) s += a[c];
            return s / (a.length - 1);
        }

        String summary() {
            StringBuilder b = new StringBuilder(String.format("val Dice %.4f IoU %.4f (per class:", foregroundDice(), foregroundIou()));
            for (int c = 0; c < dice.length; c++) b.append(String.format(" c%d %.3f/%.3f", c, dice[c], iou[c]));
            return b.append(")").toString();
        }
    }

    private Validation() {}

    /**
     * Scores at the scale {@code predict} and {@code evaluate} use by default for this run's
     * checkpoints ({@link InferenceScale#AUTO} with the run's {@code trained} scale): an image whose
     * short side lies outside the trained range is resized, its probabilities resized back and the
     * arg-max taken at native size, so best.safetensors is chosen at the scale it will be used at.
     * (Here the normalised image is resized, there the raw one: the same up to rounding.)
     */
    static Scores run(ConvUNeXt model, SampleCache data, Normalization norm, int tile, TrainingScale trained) {
        int k = model.config.numClasses();
        long[] tp = new long[k], fp = new long[k], fn = new long[k];
        int index = 0;
        String nonFinite = null;
        try (Predictor pred = new Predictor(model, tile, Math.min(tile / 4, 64), false)) {   // folds this epoch's weights
            for (WholeImageBatches it = new WholeImageBatches(data, norm); it.hasNext(); index++) {
                Batch b = it.next();   // one normalised image; targets with the ROI as 255
                int h = b.height(), w = b.width(), c = b.channels();
                int[] at = InferenceScale.AUTO.size(h, w, trained, "validation image " + data.sample(index).image(), Math.max(c, k));
                float[] probs;
                if (at[0] == h && at[1] == w) probs = pred.probabilities(b.images(), c, h, w);
                else probs = Resize.planes(pred.probabilities(Resize.planes(b.images(), c, h, w, at[0], at[1]), c, at[0], at[1]),
                        k, at[0], at[1], h, w);
                if (nonFinite == null && !allFinite(probs)) nonFinite = data.sample(index).image().toString();
                int[] p = Predictions.argmax(probs, 0, k, h, w).labels();
                int[] t = Predictions.targets(b, 0);
                for (int j = 0; j < t.length; j++) {
                    if (t[j] == LabelMap.IGNORE) continue;
                    if (p[j] == t[j]) tp[t[j]]++;
                    else { fp[p[j]]++; fn[t[j]]++; }
                }
            }
        }
        double[] dice = new double[k], iou = new double[k];
        for (int c = 0; c < k; c++) {
            double denom = 2.0 * tp[c] + fp[c] + fn[c];
            dice[c] = denom == 0 ? 1 : 2.0 * tp[c] / denom;
            iou[c] = tp[c] + fp[c] + fn[c] == 0 ? 1 : (double) tp[c] / (tp[c] + fp[c] + fn[c]);
        }
        return new Scores(dice, iou, nonFinite);
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) if (!Float.isFinite(v)) return false;
        return true;
    }
}
