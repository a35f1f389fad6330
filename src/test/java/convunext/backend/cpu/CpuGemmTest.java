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
class CpuGemmTest {
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

    /**
     * B read in place (M ≤ 64, a compact row-major B: CpuGemm's direct strips, a packed ragged last
     * strip, edge rows) gives the bits of the packed path: the same B with its rows 5000 floats
     * apart is packed. With and without bias, replacing and accumulating, M = 61 (an edge row panel).
     */
    @Test void directBEqualsPacked() {
        int m = 61, n = 301, k = 37, wide = 5000;
        float[] a = rand(m * k), bias = rand(m), compact = rand(k * n), spread = new float[k * wide];
        for (int p = 0; p < k; p++) System.arraycopy(compact, p * n, spread, p * wide, n);
        for (boolean acc : new boolean[] {false, true})
            for (float[] bi : new float[][] {null, bias}) {
                if (acc && bi != null) continue;
                float[] c0 = rand(m * n), c1 = c0.clone();
                CpuGemm.gemm(m, n, k, a, 0, k, 1, compact, 0, n, 1, c0, 0, n, acc, bi, 0);
                CpuGemm.gemm(m, n, k, a, 0, k, 1, spread, 0, wide, 1, c1, 0, n, acc, bi, 0);
                org.junit.jupiter.api.Assertions.assertArrayEquals(c1, c0, "acc " + acc + " bias " + (bi != null));
            }
    }

    /**
     * Rows and columns cut by C's edge get the bits a full tile gives them: each result of an
     * M = 13, N = 37 product (edge panel and edge strip) equals the same element of the M = 24,
     * N = 96 product whose first rows and columns are the same operands (all full tiles), with
     * and without bias, replacing and accumulating. So results do not depend on the tile height.
     */
    @Test void edgeTilesEqualFullTiles() {
        int m = 13, n = 37, k = 45, mBig = 24, nBig = 96;
        float[] aBig = rand(mBig * k), bBig = rand(k * nBig), bias = rand(mBig), cInit = rand(mBig * nBig);
        float[] a = java.util.Arrays.copyOf(aBig, m * k), b = new float[k * n];
        for (int p = 0; p < k; p++) System.arraycopy(bBig, p * nBig, b, p * n, n);
        for (boolean acc : new boolean[] {false, true})
            for (float[] bi : new float[][] {null, bias}) {
                if (acc && bi != null) continue;
                float[] big = cInit.clone(), small = new float[m * n];
                for (int i = 0; i < m; i++) System.arraycopy(cInit, i * nBig, small, i * n, n);
                CpuGemm.gemm(mBig, nBig, k, aBig, 0, k, 1, bBig, 0, nBig, 1, big, 0, nBig, acc, bi, 0);
                CpuGemm.gemm(m, n, k, a, 0, k, 1, b, 0, n, 1, small, 0, n, acc, bi, 0);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        org.junit.jupiter.api.Assertions.assertEquals(Float.floatToRawIntBits(big[i * nBig + j]),
                                Float.floatToRawIntBits(small[i * n + j]), "(" + i + ", " + j + ") acc " + acc + " bias " + (bi != null));
            }
    }

    @Test void rowBias() {
        check(19, 301, 37, false, false, false, true);
        check(45, 77, 700, false, true, false, true);   // dot path
    }

    /**
     * The dot path across its K blocks (K > DOT_KC, not a multiple of the vector width) and edge
     * rows/columns, with the row sums
     * of A (the linear bias gradient) against float64 sums; then bit-equal C and row sums at 1 and
     * at 2 threads. Both shapes: n > m (the threads split the columns) and m > n (the rows: the
     * longer operand is split so it is streamed once).
     */
    @Test void dotPathRowSumsAndThreadCount() {
        dotPathRowSumsAndThreadCount(61, 150, 9001);
        dotPathRowSumsAndThreadCount(150, 61, 9001);
        // both operands contiguous along K, K below DOT_ALWAYS_K and many outputs: the packed path
        dotPathRowSumsAndThreadCount(130, 141, 1027);
    }

    /**
     * The dot path over interleaved spans (where the kernel has them) against its tile loop, bit for
     * bit, C and row sums: heights and widths past whole tiles and past a span block (SPAN_ROWS),
     * K past DOT_KC with a tail that is not a whole vector, a short last K block, accumulate and
     * overwrite, 1 and 2 threads.
     */
    @Test void dotSpansGiveTheTileLoopBits() {
        boolean saved = CpuGemm.dotSpans;
        int threads = CpuThreads.threads();
        try {
            int[][] shapes = {{4, 4, 512}, {13, 7, 515}, {61, 150, 9001}, {150, 61, 4099}, {70, 132, 8195}, {32, 128, 4096 + 600}};
            for (int[] sh : shapes)
                for (int t = 1; t <= 2; t++)
                    for (boolean acc : new boolean[] {false, true}) {
                        int m = sh[0], n = sh[1], k = sh[2];
                        float[] a = rand(m * k + 3), b = rand(k * n + 5), c0 = rand(m * n + 1);
                        float[][] cs = new float[2][];
                        double[][] sums = new double[2][];
                        CpuThreads.setThreads(t);
                        for (int v = 0; v < 2; v++) {
                            CpuGemm.dotSpans = v == 1;
                            cs[v] = c0.clone();
                            sums[v] = new double[m];
                            CpuGemm.gemm(m, n, k, a, 3, k, 1, b, 5, 1, k, cs[v], 1, n, acc, sums[v]);
                        }
                        String at = m + "x" + n + " K " + k + ", " + t + " thread(s), accumulate " + acc;
                        assertTrue(java.util.Arrays.equals(cs[0], cs[1]), "C differs, spans against tiles, " + at);
                        assertTrue(java.util.Arrays.equals(sums[0], sums[1]), "row sums differ, " + at);
                    }
        } finally {
            CpuGemm.dotSpans = saved;
            CpuThreads.setThreads(threads);
        }
    }

    /**
     * A split over N with A packed once for all parts (CpuGemm.shareA) and the packed path's row
     * sums threaded over rows give the bits of every part packing A itself and the caller summing
     * alone, at 1 and 2 threads: K-contiguous A (dW's transposing pack) with row sums, over one and
     * several K blocks, an edge row panel, a row-major A with bias and an epilogue, accumulate and
     * overwrite. Then a product that takes the shared pack nested in a team task (each task packs
     * its own, one at a time) equals the one run alone.
     */
    @Test void sharedPackAndThreadedRowSumsKeepTheBits() {
        boolean savedShare = CpuGemm.shareA, savedSums = CpuGemm.threadedRowSums;
        int threads = CpuThreads.threads();
        try {
            int[][] shapes = {{1013, 260, 1027}, {61, 300, 333}, {136, 96, 257}};
            for (int[] sh : shapes)
                for (int t = 1; t <= 2; t++)
                    for (boolean acc : new boolean[] {false, true}) {
                        int m = sh[0], n = sh[1], k = sh[2];
                        float[] a = rand(m * k + 3), b = rand(k * n + 5), c0 = rand(m * n + 1), bias = rand(m);
                        float[][] cs = new float[2][], cr = new float[2][];
                        double[][] sums = new double[2][];
                        CpuThreads.setThreads(t);
                        for (int v = 0; v < 2; v++) {
                            CpuGemm.shareA = v == 1;
                            CpuGemm.threadedRowSums = v == 1;
                            cs[v] = c0.clone();
                            sums[v] = new double[m];
                            java.util.Arrays.fill(sums[v], 0.5);
                            CpuGemm.gemm(m, n, k, a, 3, k, 1, b, 5, 1, k, cs[v], 1, n, acc, sums[v]);   // dW's layout: both along K
                            cr[v] = c0.clone();
                            float[] cv = cr[v];
                            CpuGemm.gemm(m, n, k, a, 3, 1, m, b, 5, n, 1, cv, 1, n, acc, acc ? null : bias, 0,
                                    (i0, i1, j0, j1) -> { for (int i = i0; i < i1; i++) for (int j = j0; j < j1; j++) cv[1 + i * n + j] *= 0.5f; });
                        }
                        String at = m + "x" + n + " K " + k + ", " + t + " thread(s), accumulate " + acc;
                        assertTrue(java.util.Arrays.equals(cs[0], cs[1]), "C differs, shared A against per-part packs, " + at);
                        assertTrue(java.util.Arrays.equals(sums[0], sums[1]), "row sums differ, threaded against the caller's, " + at);
                        assertTrue(java.util.Arrays.equals(cr[0], cr[1]), "C differs (row-major A, bias, epilogue), " + at);
                    }
            int m = 300, n = 200, k = 300;
            float[] a = rand(m * k), b = rand(k * n);
            float[] alone = new float[m * n];
            CpuGemm.gemm(m, n, k, a, 0, k, 1, b, 0, 1, k, alone, 0, n, false);
            float[][] nested = new float[2][m * n];
            CpuThreads.setThreads(2);
            CpuThreads.parallelFor(2, i -> CpuGemm.gemm(m, n, k, a, 0, k, 1, b, 0, 1, k, nested[i], 0, n, false));
            assertTrue(java.util.Arrays.equals(alone, nested[0]) && java.util.Arrays.equals(alone, nested[1]),
                    "products nested in team tasks differ from the product alone");
        } finally {
            CpuGemm.shareA = savedShare;
            CpuGemm.threadedRowSums = savedSums;
            CpuThreads.setThreads(threads);
        }
    }

    private void dotPathRowSumsAndThreadCount(int m, int n, int k) {
        float[] a = rand(m * k + 3), b = rand(k * n + 5);
        float[][] cs = new float[2][];
        double[][] sums = new double[2][];
        int saved = CpuThreads.threads();
        try {
            for (int t = 0; t < 2; t++) {
                CpuThreads.setThreads(t + 1);
                cs[t] = new float[m * n];
                sums[t] = new double[m];
                java.util.Arrays.fill(sums[t], 0.25);
                CpuGemm.gemm(m, n, k, a, 3, k, 1, b, 5, 1, k, cs[t], 0, n, false, sums[t]);
            }
        } finally {
            CpuThreads.setThreads(saved);
        }
        double worst = 0, worstSum = 0;
        for (int i = 0; i < m; i++) {
            double rs = 0.25, rmag = 0.25;
            for (int p = 0; p < k; p++) { rs += a[3 + i * k + p]; rmag += Math.abs(a[3 + i * k + p]); }
            worstSum = Math.max(worstSum, Math.abs(sums[0][i] - rs) / rmag);
            for (int j = 0; j < n; j++) {
                double s = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double t = (double) a[3 + i * k + p] * b[5 + j * k + p];
                    s += t;
                    mag += Math.abs(t);
                }
                worst = Math.max(worst, Math.abs(cs[0][i * n + j] - s) / mag);
            }
        }
        assertTrue(worst <= 1e-5, "dot path rel err " + worst);
        assertTrue(worstSum <= 1e-5, "row sums rel err " + worstSum);
        assertTrue(java.util.Arrays.equals(cs[0], cs[1]), "dot path C differs between 1 and 2 threads");
        assertTrue(java.util.Arrays.equals(sums[0], sums[1]), "row sums differ between 1 and 2 threads");
        // The packed path (short K) sums rows too, in float like the dot path: within the
        // recursive-summation bound k·u·Σ|a| (u = 2^-24) of the float64 sum.
        for (int kp : new int[] {300, Math.min(1500, k)}) {
            double[] packed = new double[m];
            CpuGemm.gemm(m, n, kp, a, 3, k, 1, b, 5, 1, k, new float[m * n], 0, n, false, packed);
            for (int i = 0; i < m; i++) {
                double rs = 0, mag = 0;
                for (int p = 0; p < kp; p++) { rs += a[3 + i * k + p]; mag += Math.abs(a[3 + i * k + p]); }
                assertTrue(Math.abs(packed[i] - rs) <= kp * 0x1p-24 * mag, "packed-path row sum " + i + ", K " + kp);
            }
        }
    }

    /**
     * An epilogue c ← 2c + 1 must see every element exactly once and only after all of K (twice,
     * or on a partial sum, is off by far more than the tolerance); its column ranges must keep the
     * documented alignment (j0 a multiple of NR; j1 one too, or N). Layouts include the one the
     * dot-product path takes without an epilogue, K = 0, and threaded splits over N and over M.
     */
    @Test void epilogue() {
        check(19, 301, 37, false, false, false, true, true);
        check(151, 1037, 300, false, false, true, false, true);
        check(33, 701, 531, true, false, false, true, true);
        check(300, 63, 263, false, false, false, false, true);
        check(45, 77, 700, false, true, false, true, true);
        check(5, 3, 0, false, false, false, true, true);
    }

    private static void check(int m, int n, int k, boolean ta, boolean tb, boolean acc) {
        check(m, n, k, ta, tb, acc, false);
    }

    private static void check(int m, int n, int k, boolean ta, boolean tb, boolean acc, boolean withBias) {
        check(m, n, k, ta, tb, acc, withBias, false);
    }

    private static void check(int m, int n, int k, boolean ta, boolean tb, boolean acc, boolean withBias, boolean epi) {
        float[] a = rand(m * k + 3), b = rand(k * n + 5), c = rand(m * n + 2), bias = rand(m + 1);
        int aOff = 3, bOff = 5, cOff = 2;
        int aRs = ta ? 1 : k, aCs = ta ? m : 1;
        int bRs = tb ? 1 : n, bCs = tb ? k : 1;
        float[] c0 = c.clone();
        int nr = GemmKernels.BEST.nr();
        CpuGemm.Epilogue e = !epi ? null : (i0, i1, j0, j1) -> {
            if (j0 % nr != 0 || (j1 % nr != 0 && j1 != n))
                throw new AssertionError("epilogue columns [" + j0 + ", " + j1 + ") not aligned to NR " + nr);
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++) c[cOff + i * n + j] = 2 * c[cOff + i * n + j] + 1;
        };
        CpuGemm.gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, n, acc, withBias ? bias : null, 1, e);
        double worst = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = acc ? c0[cOff + i * n + j] : withBias ? bias[1 + i] : 0, mag = Math.abs(s);
                for (int p = 0; p < k; p++) {
                    double t = (double) a[aOff + i * aRs + p * aCs] * b[bOff + p * bRs + j * bCs];
                    s += t;
                    mag += Math.abs(t);
                }
                if (epi) { s = 2 * s + 1; mag = 2 * mag + 1; }
                worst = Math.max(worst, Math.abs(c[cOff + i * n + j] - s) / Math.max(mag, 1e-30));
            }
        assertTrue(c[0] == c0[0] && c[1] == c0[1], "wrote before the offset");
        assertTrue(worst <= 1e-5, "gemm " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc
                + (epi ? " epilogue" : "") + ": rel err " + worst);
    }

    private static float[] rand(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (RNG.nextGaussian() + 0.1);
        return x;
    }
}
