package convunext.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DistanceTransformTest {
    @Test void matchesBruteForceOnRandomOddGrids() {
        SplittableRandom r = new SplittableRandom(13);
        for (int trial = 0; trial < 20; trial++) {
            int h = 1 + r.nextInt(23), w = 1 + r.nextInt(29);
            double density = trial % 4 == 0 ? 0.01 : r.nextDouble() * 0.3;
            boolean[] f = new boolean[h * w];
            for (int i = 0; i < f.length; i++) f[i] = r.nextDouble() < density;
            f[r.nextInt(f.length)] = true;
            double[] d = DistanceTransform.squared(f, h, w);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    double best = Double.POSITIVE_INFINITY;
                    for (int yy = 0; yy < h; yy++)
                        for (int xx = 0; xx < w; xx++)
                            if (f[yy * w + xx]) best = Math.min(best, (y - yy) * (y - yy) + (x - xx) * (x - xx));
                    assertEquals(best, d[y * w + x], 0, "trial " + trial + " " + h + "x" + w + " at " + y + "," + x);
                }
        }
    }

    @Test void noFeatureGivesInfinity() {
        double[] d = DistanceTransform.squared(new boolean[6], 2, 3);
        for (double v : d) assertEquals(Double.POSITIVE_INFINITY, v);
        assertThrows(IllegalArgumentException.class, () -> DistanceTransform.squared(new boolean[5], 2, 3));
    }
}
