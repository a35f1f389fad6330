package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The linear with at most 4 outputs (CpuLinearNarrow: the model's last 1×1 convolution) against
 * float64 with the bound of its FMA chains (ci·u·Σ|w·x| per element, plus the bias's rounding), bit
 * for bit against the GEMM path it replaces and the vector kernel against the scalar one (the same
 * chains), and the same bits at 1 and at every thread; 1 to 4 outputs, odd input counts, pixel counts off the vector and block grid.
 */
class CpuLinearNarrowTest {
    @Test void againstFloat64AndScalar() {
        Random r = new Random(11);
        for (int[] s : new int[][] {{1, 3, 1, 37}, {2, 32, 2, 4099}, {1, 7, 3, 2 * 2048 + 33}, {3, 17, 4, 250}}) {
            int n = s[0], ci = s[1], co = s[2], p = s[3];
            float[] x = new float[n * ci * p + 5], w = new float[co * ci + 2], b = new float[co + 1];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
            int all = CpuThreads.threads();
            float[][] got = new float[2][];
            for (int v = 0; v < 2; v++) {
                got[v] = new float[n * co * p + 3];
                try {
                    CpuThreads.setThreads(v == 0 ? 1 : all);
                    CpuLinearNarrow.forward(n, ci, co, p, x, 5, w, 2, b, 1, got[v], 3);
                } finally {
                    CpuThreads.setThreads(all);
                }
            }
            String at = n + "x" + ci + "→" + co + " @" + p;
            assertArrayEquals(got[0], got[1], "1 and " + all + " threads: " + at);
            for (int i = 0; i < n; i++)
                for (int m = 0; m < co; m++)
                    for (int q = 0; q < p; q++) {
                        double want = b[1 + m], mag = Math.abs(b[1 + m]);
                        for (int k = 0; k < ci; k++) {
                            double t = (double) w[2 + m * ci + k] * x[5 + (i * ci + k) * p + q];
                            want += t;
                            mag += Math.abs(t);
                        }
                        double g = got[0][3 + (i * co + m) * p + q];
                        assertTrue(Math.abs(g - want) <= (ci + 1) * 0x1p-24 * mag + Float.MIN_NORMAL,
                                at + " y[" + i + "][" + m + "][" + q + "] = " + g + ", float64 " + want);
                    }
            // the vector kernel against the scalar one: the same chains, the same bits
            float[] w4 = new float[4 * ci];
            for (int m = 0; m < co; m++)
                for (int k = 0; k < ci; k++) w4[4 * k + m] = w[2 + m * ci + k];
            float[] b4 = new float[4];
            System.arraycopy(b, 1, b4, 0, co);
            float[] yv = new float[co * p], ys = new float[co * p];
            SimdOps.BEST.linearNarrow(x, 5, p, ci, w4, b4, yv, 0, p, co, p);
            new ScalarOps().linearNarrow(x, 5, p, ci, w4, b4, ys, 0, p, co, p);
            assertArrayEquals(ys, yv, "vector vs scalar: " + at);
            // the GEMM's bits: its accumulators start at the bias and take k in order
            float[] gemm = new float[n * co * p + 3];
            try {
                CpuLinear.narrow = false;
                CpuLinear.forward(n, ci, co, p, x, 5, w, 2, b, 1, gemm, 3);
            } finally {
                CpuLinear.narrow = true;
            }
            if (CpuLinearNarrow.applies(co)) assertArrayEquals(gemm, got[0], "the GEMM's bits: " + at);   // the vector GEMM's
        }
    }
}
