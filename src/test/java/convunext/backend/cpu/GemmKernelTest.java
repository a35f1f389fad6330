package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Both micro-kernels directly (the scalar one is what runs without the jdk.incubator.vector
 * module): tile with overwrite, accumulate and bias, dotTile, dot and sum with K not a multiple of the
 * vector width, against float64 sums; tolerance 1e-5 of Σ|a·b|.
 */
class GemmKernelTest {
    private static List<GemmKernel> kernels() {
        List<GemmKernel> ks = new ArrayList<>();
        ks.add(new ScalarGemmKernel());
        if (GemmKernels.vectorAvailable()) ks.add(GemmKernels.BEST);
        return ks;
    }

    @Test void tiles() {
        Random r = new Random(51);
        for (GemmKernel k : kernels()) {
            int mr = k.mr(), nr = k.nr(), kc = 37, ldc = nr + 3;
            float[] ap = rand(r, kc * mr + 2), bp = rand(r, kc * nr + 1), bias = rand(r, mr + 1);
            for (int mode = 0; mode < 3; mode++) {
                float[] c = rand(r, mr * ldc + 4), c0 = c.clone();
                k.tile(kc, ap, 2, bp, 1, c, 4, ldc, mode == 1, mode == 2 ? bias : null, 1);
                for (int i = 0; i < mr; i++)
                    for (int j = 0; j < nr; j++) {
                        double s = mode == 1 ? c0[4 + i * ldc + j] : mode == 2 ? bias[1 + i] : 0, mag = Math.abs(s);
                        for (int p = 0; p < kc; p++) {
                            double t = (double) ap[2 + p * mr + i] * bp[1 + p * nr + j];
                            s += t;
                            mag += Math.abs(t);
                        }
                        assertEquals(s, c[4 + i * ldc + j], 1e-5 * mag, k.describe() + " mode " + mode);
                    }
            }
        }
    }

    @Test void dots() {
        Random r = new Random(52);
        for (GemmKernel k : kernels()) {
            int rows = k.dotRows(), kc = 83, lda = 91, ldb = 89, ldc = rows + 2;
            float[] a = rand(r, rows * lda), b = rand(r, rows * ldb), c = rand(r, rows * ldc), c0 = c.clone();
            k.dotTile(kc, a, 3, lda, b, 5, ldb, c, 1, ldc);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < rows; j++) {
                    double s = c0[1 + i * ldc + j], mag = Math.abs(s);
                    for (int p = 0; p < kc; p++) {
                        double t = (double) a[3 + i * lda + p] * b[5 + j * ldb + p];
                        s += t;
                        mag += Math.abs(t);
                    }
                    assertEquals(s, c[1 + i * ldc + j], 1e-5 * mag, k.describe() + " dotTile");
                }
            float sum = k.sum(kc, a, 4);
            double ss = 0, sm = 0;
            for (int p = 0; p < kc; p++) { ss += a[4 + p]; sm += Math.abs(a[4 + p]); }
            assertEquals(ss, sum, 1e-5 * sm, k.describe() + " sum");
            float[] one = {0.5f};
            k.dot(kc, a, 2, b, 7, one, 0);
            double s = 0.5;
            for (int p = 0; p < kc; p++) s += (double) a[2 + p] * b[7 + p];
            assertEquals(s, one[0], 1e-5 * kc, k.describe() + " dot");
        }
    }

    private static float[] rand(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() + 0.2);
        return x;
    }
}
