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
     * Mean and std per channel over the given images (inside their ROI when they have one, as the
     * reference's compute_mean_std does), population std, accumulated in double.
     */
    public static Normalization compute(List<LoadedSample> samples) {
        if (samples.isEmpty()) throw new DataException("cannot compute mean/std: no training images");
        int c = samples.get(0).image().channels();
        double[] sum = new double[c], sq = new double[c];
        long count = 0;
        for (LoadedSample s : samples) {
            FloatImage img = s.image();
            if (img.channels() != c)
                throw new DataException("image " + s.sample().image() + " has " + img.channels()
                        + " channels, the first training image has " + c);
            int n = img.pixels();
            boolean[] roi = s.roi();
            for (int k = 0; k < c; k++) {
                double a = 0, b = 0;
                for (int i = 0; i < n; i++) {
                    if (roi != null && !roi[i]) continue;
                    double v = img.data()[k * n + i] / 255.0;
                    a += v;
                    b += v * v;
                }
                sum[k] += a;
                sq[k] += b;
            }
            if (roi == null) count += n;
            else for (boolean r : roi) if (r) count++;
        }
        if (count == 0) throw new DataException("cannot compute mean/std: every ROI is empty");
        float[] mean = new float[c], std = new float[c];
        for (int k = 0; k < c; k++) {
            double m = sum[k] / count;
            double var = Math.max(0, sq[k] / count - m * m);
            mean[k] = (float) m;
            std[k] = (float) Math.max(Math.sqrt(var), 1e-6);
        }
        return new Normalization(mean, std);
    }

    @Override public String toString() {
        return "mean=" + Arrays.toString(mean) + " std=" + Arrays.toString(std);
    }
}
