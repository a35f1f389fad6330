package convunext.data;

import java.util.SplittableRandom;

/**
 * Applies the {@link AugmentConfig} recipe to one sample, writing the normalised crop and its
 * target straight into batch arrays. Resize, flips, pad and crop are composed into one sampling
 * pass per output pixel (same result as doing them one after another, without the big
 * intermediate image). Bilinear (half-pixel centres, edge clamp) for images, nearest for masks.
 *
 * <p>Random draws, in this order, from the caller's generator: short side, h-flip, v-flip, crop
 * top, crop left. The same generator state therefore gives the same crop.
 */
public final class Augmenter {
    private final AugmentConfig cfg;
    private final Normalization norm;

    public Augmenter(AugmentConfig cfg, Normalization norm) {
        this.cfg = cfg;
        this.norm = norm;
    }

    public AugmentConfig config() { return cfg; }
    public Normalization normalization() { return norm; }

    /** The geometric choices for one sample (exposed for tests). */
    public record Plan(int resizedH, int resizedW, boolean hflip, boolean vflip, int top, int left) {}

    public Plan plan(int h, int w, SplittableRandom rng) {
        int lo = cfg.minShortSide(), hi = cfg.maxShortSide();
        int size = lo + rng.nextInt(hi - lo + 1);
        int[] r = shortSideTo(h, w, size);
        int rh = r[0], rw = r[1];
        boolean hf = rng.nextDouble() < cfg.flipP();
        boolean vf = rng.nextDouble() < cfg.flipP();
        int s = cfg.cropSize();
        int ph = Math.max(rh, s), pw = Math.max(rw, s);
        int top = rng.nextInt(ph - s + 1);
        int left = rng.nextInt(pw - s + 1);
        return new Plan(rh, rw, hf, vf, top, left);
    }

    /**
     * The size {@code [h', w']} of an {@code h}×{@code w} image resized so its short side is
     * {@code size}, the long side scaled in proportion and rounded down (inference resizes with
     * this same rule: {@link Resize}).
     */
    public static int[] shortSideTo(int h, int w, int size) {
        if (w <= h) return new int[] {(int) ((long) size * h / w), size};
        return new int[] {size, (int) ((long) size * w / h)};
    }

    /**
     * Augments {@code ls} into {@code img} at {@code imgOff} ([C,S,S]) and {@code tgt} at
     * {@code tgtOff} ([S,S], ROI applied as ignore).
     */
    public void apply(LoadedSample ls, SplittableRandom rng, float[] img, int imgOff, float[] tgt, int tgtOff) {
        FloatImage src = ls.image();
        apply(src, ls.targets(), plan(src.height(), src.width(), rng), img, imgOff, tgt, tgtOff);
    }

    public void apply(FloatImage src, LabelMap labels, Plan p, float[] img, int imgOff, float[] tgt, int tgtOff) {
        norm.check(src.channels());
        int s = cfg.cropSize(), h = src.height(), w = src.width(), c = src.channels();
        // Source coordinates per output row/column (−1 = padding), shared by all channels.
        int[] y0 = new int[s], y1 = new int[s], ny = new int[s];
        float[] fy = new float[s];
        int[] x0 = new int[s], x1 = new int[s], nx = new int[s];
        float[] fx = new float[s];
        axis(p.top(), p.resizedH(), h, p.vflip(), y0, y1, fy, ny);
        axis(p.left(), p.resizedW(), w, p.hflip(), x0, x1, fx, nx);
        float[] d = src.data();
        int n = h * w;
        for (int ch = 0; ch < c; ch++) {
            float m = norm.mean()[ch], inv = 1f / norm.std()[ch];
            float pad = (0f - m) * inv;
            int base = ch * n, out = imgOff + ch * s * s;
            for (int i = 0; i < s; i++) {
                for (int j = 0; j < s; j++) {
                    float v;
                    if (ny[i] < 0 || nx[j] < 0) v = pad;
                    else {
                        int r0 = base + y0[i] * w, r1 = base + y1[i] * w;
                        float top = d[r0 + x0[j]] + (d[r0 + x1[j]] - d[r0 + x0[j]]) * fx[j];
                        float bot = d[r1 + x0[j]] + (d[r1 + x1[j]] - d[r1 + x0[j]]) * fx[j];
                        v = ((top + (bot - top) * fy[i]) / 255f - m) * inv;
                    }
                    img[out + i * s + j] = v;
                }
            }
        }
        if (tgt == null) return;
        int[] lab = labels.labels();
        for (int i = 0; i < s; i++)
            for (int j = 0; j < s; j++)
                tgt[tgtOff + i * s + j] = ny[i] < 0 || nx[j] < 0 ? LabelMap.IGNORE : lab[ny[i] * w + nx[j]];
    }

    /**
     * For output positions start..start+s−1 along an axis resized from {@code n} to {@code r}
     * (then optionally flipped): bilinear neighbours i0,i1 and weight f, and the nearest source
     * index (−1 where the position falls in the padding beyond r).
     */
    static void axis(int start, int r, int n, boolean flip, int[] i0, int[] i1, float[] f, int[] near) {
        double scale = (double) n / r;
        for (int k = 0; k < i0.length; k++) {
            int q = start + k;
            if (q >= r) { near[k] = -1; i0[k] = i1[k] = 0; f[k] = 0; continue; }
            if (flip) q = r - 1 - q;
            double srcPos = (q + 0.5) * scale - 0.5;
            if (srcPos < 0) srcPos = 0;
            int a = (int) Math.floor(srcPos);
            if (a > n - 1) a = n - 1;
            int b = Math.min(a + 1, n - 1);
            i0[k] = a;
            i1[k] = b;
            f[k] = (float) (srcPos - a);
            near[k] = Math.min((int) Math.floor((q + 0.5) * scale), n - 1);
        }
    }
}
