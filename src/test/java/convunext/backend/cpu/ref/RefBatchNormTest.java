package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** BatchNorm2d (train, eval, running statistics) in float64. */
class RefBatchNormTest {

    @Test void batchnormTrainGradients() {
        Random rnd = new Random(31);
        D x = D.uniform(rnd, -2, 3, 2, 3, 9, 11), gamma = D.uniform(rnd, 0.5, 1.5, 3), beta = D.uniform(rnd, -1, 1, 3);
        D[] f = RefBatchNorm.batchnormTrain(x, gamma, beta, null, null, 0.1, 1e-5);
        D r = GradCheck.weights(rnd, f[0]);
        D[] g = RefBatchNorm.batchnormBackward(x, r, gamma, f[1], f[2]);
        GradCheck.check("batchnorm", new String[] {"x", "gamma", "beta"}, new D[] {x, gamma, beta},
                in -> RefBatchNorm.batchnormTrain(in[0], in[1], in[2], null, null, 0.1, 1e-5)[0], r, g);
    }

    @Test void batchnormTrainStatisticsAndRunningUpdate() {
        Random rnd = new Random(32);
        int n = 2, c = 3, h = 5, w = 7, m = n * h * w;
        D x = D.uniform(rnd, -2, 3, n, c, h, w), gamma = D.uniform(rnd, 0.5, 1.5, c), beta = D.uniform(rnd, -1, 1, c);
        D rm = D.uniform(rnd, -1, 1, c), rv = D.uniform(rnd, 0.5, 2, c);
        D rm0 = rm.copy(), rv0 = rv.copy();
        double mom = 0.1, eps = 1e-5;
        D[] f = RefBatchNorm.batchnormTrain(x, gamma, beta, rm, rv, mom, eps);
        for (int ch = 0; ch < c; ch++) {
            // Independent one-pass statistics (Σx, Σx²) for the check.
            double s = 0, s2 = 0;
            for (int in = 0; in < n; in++)
                for (int yy = 0; yy < h; yy++)
                    for (int xx = 0; xx < w; xx++) {
                        double v = x.get(in, ch, yy, xx);
                        s += v;
                        s2 += v * v;
                    }
            double mean = s / m, varB = s2 / m - mean * mean, varU = varB * m / (m - 1);
            assertEquals(mean, f[1].data[ch], 1e-13);
            assertEquals(1 / Math.sqrt(varB + eps), f[2].data[ch], 1e-11);
            assertEquals(0.9 * rm0.data[ch] + 0.1 * mean, rm.data[ch], 1e-13);
            assertEquals(0.9 * rv0.data[ch] + 0.1 * varU, rv.data[ch], 1e-12);
            // The output has mean β and biased variance γ²·var/(var+eps) per channel.
            double ys = 0, ys2 = 0;
            for (int in = 0; in < n; in++)
                for (int p = 0; p < h * w; p++) {
                    double v = f[0].data[(in * c + ch) * h * w + p];
                    ys += v;
                    ys2 += v * v;
                }
            double ym = ys / m;
            assertEquals(beta.data[ch], ym, 1e-12);
            assertEquals(gamma.data[ch] * gamma.data[ch] * varB / (varB + eps), ys2 / m - ym * ym, 1e-11);
        }
    }

    @Test void batchnormEvalUsesRunningStats() {
        Random rnd = new Random(33);
        D x = D.uniform(rnd, -2, 2, 2, 3, 4, 5), gamma = D.uniform(rnd, 0.5, 1.5, 3), beta = D.uniform(rnd, -1, 1, 3);
        D rm = D.uniform(rnd, -1, 1, 3), rv = D.uniform(rnd, 0.5, 2, 3);
        D y = RefBatchNorm.batchnormEval(x, gamma, beta, rm, rv, 1e-5);
        for (int in = 0; in < 2; in++)
            for (int ch = 0; ch < 3; ch++)
                for (int yy = 0; yy < 4; yy++)
                    for (int xx = 0; xx < 5; xx++) {
                        double e = gamma.data[ch] * (x.get(in, ch, yy, xx) - rm.data[ch]) / Math.sqrt(rv.data[ch] + 1e-5) + beta.data[ch];
                        assertEquals(e, y.get(in, ch, yy, xx), 1e-14);
                    }
    }
}
