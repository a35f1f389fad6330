package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuGemm against a float64 triple loop, for every operand layout the backend uses, sizes that
 * are not multiples of the register tile or the vector width, and sizes large enough to thread
 * and to cross the K/M/N blocks. Tolerance: |c − ref| ≤ 1e-5·(Σ_p |a·b|) per element (the bound
 * that float accumulation guarantees, relative to the magnitudes summed).
 */
class GemmParityTest {
    private static final Random RNG = new Random(7);

    @Test void smallOddSizesAllLayouts() {
        for (boolean ta : new boolean[] {false, true})
            for (boolean tb : new boolean[] {false, true})
                for (boolean acc : new boolean[] {false, true}) check(19, 301, 37, ta, tb, acc);
    }

    @Test void tinyAndDegenerate() {
        check(1, 1, 1, false, false, false);
        check(2, 5, 3, true, false, true);
        check(7, 33, 1, false, true, false);
        check(5, 3, 0, false, false, false);
    }

    @Test void blockedAndThreaded() {
        check(151, 1037, 300, false, false, false);   // crosses MC, NC and KC blocks
        check(97, 29, 3001, false, true, true);       // the dW shape: narrow N, long K
        check(33, 701, 131, true, false, false);      // the dX shape: Wᵀ·dY
    }

    @Test void rowBias() {
        check(19, 301, 37, false, false, false, true);
        check(45, 77, 700, false, true, false, true);   // dot path
    }

    private static void check(int m, int n, int k, boolean ta, boolean tb, boolean acc) {
        check(m, n, k, ta, tb, acc, false);
    }

    private static void check(int m, int n, int k, boolean ta, boolean tb, boolean acc, boolean withBias) {
        float[] a = rand(m * k + 3), b = rand(k * n + 5), c = rand(m * n + 2), bias = rand(m + 1);
        int aOff = 3, bOff = 5, cOff = 2;
        int aRs = ta ? 1 : k, aCs = ta ? m : 1;
        int bRs = tb ? 1 : n, bCs = tb ? k : 1;
        float[] c0 = c.clone();
        CpuGemm.gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, n, acc, withBias ? bias : null, 1);
        double worst = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = acc ? c0[cOff + i * n + j] : withBias ? bias[1 + i] : 0, mag = Math.abs(s);
                for (int p = 0; p < k; p++) {
                    double t = (double) a[aOff + i * aRs + p * aCs] * b[bOff + p * bRs + j * bCs];
                    s += t;
                    mag += Math.abs(t);
                }
                worst = Math.max(worst, Math.abs(c[cOff + i * n + j] - s) / Math.max(mag, 1e-30));
            }
        assertTrue(c[0] == c0[0] && c[1] == c0[1], "wrote before the offset");
        assertTrue(worst <= 1e-5, "gemm " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc + ": rel err " + worst);
    }

    private static float[] rand(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (RNG.nextGaussian() + 0.1);
        return x;
    }
}
