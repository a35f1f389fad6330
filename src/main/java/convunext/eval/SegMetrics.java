package convunext.eval;

import convunext.data.DataException;
import convunext.data.LabelMap;
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
 *
 * <p>An image with no pixel to score at all (an ROI with nothing inside, or a truth mask 255
 * everywhere inside the ROI) would get every empty case above, a perfect image; callers refuse it
 * first with {@link #requireScoredPixels}, the one rule of {@code evaluate} and the Spark job. A
 * truth with no foreground inside the ROI is not such an image: every pixel is a scored negative.
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

    /**
     * Refuses, naming the file to blame, an image with no pixel to score: an ROI with nothing
     * inside (an all-black field-of-view mask), or a truth mask whose every pixel in the field of
     * view is 255 (ignore; a 0/255 mask saved as 16 bits reads so). Every metric of such an image
     * is its empty case (Dice, IoU and accuracy 1, HD95 0), so it counted as a perfect image and
     * lifted the averages (one black ROI among four images: mean Dice 0.30 read as 0.48).
     *
     * @param truth   [h·w] class indices, 255 = ignore
     * @param roi     the field of view, or null (the whole image)
     * @param image   the image's name, {@code mask} and {@code roiFile} (null without an ROI) those of its masks
     * @throws DataException naming the ROI mask (nothing inside) or the truth mask (all ignore)
     */
    public static void requireScoredPixels(int[] truth, boolean[] roi, String image, String mask, String roiFile) {
        boolean anyInside = roi == null;
        for (int i = 0; i < truth.length; i++) {
            if (roi != null && !roi[i]) continue;
            anyInside = true;
            if (truth[i] != LabelMap.IGNORE) return;
        }
        throw new DataException("image " + image + " has no pixel to score: " + (anyInside
                ? "its mask " + mask + " is " + LabelMap.IGNORE + " (ignore) everywhere" + (roi == null ? "" : " inside the ROI")
                : "its ROI mask " + roiFile + " is empty (0 everywhere)")
                + "; scoring it would count it as a perfect image");
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
