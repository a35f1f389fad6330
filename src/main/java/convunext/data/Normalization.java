package convunext.data;

import java.util.Arrays;
import java.util.List;

/**
 * Per-channel mean and standard deviation on the 0..1 scale, applied as
 * {@code (x/255 − mean)/std} (torchvision's ToTensor + Normalize).
 */
public record Normalization(float[] mean, float[] std) {
    public Normalization {
        if (mean.length != std.length || mean.length == 0)
            throw new IllegalArgumentException("Normalization: mean " + Arrays.toString(mean) + " and std "
                    + Arrays.toString(std) + " must be non-empty and the same length");
        for (float s : std) if (!(s > 0)) throw new IllegalArgumentException("Normalization: std must be > 0: " + Arrays.toString(std));
        mean = mean.clone();
        std = std.clone();
    }

    public int channels() { return mean.length; }

    /** Identity-like statistics (mean 0, std 1): plain x/255. */
    public static Normalization unit(int channels) {
        float[] m = new float[channels], s = new float[channels];
        Arrays.fill(s, 1f);
        return new Normalization(m, s);
    }

    /** Normalises {@code img} into {@code dst} at {@code off} as [C,H,W]. */
    public void apply(FloatImage img, float[] dst, int off) {
        check(img.channels());
        int n = img.pixels();
        float[] src = img.data();
        for (int c = 0; c < img.channels(); c++) {
            float m = mean[c], inv = 1f / std[c];
            for (int i = 0; i < n; i++) dst[off + c * n + i] = (src[c * n + i] / 255f - m) * inv;
        }
    }

    void check(int channels) {
        if (channels != mean.length)
            throw new IllegalArgumentException("Normalization: image has " + channels + " channels, statistics have " + mean.length);
    }

    /**
     * Mean and std per channel of the training images, as the reference's compute_mean_std does:
     * for each image, the mean and population std of its pixels (inside its ROI when it has one),
     * then both averaged over images. (The average of per-image stds is smaller than the std of
     * all pixels pooled; matching the reference keeps its published statistics: DRIVE gives
     * mean ≈ (0.709, 0.381, 0.224), std ≈ (0.127, 0.079, 0.043).)
     */
    public static Normalization compute(List<LoadedSample> samples) {
        if (samples.isEmpty()) throw new DataException("cannot compute mean/std: no training images");
        int c = samples.get(0).image().channels();
        double[] meanSum = new double[c], stdSum = new double[c];
        for (LoadedSample s : samples) {
            FloatImage img = s.image();
            if (img.channels() != c)
                throw new DataException("image " + s.sample().image() + " has " + img.channels()
                        + " channels, the first training image has " + c);
            int n = img.pixels();
            boolean[] roi = s.roi();
            long count = 0;
            if (roi == null) count = n;
            else for (boolean r : roi) if (r) count++;
            if (count == 0) throw new DataException("ROI mask " + s.sample().roi() + " is empty");
            for (int k = 0; k < c; k++) {
                double a = 0;
                for (int i = 0; i < n; i++) if (roi == null || roi[i]) a += img.data()[k * n + i] / 255.0;
                double m = a / count, b = 0;
                for (int i = 0; i < n; i++) {
                    if (roi != null && !roi[i]) continue;
                    double d = img.data()[k * n + i] / 255.0 - m;
                    b += d * d;
                }
                meanSum[k] += m;
                stdSum[k] += Math.sqrt(b / count);
            }
        }
        float[] mean = new float[c], std = new float[c];
        for (int k = 0; k < c; k++) {
            mean[k] = (float) (meanSum[k] / samples.size());
            std[k] = (float) Math.max(stdSum[k] / samples.size(), 1e-6);
        }
        return new Normalization(mean, std);
    }

    @Override public String toString() {
        return "mean=" + Arrays.toString(mean) + " std=" + Arrays.toString(std);
    }
}
