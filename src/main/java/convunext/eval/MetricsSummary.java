package convunext.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.StandardDeviation;

/**
 * Aggregation over images: per class, the mean and (population) std over images of every metric,
 * and pooled counts with the Dice/IoU they give (all pixels of all images as one); plus the mean
 * over the foreground classes 1..K−1 of the per-class means.
 */
public final class MetricsSummary {
    /** Rules behind the numbers, written into the summary JSON (and usable in a README). */
    public static final String RULES = "Pixels outside the ROI (field-of-view mask) or labelled 255 are excluded. "
            + "Per image and class (one-vs-rest): Dice=2TP/(2TP+FP+FN), IoU=TP/(TP+FP+FN); both 1 when the class is "
            + "absent from prediction and truth. Precision or recall 0/0: 1 if prediction and truth are both empty, "
            + "else 0; specificity 0/0: 1. HD95: 95th percentile (linear interpolation) of the symmetric distances, "
            + "in pixels, between predicted and true boundary pixels (4-neighbour boundary, exact Euclidean distance "
            + "transform); 0 when both are empty, the image diagonal sqrt(H^2+W^2) when exactly one is empty. "
            + "Summary: mean and std over images; pooled = counts summed over images.";

    private final int numClasses;
    private final List<ImageMetrics> images = new ArrayList<>();

    public MetricsSummary(int numClasses) { this.numClasses = numClasses; }

    public void add(ImageMetrics m) {
        if (m.classes().length != numClasses)
            throw new IllegalArgumentException("MetricsSummary: image " + m.id() + " has " + m.classes().length
                    + " classes, expected " + numClasses);
        images.add(m);
    }

    public List<ImageMetrics> images() { return List.copyOf(images); }
    public int numClasses() { return numClasses; }

    /** Mean over images of metric {@code name} for class {@code c}. */
    public double mean(int c, String name) { return stats(c, index(name))[0]; }

    /** Population std over images of metric {@code name} for class {@code c}. */
    public double std(int c, String name) { return stats(c, index(name))[1]; }

    /** Mean over foreground classes (1..K−1) of the per-class means. */
    public double foregroundMean(String name) {
        double s = 0;
        for (int c = 1; c < numClasses; c++) s += mean(c, name);
        return s / (numClasses - 1);
    }

    /** Dice from counts pooled over all images. */
    public double pooledDice(int c) {
        long[] k = pooled(c);
        return SegMetrics.fromCounts(c, k[0], k[1], k[2], k[3], 0).dice();
    }

    private long[] pooled(int c) {
        long[] k = new long[4];
        for (ImageMetrics m : images) {
            ClassMetrics x = m.classes()[c];
            k[0] += x.tp(); k[1] += x.fp(); k[2] += x.fn(); k[3] += x.tn();
        }
        return k;
    }

    private double[] stats(int c, int metric) {
        if (images.isEmpty()) return new double[] {Double.NaN, Double.NaN};
        double[] v = new double[images.size()];
        for (int i = 0; i < v.length; i++) v[i] = images.get(i).classes()[c].values()[metric];
        return new double[] {new Mean().evaluate(v), new StandardDeviation(false).evaluate(v)};   // population std
    }

    private static int index(String name) {
        for (int i = 0; i < ClassMetrics.NAMES.length; i++) if (ClassMetrics.NAMES[i].equals(name)) return i;
        throw new IllegalArgumentException("unknown metric " + name + "; known: " + String.join(", ", ClassMetrics.NAMES));
    }

    /** The summary as a JSON-ready map; {@code extra} (may be null) is added first (model, data, …). */
    public Map<String, Object> toMap(Map<String, Object> extra) {
        Map<String, Object> root = new LinkedHashMap<>();
        if (extra != null) root.putAll(extra);
        root.put("images", images.size());
        root.put("classes", numClasses);
        Map<String, Object> fg = new LinkedHashMap<>();
        for (String n : ClassMetrics.NAMES) fg.put(n, images.isEmpty() ? Double.NaN : foregroundMean(n));
        root.put("mean_foreground", fg);
        List<Object> per = new ArrayList<>();
        for (int c = 0; c < numClasses; c++) {
            Map<String, Object> pc = new LinkedHashMap<>(), mean = new LinkedHashMap<>(), std = new LinkedHashMap<>();
            for (int i = 0; i < ClassMetrics.NAMES.length; i++) {
                double[] st = stats(c, i);
                mean.put(ClassMetrics.NAMES[i], st[0]);
                std.put(ClassMetrics.NAMES[i], st[1]);
            }
            long[] k = pooled(c);
            ClassMetrics p = SegMetrics.fromCounts(c, k[0], k[1], k[2], k[3], Double.NaN);
            Map<String, Object> pool = new LinkedHashMap<>();
            pool.put("tp", k[0]); pool.put("fp", k[1]); pool.put("fn", k[2]); pool.put("tn", k[3]);
            pool.put("dice", p.dice()); pool.put("iou", p.iou()); pool.put("precision", p.precision());
            pool.put("recall", p.recall()); pool.put("specificity", p.specificity()); pool.put("accuracy", p.accuracy());
            pc.put("class", c);
            pc.put("mean", mean);
            pc.put("std", std);
            pc.put("pooled", pool);
            per.add(pc);
        }
        root.put("per_class", per);
        root.put("rules", RULES);
        return root;
    }
}
