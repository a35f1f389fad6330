package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The cublasSgemm arguments for our three row-major GEMM forms, proven without cuBLAS: the
 * calls are EXECUTED with cuBLAS's column-major semantics in plain Java (exact-size arrays, so any
 * out-of-range access fails) and compared with naive row-major GEMMs in double.
 */
class SgemmCallTest {
    static final double TOL = 1e-5;

    /** cublasSgemm(StridedBatched) as documented, alpha = 1; operands from {@code mem} by name. */
    static void execute(SgemmCall c, Map<String, float[]> mem, float[] out) {
        assertTrue(c.valid(), "invalid leading dimensions: " + c);
        float[] a = mem.get(c.a()), b = mem.get(c.b());
        for (int bt = 0; bt < c.batch(); bt++) {
            long oa = bt * c.strideA(), ob = bt * c.strideB(), oc = c.accumulate() ? 0 : bt * c.strideC();
            float beta = c.accumulate() && bt > 0 ? 1f : 0f;
            for (int j = 0; j < c.n(); j++)
                for (int i = 0; i < c.m(); i++) {
                    double s = 0;
                    for (int l = 0; l < c.k(); l++) {
                        float av = c.transA() ? a[(int) (oa + l + (long) i * c.lda())] : a[(int) (oa + i + (long) l * c.lda())];
                        float bv = c.transB() ? b[(int) (ob + j + (long) l * c.ldb())] : b[(int) (ob + l + (long) j * c.ldb())];
                        s += (double) av * bv;
                    }
                    int at = (int) (oc + i + (long) j * c.ldc());
                    out[at] = (float) (s + (beta == 0f ? 0.0 : beta * out[at]));  // beta 0: C is not read
                }
        }
    }

    static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() + 0.1);
        return a;
    }

    /** NaN-filled output: every element must be written. */
    static float[] nans(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
    }

    static void close(String what, float[] got, double[] want) {
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < want.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(want[i]));
            assertFalse(Float.isNaN(got[i]), what + ": element " + i + " not written");
            maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
        }
        assertTrue(maxRef > 0 && maxDiff <= TOL * maxRef, what + ": max diff " + maxDiff + " vs max " + maxRef);
    }

    @Test void allThreeFormsMatchNaiveRowMajorGemm() {
        Random r = new Random(20240607);
        for (int trial = 0; trial < 12; trial++) {
            int n = 1 + r.nextInt(3), co = 1 + r.nextInt(19), ci = 1 + r.nextInt(17), p = 1 + r.nextInt(37);
            String tag = "n" + n + " co" + co + " ci" + ci + " p" + p;
            float[] w = rand(r, co * ci), x = rand(r, n * ci * p), dy = rand(r, n * co * p);
            Map<String, float[]> mem = Map.of("w", w, "x", x, "dy", dy);

            // y[i] = w · x[i]
            double[] y = new double[n * co * p];
            for (int i = 0; i < n; i++)
                for (int o = 0; o < co; o++)
                    for (int q = 0; q < p; q++) {
                        double s = 0;
                        for (int c = 0; c < ci; c++) s += (double) w[o * ci + c] * x[(i * ci + c) * p + q];
                        y[(i * co + o) * p + q] = s;
                    }
            float[] gy = nans(y.length);
            execute(SgemmCall.forward(n, co, ci, p), mem, gy);
            close("forward " + tag, gy, y);

            // dx[i] = wᵀ · dy[i]
            double[] dx = new double[n * ci * p];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < ci; c++)
                    for (int q = 0; q < p; q++) {
                        double s = 0;
                        for (int o = 0; o < co; o++) s += (double) w[o * ci + c] * dy[(i * co + o) * p + q];
                        dx[(i * ci + c) * p + q] = s;
                    }
            float[] gdx = nans(dx.length);
            execute(SgemmCall.backwardData(n, ci, co, p), mem, gdx);
            close("backwardData " + tag, gdx, dx);

            // dw = Σ_i dy[i] · x[i]ᵀ
            double[] dw = new double[co * ci];
            for (int o = 0; o < co; o++)
                for (int c = 0; c < ci; c++) {
                    double s = 0;
                    for (int i = 0; i < n; i++)
                        for (int q = 0; q < p; q++) s += (double) dy[(i * co + o) * p + q] * x[(i * ci + c) * p + q];
                    dw[o * ci + c] = s;
                }
            float[] gdw = nans(dw.length);
            execute(SgemmCall.backwardWeight(n, co, ci, p), mem, gdw);
            close("backwardWeight " + tag, gdw, dw);
        }
    }

    @Test void aWrongMappingIsCaught() {
        // The harness must be able to fail: forward with the operands' transposes flipped.
        Random r = new Random(5);
        int n = 2, co = 5, ci = 5, p = 5;  // square, so the wrong call stays in range
        float[] w = rand(r, co * ci), x = rand(r, n * ci * p);
        SgemmCall ok = SgemmCall.forward(n, co, ci, p);
        SgemmCall wrong = new SgemmCall(ok.a(), ok.b(), true, false, ok.m(), ok.n(), ok.k(), ok.lda(), ok.ldb(),
                ok.ldc(), ok.strideA(), ok.strideB(), ok.strideC(), ok.batch(), false);
        float[] good = nans(n * co * p), bad = nans(n * co * p);
        execute(ok, Map.of("w", w, "x", x), good);
        execute(wrong, Map.of("w", w, "x", x), bad);
        double[] want = new double[good.length];
        for (int i = 0; i < want.length; i++) want[i] = good[i];
        assertThrows(AssertionError.class, () -> close("wrong", bad, want));
    }

    @Test void leadingDimensionRulesAreChecked() {
        assertTrue(SgemmCall.forward(3, 7, 5, 11).valid());
        assertTrue(SgemmCall.backwardData(3, 7, 5, 11).valid());
        assertTrue(SgemmCall.backwardWeight(3, 7, 5, 11).valid());
        SgemmCall f = SgemmCall.forward(1, 7, 5, 11);
        assertFalse(new SgemmCall("x", "w", false, false, f.m(), f.n(), f.k(), f.m() - 1, f.ldb(), f.ldc(),
                0, 0, 0, 1, false).valid());
    }
}
