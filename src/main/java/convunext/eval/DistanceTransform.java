package convunext.eval;

/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of
 * Sampled Functions", 2012): for every pixel, the squared distance to the nearest feature pixel,
 * in O(H·W) via two passes of the 1-D lower envelope of parabolas (columns, then rows).
 */
public final class DistanceTransform {
    /** Squared distance reported when the image has no feature pixel at all. */
    public static final double NONE = Double.POSITIVE_INFINITY;

    private DistanceTransform() {}

    /** Squared Euclidean distance from each pixel of an [h,w] grid to the nearest {@code feature}. */
    public static double[] squared(boolean[] feature, int h, int w) {
        if (feature.length != h * w)
            throw new IllegalArgumentException("DistanceTransform: mask length " + feature.length + " != " + h + "*" + w);
        double big = 1e15; // finite "no feature" (≫ any real h²+w², yet q² stays exact next to it)
        double[] d = new double[h * w];
        boolean any = false;
        for (int i = 0; i < d.length; i++) {
            d[i] = feature[i] ? 0 : big;
            any |= feature[i];
        }
        if (!any) {
            java.util.Arrays.fill(d, NONE);
            return d;
        }
        int m = Math.max(h, w);
        double[] f = new double[m], out = new double[m], z = new double[m + 1];
        int[] v = new int[m];
        for (int x = 0; x < w; x++) {
            for (int y = 0; y < h; y++) f[y] = d[y * w + x];
            line(f, h, out, v, z);
            for (int y = 0; y < h; y++) d[y * w + x] = out[y];
        }
        for (int y = 0; y < h; y++) {
            System.arraycopy(d, y * w, f, 0, w);
            line(f, w, out, v, z);
            System.arraycopy(out, 0, d, y * w, w);
        }
        return d;
    }

    /** 1-D squared distance transform of f[0..n) into out (lower envelope of parabolas). */
    private static void line(double[] f, int n, double[] out, int[] v, double[] z) {
        int k = 0;
        v[0] = 0;
        z[0] = Double.NEGATIVE_INFINITY;
        z[1] = Double.POSITIVE_INFINITY;
        for (int q = 1; q < n; q++) {
            double s = intersect(f, q, v[k]);
            while (s <= z[k]) { // z[0] = −∞ stops this at k = 0
                k--;
                s = intersect(f, q, v[k]);
            }
            k++;
            v[k] = q;
            z[k] = s;
            z[k + 1] = Double.POSITIVE_INFINITY;
        }
        k = 0;
        for (int q = 0; q < n; q++) {
            while (z[k + 1] < q) k++;
            double dq = q - v[k];
            out[q] = dq * dq + f[v[k]];
        }
    }

    /** Abscissa where the parabolas rooted at q and p intersect. */
    private static double intersect(double[] f, int q, int p) {
        return ((f[q] + (double) q * q) - (f[p] + (double) p * p)) / (2.0 * (q - p));
    }
}
