package convunext.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SegMetricsTest {
    static int[] grid(int h, int w, int... onesAt) {
        int[] g = new int[h * w];
        for (int i : onesAt) g[i] = 1;
        return g;
    }

    static int[] block(int h, int w, int y0, int y1, int x0, int x1) {
        int[] g = new int[h * w];
        for (int y = y0; y <= y1; y++) for (int x = x0; x <= x1; x++) g[y * w + x] = 1;
        return g;
    }

    @Test void shiftedSquaresByHand() {
        // 5x5 image, truth = 3x3 block rows 1-3 cols 1-3, prediction shifted right by one.
        int[] t = block(5, 5, 1, 3, 1, 3), p = block(5, 5, 1, 3, 2, 4);
        ClassMetrics m = SegMetrics.compute(p, t, null, 5, 5, 2)[1];
        assertEquals(6, m.tp());
        assertEquals(3, m.fp());
        assertEquals(3, m.fn());
        assertEquals(13, m.tn());
        assertEquals(12.0 / 18, m.dice(), 1e-12);
        assertEquals(0.5, m.iou(), 1e-12);
        assertEquals(6.0 / 9, m.precision(), 1e-12);
        assertEquals(6.0 / 9, m.recall(), 1e-12);
        assertEquals(13.0 / 16, m.specificity(), 1e-12);
        assertEquals(19.0 / 25, m.accuracy(), 1e-12);
        // boundaries are the two 8-pixel rings; 8 distances are 0 and 8 are 1 → 95th percentile 1
        assertEquals(1.0, m.hd95(), 1e-12);
        assertEquals(8, count(SegMetrics.boundary(bool(t), 5, 5)));
    }

    @Test void hd95InterpolatesLikeNumpy() {
        // 1x5 image: truth {x=0}, prediction {x=2,3,4}; every pixel is a boundary pixel.
        // pred→truth distances 2,3,4; truth→pred 2 → sorted [2,2,3,4], position 0.95·3 = 2.85 → 3.85
        int[] t = grid(1, 5, 0), p = grid(1, 5, 2, 3, 4);
        assertEquals(3.85, SegMetrics.compute(p, t, null, 1, 5, 2)[1].hd95(), 1e-12);
        assertEquals(3.85, SegMetrics.percentile(new double[] {4, 2, 3, 2}, 95), 1e-12);
        // two single pixels 3 right, 4 down: both distances 5
        int[] a = grid(7, 9, 1 * 9 + 2), b = grid(7, 9, 5 * 9 + 5);
        assertEquals(5.0, SegMetrics.compute(a, b, null, 7, 9, 2)[1].hd95(), 1e-12);
    }

    @Test void emptyMaskRules() {
        int h = 6, w = 8;
        ClassMetrics both = SegMetrics.compute(new int[h * w], new int[h * w], null, h, w, 2)[1];
        assertEquals(1, both.dice());
        assertEquals(1, both.iou());
        assertEquals(0, both.hd95());
        assertEquals(1, both.precision());
        assertEquals(1, both.recall());
        int[] some = grid(h, w, 9, 10);
        ClassMetrics missed = SegMetrics.compute(new int[h * w], some, null, h, w, 2)[1];
        assertEquals(0, missed.dice());
        assertEquals(Math.sqrt(36 + 64), missed.hd95(), 1e-12);
        assertEquals(0, missed.precision(), "nothing predicted where there is something: precision 0");
        assertEquals(0, missed.recall());
        ClassMetrics spurious = SegMetrics.compute(some, new int[h * w], null, h, w, 2)[1];
        assertEquals(0, spurious.dice());
        assertEquals(10.0, spurious.hd95(), 1e-12);
        assertEquals(0, spurious.precision());
        assertEquals(0, spurious.recall(), "predicted where there is nothing: recall 0");
    }

    @Test void roiAndIgnoreExcludePixels() {
        int h = 5, w = 6;
        int[] t = block(h, w, 1, 2, 1, 2);
        int[] p = t.clone();
        p[4 * w + 5] = 1; // a false positive in the corner...
        boolean[] roi = new boolean[h * w];
        Arrays.fill(roi, true);
        roi[4 * w + 5] = false; // ...outside the ROI
        ClassMetrics m = SegMetrics.compute(p, t, roi, h, w, 2)[1];
        assertEquals(0, m.fp());
        assertEquals(1, m.dice());
        assertEquals(0, m.hd95());
        assertEquals(h * w - 1, m.tp() + m.fp() + m.fn() + m.tn());
        int[] tIgn = t.clone();
        tIgn[4 * w + 5] = 255; // the same via the ignore label
        assertEquals(m, SegMetrics.compute(p, tIgn, null, h, w, 2)[1]);
        assertThrows(IllegalArgumentException.class, () -> SegMetrics.compute(p, grid(h, w, 3), null, 2, w, 2));
    }

    @Test void hd95MatchesBruteForceOnRandomMasks() {
        SplittableRandom r = new SplittableRandom(21);
        for (int trial = 0; trial < 15; trial++) {
            int h = 5 + r.nextInt(20), w = 5 + r.nextInt(20);
            boolean[] a = new boolean[h * w], b = new boolean[h * w];
            for (int i = 0; i < a.length; i++) { a[i] = r.nextDouble() < 0.3; b[i] = r.nextDouble() < 0.2; }
            a[0] = true; b[b.length - 1] = true;
            boolean[] ba = SegMetrics.boundary(a, h, w), bb = SegMetrics.boundary(b, h, w);
            double[] d = new double[count(ba) + count(bb)];
            int k = 0;
            for (int i = 0; i < ba.length; i++) if (ba[i]) d[k++] = nearest(i, bb, w);
            for (int i = 0; i < bb.length; i++) if (bb[i]) d[k++] = nearest(i, ba, w);
            Arrays.sort(d);
            double pos = 0.95 * (d.length - 1);
            int lo = (int) pos;
            double want = d[lo] + (d[Math.min(lo + 1, d.length - 1)] - d[lo]) * (pos - lo);
            assertEquals(want, SegMetrics.hd95(a, b, h, w), 1e-9, "trial " + trial);
        }
    }

    @Test void multiClassCountsArePerClass() {
        int h = 7, w = 9;
        SplittableRandom r = new SplittableRandom(3);
        int[] p = new int[h * w], t = new int[h * w];
        for (int i = 0; i < p.length; i++) { p[i] = r.nextInt(3); t[i] = r.nextInt(3); }
        ClassMetrics[] m = SegMetrics.compute(p, t, null, h, w, 3);
        for (int c = 0; c < 3; c++) {
            long tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < p.length; i++) {
                if (p[i] == c && t[i] == c) tp++;
                else if (p[i] == c) fp++;
                else if (t[i] == c) fn++;
            }
            assertEquals(tp, m[c].tp());
            assertEquals(fp, m[c].fp());
            assertEquals(fn, m[c].fn());
            assertEquals(2.0 * tp / (2 * tp + fp + fn), m[c].dice(), 1e-12);
        }
    }

    private static double nearest(int i, boolean[] set, int w) {
        double best = Double.POSITIVE_INFINITY;
        for (int j = 0; j < set.length; j++)
            if (set[j]) best = Math.min(best, Math.hypot(i / w - j / w, i % w - j % w));
        return best;
    }

    private static boolean[] bool(int[] g) {
        boolean[] b = new boolean[g.length];
        for (int i = 0; i < g.length; i++) b[i] = g[i] != 0;
        return b;
    }

    private static int count(boolean[] b) {
        int n = 0;
        for (boolean x : b) if (x) n++;
        return n;
    }
}
