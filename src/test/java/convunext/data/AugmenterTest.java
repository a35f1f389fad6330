package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AugmenterTest {
    static FloatImage randomImage(int c, int h, int w, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[c * h * w];
        for (int i = 0; i < d.length; i++) d[i] = 1 + r.nextInt(254);
        return new FloatImage(c, h, w, d);
    }

    static final Normalization NORM = new Normalization(new float[] {0.45f, 0.31f, 0.2f}, new float[] {0.2f, 0.15f, 0.1f});

    @Test void identityPlanIsPlainNormalisation() {
        FloatImage im = randomImage(3, 37, 41, 1);
        LabelMap lab = new LabelMap(37, 41, Fixtures.randomLabels(37 * 41, 2, 2));
        Augmenter a = new Augmenter(new AugmentConfig(37, 1, 1, 37, 0), NORM);
        int s = 37;
        float[] x = new float[3 * s * s], t = new float[s * s];
        a.apply(im, lab, new Augmenter.Plan(37, 41, false, false, 0, 2), x, 0, t, 0);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < s; y++)
                for (int xx = 0; xx < s; xx++) {
                    float want = (im.get(c, y, xx + 2) / 255f - NORM.mean()[c]) / NORM.std()[c];
                    assertEquals(want, x[(c * s + y) * s + xx], 1e-5f);
                }
        for (int y = 0; y < s; y++)
            for (int xx = 0; xx < s; xx++) assertEquals(lab.get(y, xx + 2), t[y * s + xx]);
    }

    @Test void bilinearUsesHalfPixelCentres() {
        // one row [0,10,20,30] (tall enough to keep rows identical): shrink x2 gives 5, 25
        int h = 4, w = 4;
        float[] d = new float[h * w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) d[y * w + x] = 10 * x;
        FloatImage im = new FloatImage(1, h, w, d);
        Normalization unit = Normalization.unit(1);
        Augmenter a = new Augmenter(new AugmentConfig(2, 1, 1, 2, 0), unit);
        float[] x = new float[4];
        a.apply(im, new LabelMap(h, w, new int[h * w]), new Augmenter.Plan(2, 2, false, false, 0, 0), x, 0, null, 0);
        assertArrayEquals(new float[] {5 / 255f, 25 / 255f, 5 / 255f, 25 / 255f}, x, 1e-6f);
        // enlarge [0,10] x2: 0, 2.5, 7.5, 10 (edges clamp)
        FloatImage two = new FloatImage(1, 2, 2, new float[] {0, 10, 0, 10});
        a = new Augmenter(new AugmentConfig(4, 1, 1, 4, 0), unit);
        x = new float[16];
        a.apply(two, new LabelMap(2, 2, new int[4]), new Augmenter.Plan(4, 4, false, false, 0, 0), x, 0, null, 0);
        assertArrayEquals(new float[] {0, 2.5f / 255, 7.5f / 255, 10f / 255}, java.util.Arrays.copyOf(x, 4), 1e-6f);
    }

    @Test void composedPassEqualsResizeFlipPadCropDoneInTurn() {
        SplittableRandom rng = new SplittableRandom(77);
        for (int trial = 0; trial < 12; trial++) {
            int h = 9 + rng.nextInt(30), w = 9 + rng.nextInt(30), s = 8 + rng.nextInt(40);
            FloatImage im = randomImage(3, h, w, trial);
            LabelMap lab = new LabelMap(h, w, Fixtures.randomLabels(h * w, 3, trial + 100));
            Augmenter a = new Augmenter(new AugmentConfig(Math.min(h, w), 0.8, 1.5, s, 0.5), NORM);
            Augmenter.Plan p = a.plan(h, w, rng);
            float[] x = new float[3 * s * s], t = new float[s * s];
            a.apply(im, lab, p, x, 0, t, 0);
            // reference: materialise each step
            float[][] planes = new float[3][];
            for (int c = 0; c < 3; c++) {
                float[] r = resizeBilinear(im, c, p.resizedH(), p.resizedW());
                planes[c] = flip(r, p.resizedH(), p.resizedW(), p.hflip(), p.vflip());
            }
            float[] rl = flip(resizeNearest(lab, p.resizedH(), p.resizedW()), p.resizedH(), p.resizedW(), p.hflip(), p.vflip());
            for (int i = 0; i < s; i++)
                for (int j = 0; j < s; j++) {
                    int yy = p.top() + i, xx = p.left() + j;
                    boolean pad = yy >= p.resizedH() || xx >= p.resizedW();
                    float wantT = pad ? 255 : rl[yy * p.resizedW() + xx];
                    assertEquals(wantT, t[i * s + j], "target trial " + trial + " at " + i + "," + j);
                    for (int c = 0; c < 3; c++) {
                        float raw = pad ? 0 : planes[c][yy * p.resizedW() + xx];
                        float want = (raw / 255f - NORM.mean()[c]) / NORM.std()[c];
                        assertEquals(want, x[(c * s + i) * s + j], 2e-4f, "image trial " + trial);
                    }
                }
        }
    }

    @Test void planFollowsTheRecipeAndIsDeterministic() {
        AugmentConfig cfg = convunext.train.Recipe.REFERENCE.augment(100, 64);
        Augmenter a = new Augmenter(cfg, NORM);
        int hf = 0, vf = 0, n = 400;
        for (int i = 0; i < n; i++) {
            SplittableRandom r1 = new SplittableRandom(i), r2 = new SplittableRandom(i);
            Augmenter.Plan p = a.plan(120, 90, r1);
            assertEquals(p, a.plan(120, 90, r2));
            assertTrue(p.resizedW() >= 80 && p.resizedW() <= 150, "short side " + p);
            assertEquals((int) ((long) p.resizedW() * 120 / 90), p.resizedH());
            assertTrue(p.top() >= 0 && p.top() + 64 <= Math.max(64, p.resizedH()));
            assertTrue(p.left() >= 0 && p.left() + 64 <= Math.max(64, p.resizedW()));
            if (p.hflip()) hf++;
            if (p.vflip()) vf++;
        }
        assertTrue(hf > 150 && hf < 250 && vf > 150 && vf < 250, "flip counts " + hf + " " + vf);
    }

    @Test void paddingUsesImageZeroAndIgnore() {
        FloatImage im = randomImage(3, 20, 20, 3);
        LabelMap lab = new LabelMap(20, 20, Fixtures.randomLabels(400, 2, 4));
        Augmenter a = new Augmenter(new AugmentConfig(20, 1, 1, 32, 0), NORM);
        float[] x = new float[3 * 32 * 32], t = new float[32 * 32];
        a.apply(im, lab, new Augmenter.Plan(20, 20, false, false, 0, 0), x, 0, t, 0);
        assertEquals(255f, t[25 * 32 + 3]);
        assertEquals(255f, t[3 * 32 + 25]);
        assertEquals(lab.get(3, 3), t[3 * 32 + 3]);
        assertEquals(-NORM.mean()[1] / NORM.std()[1], x[(32 + 25) * 32 + 3], 1e-6f);
    }

    static float[] resizeBilinear(FloatImage im, int c, int oh, int ow) {
        int h = im.height(), w = im.width();
        float[] out = new float[oh * ow];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double sy = Math.max(0, (y + 0.5) * h / oh - 0.5), sx = Math.max(0, (x + 0.5) * w / ow - 0.5);
                int y0 = Math.min((int) sy, h - 1), x0 = Math.min((int) sx, w - 1);
                int y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
                double fy = sy - y0, fx = sx - x0;
                double top = im.get(c, y0, x0) * (1 - fx) + im.get(c, y0, x1) * fx;
                double bot = im.get(c, y1, x0) * (1 - fx) + im.get(c, y1, x1) * fx;
                out[y * ow + x] = (float) (top * (1 - fy) + bot * fy);
            }
        return out;
    }

    static float[] resizeNearest(LabelMap m, int oh, int ow) {
        float[] out = new float[oh * ow];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                int sy = Math.min((int) Math.floor((y + 0.5) * m.height() / oh), m.height() - 1);
                int sx = Math.min((int) Math.floor((x + 0.5) * m.width() / ow), m.width() - 1);
                out[y * ow + x] = m.get(sy, sx);
            }
        return out;
    }

    static float[] flip(float[] a, int h, int w, boolean hf, boolean vf) {
        float[] o = new float[a.length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) o[y * w + x] = a[(vf ? h - 1 - y : y) * w + (hf ? w - 1 - x : x)];
        return o;
    }
}
