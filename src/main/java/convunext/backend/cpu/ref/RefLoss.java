package convunext.backend.cpu.ref;

import convunext.backend.Backend;
import convunext.backend.OpShapes;
/**
 * The training loss in float64, exactly as {@code loss_fn} of reference/convunext_torch.py
 * and {@code Backend.ceDiceLoss}: cross-entropy (mean over non-ignored pixels, ignore index 255)
 * plus 1 − mean over classes of soft Dice. Soft Dice per image i and class c over the kept
 * pixels: I = Σ p·t, S = Σ p + Σ t, and S is replaced by 2·I when S = 0 (an image with no kept
 * pixel); d = (2I + 1e-6)/(S + 1e-6); averaged over images, then over classes.
 */
public final class RefLoss {
    private RefLoss() {}

    public static final double SMOOTH = 1e-6;

    /**
     * loss = ce + dice, where {@code dice} is the Dice term 1 − mean soft Dice (not the mean Dice
     * coefficient itself); dlogits = d loss / d logits [N,K,H,W].
     */
    public record Result(double loss, double ce, double dice, D dlogits) {}

    /**
     * logits [N,K,H,W]; target [N,H,W] holding class indices as doubles (255 = ignored).
     * With no kept pixel at all PyTorch's CE is 0/0 = NaN; here the CE term and its gradient are
     * then 0 (a deliberate choice so an all-ignored batch does not poison training).
     */
    public static Result ceDiceLoss(D logits, D target) {
        String op = "ceDiceLoss";
        OpShapes.ceDiceLoss(logits.shape, target.shape);
        int n = logits.dim(0), k = logits.dim(1), h = logits.dim(2), w = logits.dim(3), hw = h * w;

        // Per-pixel class (−1 = ignored) and softmax probabilities.
        int[] cls = new int[n * hw];
        int kept = 0;
        for (int i = 0; i < cls.length; i++) {
            double t = target.data[i];
            if (t == Backend.IGNORE_INDEX) { cls[i] = -1; continue; }
            D.require(t == Math.rint(t) && t >= 0 && t < k, op, "target value " + t + " at flat index " + i
                    + " is neither a class in [0," + k + ") nor " + Backend.IGNORE_INDEX);
            cls[i] = (int) t;
            kept++;
        }
        D prob = new D(logits.shape);
        double ceSum = 0;
        for (int in = 0; in < n; in++)
            for (int p = 0; p < hw; p++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) max = Math.max(max, logits.data[(in * k + c) * hw + p]);
                double z = 0;
                for (int c = 0; c < k; c++) z += Math.exp(logits.data[(in * k + c) * hw + p] - max);
                for (int c = 0; c < k; c++) {
                    int i = (in * k + c) * hw + p;
                    prob.data[i] = Math.exp(logits.data[i] - max) / z;
                }
                int t = cls[in * hw + p];
                if (t >= 0) ceSum += max + Math.log(z) - logits.data[(in * k + t) * hw + p];
            }
        double ce = kept == 0 ? 0 : ceSum / kept;

        // Dice: value and d loss / d d_{i,c} = −1/(N·K), pushed back to the probabilities.
        D dprob = new D(logits.shape);
        double diceSum = 0;
        double dd = -1.0 / ((double) n * k);
        for (int c = 0; c < k; c++)
            for (int in = 0; in < n; in++) {
                double inter = 0, sp = 0, st = 0;
                for (int p = 0; p < hw; p++) {
                    int t = cls[in * hw + p];
                    if (t < 0) continue;
                    double pr = prob.data[(in * k + c) * hw + p];
                    sp += pr;
                    if (t == c) { inter += pr; st += 1; }
                }
                boolean empty = sp + st == 0;
                double sets = empty ? 2 * inter : sp + st;
                double den = sets + SMOOTH, num = 2 * inter + SMOOTH;
                diceSum += num / den;
                // d d / d I and d d / d Σp (S = Σp + Σt unless replaced by 2I).
                double dI = 2 / den - (empty ? 2 * num / (den * den) : 0);
                double dSp = empty ? 0 : -num / (den * den);
                for (int p = 0; p < hw; p++) {
                    int t = cls[in * hw + p];
                    if (t < 0) continue;
                    dprob.data[(in * k + c) * hw + p] = dd * (dSp + (t == c ? dI : 0));
                }
            }
        double dice = 1 - diceSum / ((double) n * k);

        // Through the softmax (dz = p⊙(g − Σ p·g)), plus CE's (p − onehot)/kept.
        D dl = new D(logits.shape);
        for (int in = 0; in < n; in++)
            for (int p = 0; p < hw; p++) {
                int t = cls[in * hw + p];
                if (t < 0) continue;
                double s = 0;
                for (int c = 0; c < k; c++) {
                    int i = (in * k + c) * hw + p;
                    s += prob.data[i] * dprob.data[i];
                }
                for (int c = 0; c < k; c++) {
                    int i = (in * k + c) * hw + p;
                    double g = prob.data[i] * (dprob.data[i] - s);
                    g += (prob.data[i] - (t == c ? 1 : 0)) / kept;
                    dl.data[i] = g;
                }
            }
        return new Result(ce + dice, ce, dice, dl);
    }
}
