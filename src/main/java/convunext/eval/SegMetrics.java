package convunext.eval;

import org.apache.commons.math3.stat.descriptive.rank.Percentile;


/**
 * Per-image, per-class segmentation metrics.
 *
 * <p>Only pixels inside the ROI count (the ROI is the optional {@code roi} mask, minus truth
 * pixels labelled 255 = ignore). For class c, a pixel is positive in the prediction (truth) when
 * it is inside the ROI and predicted (labelled) c; TP/FP/FN/TN are counted over ROI pixels.
 * <ul>
 *   <li>Dice = 2TP/(2TP+FP+FN); IoU = TP/(TP+FP+FN); both are 1 when the class is absent from
 *       prediction and truth (nothing to find, nothing found).</li>
 *   <li>precision = TP/(TP+FP), recall (sensitivity) = TP/(TP+FN), specificity = TN/(TN+FP);
 *       precision or recall 0/0 is 1 when prediction and truth are both empty and 0 otherwise
 *       (predicting nothing where there is something to find scores precision 0); specificity
 *       0/0 (no negatives) is 1.</li>
 *   <li>accuracy = (TP+TN)/(ROI pixels); 1 for an empty ROI.</li>
 *   <li>HD95: the boundary of a region is its pixels with at least one 4-neighbour outside it
 *       (outside the image or the ROI counts as outside). The symmetric surface distances are
 *       the Euclidean distances (in pixels, exact EDT) from every predicted boundary pixel to the
 *       nearest true boundary pixel, together with those from every true boundary pixel to the
 *       nearest predicted one; HD95 is their 95th percentile (linear interpolation, as numpy and
 *       medpy's hd95). Both regions empty: HD95 = 0. Exactly one empty: HD95 = the image diagonal
 *       √(H²+W²), the largest distance possible in the image, so the image still counts (and
 *       counts badly) in the mean.</li>
 * </ul>
 */
public final class SegMetrics {
    private SegMetrics() {}

    /**
     * Metrics for classes 0..numClasses−1. {@code pred} and {@code truth} are [h·w] class indices
     * (truth may hold 255 = ignore); {@code roi} may be null (whole image).
     */
    public static ClassMetrics[] compute(int[] pred, int[] truth, boolean[] roi, int h, int w, int numClasses) {
        int n = h * w;
        if (pred.length != n || truth.length != n || (roi != null && roi.length != n))
            throw new IllegalArgumentException("SegMetrics: pred " + pred.length + ", truth " + truth.length
                    + (roi == null ? "" : ", roi " + roi.length) + " pixels for a " + h + "x" + w + " image");
        boolean[] in = new boolean[n];
        for (int i = 0; i < n; i++) in[i] = (roi == null || roi[i]) && truth[i] != 255;
        ClassMetrics[] out = new ClassMetrics[numClasses];
        boolean[] p = new boolean[n], t = new boolean[n];
        for (int c = 0; c < numClasses; c++) {
            long tp = 0, fp = 0, fn = 0, tn = 0;
            for (int i = 0; i < n; i++) {
                if (!in[i]) { p[i] = false; t[i] = false; continue; }
                int pv = pred[i], tv = truth[i];
                if (pv < 0 || pv >= numClasses)
                    throw new IllegalArgumentException("SegMetrics: predicted class " + pv + " at pixel " + i
                            + " outside 0.." + (numClasses - 1));
                if (tv < 0 || tv >= numClasses)
                    throw new IllegalArgumentException("SegMetrics: true class " + tv + " at pixel " + i
                            + " outside 0.." + (numClasses - 1) + " (and not 255)");
                p[i] = pv == c;
                t[i] = tv == c;
                if (p[i] && t[i]) tp++;
                else if (p[i]) fp++;
                else if (t[i]) fn++;
                else tn++;
            }
            out[c] = fromCounts(c, tp, fp, fn, tn, hd95(p, t, h, w));
        }
        return out;
    }

    /** The ratio metrics from counts (HD95 supplied), with the empty-case rules above. */
    public static ClassMetrics fromCounts(int c, long tp, long fp, long fn, long tn, double hd95) {
        double dice = ratio(2 * tp, 2 * tp + fp + fn, 1);
        double iou = ratio(tp, tp + fp + fn, 1);
        double precision = ratio(tp, tp + fp, fn == 0 ? 1 : 0); // 0/0 here means tp = fp = 0
        double recall = ratio(tp, tp + fn, fp == 0 ? 1 : 0);
        double specificity = ratio(tn, tn + fp, 1);
        double accuracy = ratio(tp + tn, tp + fp + fn + tn, 1);
        return new ClassMetrics(c, tp, fp, fn, tn, dice, iou, precision, recall, specificity, accuracy, hd95);
    }

    private static double ratio(long num, long den, double whenZero) {
        return den == 0 ? whenZero : (double) num / den;
    }

    /** HD95 between two binary regions of an [h,w] image (rules in the class comment). */
    public static double hd95(boolean[] a, boolean[] b, int h, int w) {
        boolean[] ba = boundary(a, h, w), bb = boundary(b, h, w);
        int na = count(ba), nb = count(bb);
        if (na == 0 && nb == 0) return 0;
        if (na == 0 || nb == 0) return Math.sqrt((double) h * h + (double) w * w);
        double[] toB = DistanceTransform.squared(bb, h, w);
        double[] toA = DistanceTransform.squared(ba, h, w);
        double[] d = new double[na + nb];
        int k = 0;
        for (int i = 0; i < ba.length; i++) if (ba[i]) d[k++] = Math.sqrt(toB[i]);
        for (int i = 0; i < bb.length; i++) if (bb[i]) d[k++] = Math.sqrt(toA[i]);
        return percentile(d, 95);
    }

    /** Region pixels with a 4-neighbour outside the region or outside the image. */
    public static boolean[] boundary(boolean[] m, int h, int w) {
        boolean[] b = new boolean[m.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                if (!m[i]) continue;
                b[i] = y == 0 || y == h - 1 || x == 0 || x == w - 1
                        || !m[i - w] || !m[i + w] || !m[i - 1] || !m[i + 1];
            }
        }
        return b;
    }

    /** numpy.percentile with linear interpolation (Hyndman–Fan type 7, R's default). */
    public static double percentile(double[] v, double q) {
        if (v.length == 0) throw new IllegalArgumentException("percentile of no values");
        return new Percentile().withEstimationType(Percentile.EstimationType.R_7).evaluate(v, q);
    }

    private static int count(boolean[] m) {
        int n = 0;
        for (boolean x : m) if (x) n++;
        return n;
    }
}
