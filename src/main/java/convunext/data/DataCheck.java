package convunext.data;

import java.util.Locale;
import java.util.TreeSet;

/**
 * Reads every sample of a data set once and summarises it: counts, size range, channels, mask
 * values and class balance (inside the ROI). Stops with a {@link DataException} naming the file
 * at the first missing or mismatched mask, bad mask value, unreadable or too-small image.
 */
public final class DataCheck {
    private DataCheck() {}

    /** The printable outcome of a check. */
    public record Report(String split, int images, int withMask, int withRoi, int minWidth, int maxWidth,
                         int minHeight, int maxHeight, TreeSet<Integer> channels, long[] classPixels,
                         long ignoredPixels) {
        /** Fraction of labelled (in-ROI) pixels per class. */
        public double[] classFractions() {
            long total = 0;
            for (long n : classPixels) total += n;
            double[] f = new double[classPixels.length];
            for (int k = 0; k < f.length; k++) f[k] = total == 0 ? 0 : (double) classPixels[k] / total;
            return f;
        }

        @Override public String toString() {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "split %s: %d images, %d with masks, %d with ROI masks%n",
                    split, images, withMask, withRoi));
            b.append(String.format(Locale.ROOT, "  size: width %d..%d, height %d..%d; channels %s%n",
                    minWidth, maxWidth, minHeight, maxHeight, channels));
            if (withMask > 0) {
                double[] f = classFractions();
                b.append("  class balance (labelled pixels):");
                for (int k = 0; k < f.length; k++)
                    b.append(String.format(Locale.ROOT, " %d: %d (%.2f%%)", k, classPixels[k], 100 * f[k]));
                b.append(String.format(Locale.ROOT, "%n  pixels ignored (outside the ROI or labelled 255): %d%n", ignoredPixels));
                StringBuilder absent = new StringBuilder();
                for (int k = 0; k < classPixels.length; k++) if (classPixels[k] == 0) absent.append(absent.length() > 0 ? ", " : "").append(k);
                if (absent.length() > 0)
                    b.append("  warning: class(es) ").append(absent).append(" never occur in these masks (is --classes "
                            + classPixels.length + " right?)").append(System.lineSeparator());
            }
            return b.toString();
        }
    }

    public static Report run(Dataset ds, int numClasses, int channels, int minSize) {
        int withMask = 0, withRoi = 0;
        int minW = Integer.MAX_VALUE, maxW = 0, minH = Integer.MAX_VALUE, maxH = 0;
        TreeSet<Integer> chans = new TreeSet<>();
        long[] classPixels = new long[numClasses];
        long ignored = 0;
        for (Sample s : ds.samples()) {
            LoadedSample ls = LoadedSample.load(s, numClasses, 0, minSize);
            FloatImage img = ls.image();
            if (channels > 0) LoadedSample.toChannels(img, channels, "image " + s.image());   // the rule training and inference apply
            chans.add(img.channels());
            minW = Math.min(minW, img.width()); maxW = Math.max(maxW, img.width());
            minH = Math.min(minH, img.height()); maxH = Math.max(maxH, img.height());
            if (ls.roi() != null) withRoi++;
            if (ls.labels() != null) {
                withMask++;
                int[] t = ls.targets().labels();
                for (int v : t) {
                    if (v == LabelMap.IGNORE) ignored++;
                    else classPixels[v]++;
                }
            }
        }
        return new Report(ds.split(), ds.size(), withMask, withRoi, minW, maxW, minH, maxH, chans, classPixels, ignored);
    }
}
