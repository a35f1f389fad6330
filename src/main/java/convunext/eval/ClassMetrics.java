package convunext.eval;

/**
 * Metrics of one class on one image (pixels inside the ROI only). Counts are one-vs-rest for
 * class {@code cls}. See {@link SegMetrics} for the rules when a class is absent.
 */
public record ClassMetrics(int cls, long tp, long fp, long fn, long tn, double dice, double iou,
                           double precision, double recall, double specificity, double accuracy,
                           double hd95) {
    /** Metric names in CSV/JSON order. */
    public static final String[] NAMES = {"dice", "iou", "precision", "recall", "specificity", "accuracy", "hd95"};

    /** Metric values in {@link #NAMES} order. */
    public double[] values() { return new double[] {dice, iou, precision, recall, specificity, accuracy, hd95}; }
}
