package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Both micro-kernels directly (the scalar one is what runs without the jdk.incubator.vector
 * module): tile with overwrite, accumulate and bias, dotTile, dot and sum with K not a multiple of the
 * vector width, against float64 sums; tolerance 1e-5 of Σ|a·b|. The two vector kernels (8-row
 * tile, and the 4-row one with split dot tiles for 16-register machines) give the same bits.
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

    /**
     * The 4-row kernel (two tiles of 4 rows on the same B) against the 8-row one, bit for bit:
     * set, accumulate and bias tiles with kc not a multiple of anything, the split dot tile, and
     * dot spans started, continued and reduced. Both run on any vector width (the pick between
     * them is by register count, not correctness).
     */
    /**
     * The vector dot paths' exact order (bench/NOTES.md CPU round 29): per lane an FMA chain over
     * the vector steps, the lanes then added in lane order from 0f, then dotTail's scalar chains.
     * Pinned bit for bit, as no FloatVector.reduceLanes(ADD) may come back: its order is
     * unspecified, and JDK 25's compiled form (a tree) differs from its interpreter's (in order),
     * which made two identical training runs differ.
     */
    @Test void dotTilesAddTheirLanesInLaneOrder() {
        assumeTrue(GemmKernels.vectorAvailable());
        Random r = new Random(29);
        {   // VectorGemmKernel4's split tiles are held to this one by vectorKernelsAgreeBitForBit
            VectorGemmKernel k = new VectorGemmKernel();
            int lanes = VectorGemmKernel.L, kc = 5 * lanes + 3, lda = kc + 2, ldb = kc + 1, ldc = 7;
            float[] a = rand(r, 4 * lda + 3), b = rand(r, 4 * ldb + 5), c = rand(r, 4 * ldc + 1), want = c.clone();
            k.dotTile(kc, a, 3, lda, b, 5, ldb, c, 1, ldc);
            int kv = kc - kc % lanes;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    float sum = 0f;
                    for (int lane = 0; lane < lanes; lane++) {
                        float chain = 0f;
                        for (int p = lane; p < kv; p += lanes) chain = Math.fma(a[3 + i * lda + p], b[5 + j * ldb + p], chain);
                        sum += chain;
                    }
                    want[1 + i * ldc + j] += sum;
                }
            GemmKernel.dotTail(kv, kc, a, 3, lda, b, 5, ldb, want, 1, ldc);
            assertArrayEquals(want, c, k.describe() + " dotTile");
        }
        // dot and sum: two accumulators added lane-wise, then the lanes in order, then the scalar tail
        VectorGemmKernel k = new VectorGemmKernel();
        int lanes = VectorGemmKernel.L, kc = 6 * lanes + 5;
        float[] a = rand(r, kc + 2), b = rand(r, kc + 3), c = {0.25f};
        k.dot(kc, a, 2, b, 3, c, 0);
        float[] s0 = new float[lanes], s1 = new float[lanes], u0 = new float[lanes], u1 = new float[lanes];
        int p = 0;
        for (; p + 2 * lanes <= kc; p += 2 * lanes)
            for (int l = 0; l < lanes; l++) {
                s0[l] = Math.fma(a[2 + p + l], b[3 + p + l], s0[l]);
                s1[l] = Math.fma(a[2 + p + lanes + l], b[3 + p + lanes + l], s1[l]);
                u0[l] += a[2 + p + l];
                u1[l] += a[2 + p + lanes + l];
            }
        float t = 0f, u = 0f;
        for (int l = 0; l < lanes; l++) { t += s0[l] + s1[l]; u += u0[l] + u1[l]; }
        for (int q = p; q < kc; q++) { t = Math.fma(a[2 + q], b[3 + q], t); u += a[2 + q]; }
        assertEquals(Float.floatToRawIntBits(0.25f + t), Float.floatToRawIntBits(c[0]), "dot");
        assertEquals(Float.floatToRawIntBits(u), Float.floatToRawIntBits(k.sum(kc, a, 2)), "sum");
    }

    @Test void vectorKernelsAgreeBitForBit() {
        assumeTrue(GemmKernels.vectorAvailable(), "no jdk.incubator.vector");
        GemmKernel k8 = new VectorGemmKernel(), k4 = new VectorGemmKernel4(), k6 = new VectorGemmKernel6();
        assertEquals(8, k8.mr());
        assertEquals(4, k4.mr());
        assertEquals(6, k6.mr());
        assertEquals(k8.nr(), k4.nr());
        assertEquals(k8.nr(), k6.nr());
        Random r = new Random(53);
        int nr = k8.nr(), kc = 301, ldc = nr + 5;
        float[] ap8 = rand(r, kc * 8), bp = rand(r, kc * nr), bias = rand(r, 9);
        // 8 rows of C through 4-row panels (two full tiles) and 6-row panels (a full tile, then
        // rows 6–7 of a zero-padded panel through CpuGemm.edgeTile)
        for (GemmKernel k : new GemmKernel[] {k4, k6})
            for (int mode = 0; mode < 3; mode++) {
                boolean acc = mode == 1;
                float[] b = mode == 2 ? bias : null;
                float[] c8 = rand(r, 8 * ldc + 3), ck = c8.clone();
                k8.tile(kc, ap8, 0, bp, 0, c8, 3, ldc, acc, b, 1);
                tileRows(k, repack(ap8, kc, k.mr()), kc, bp, ck, 3, ldc, acc, b, 1);
                assertArrayEquals(c8, ck, k.mr() + "-row tile, mode " + mode);
            }
        // rows long enough for three dot spans of 24 vectors at any width (AVX-512: 3·384 steps)
        int lanes = k8.dotLanes(), span = 24 * lanes;
        int lda = Math.max(1031, 3 * span + 7), ldb = Math.max(1029, 3 * span + 5), kd = 1000 + lanes / 2;
        float[] a = rand(r, 4 * lda), bb = rand(r, 4 * ldb), c8 = rand(r, 4 * 7), c4 = c8.clone();
        k8.dotTile(kd, a, 2, lda, bb, 1, ldb, c8, 1, 6);
        k4.dotTile(kd, a, 2, lda, bb, 1, ldb, c4, 1, 6);
        assertArrayEquals(c8, c4, "dotTile");
        float[] acc8 = new float[16 * lanes + 2], acc4 = new float[16 * lanes + 2];
        for (int q = 0; q < 3; q++) {
            k8.dotSpan(span, a, 3 + q * span, lda, bb, 4 + q * span, ldb, acc8, 2, q == 0);
            k4.dotSpan(span, a, 3 + q * span, lda, bb, 4 + q * span, ldb, acc4, 2, q == 0);
            assertArrayEquals(acc8, acc4, "dotSpan " + q);
        }
        // the 4-row kernel's dot loops end on != (see its class comment): a span that is not a
        // whole number of vectors is refused, never run past its end
        float[] acc = new float[16 * lanes];
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> k4.dotSpan(span + 1, a, 0, lda, bb, 0, ldb, acc, 0, true));
    }

    /**
     * Panels cut by M's edge: the 6-row kernel's 4-row short tile and both kernels' 2 rows over two
     * strips against CpuGemm.edgeTile on the same padded panel, bit for bit, set / accumulate /
     * bias, B packed and read in place.
     */
    @Test void shortTilesMatchTheEdgeScratch() {
        assumeTrue(GemmKernels.vectorAvailable(), "no jdk.incubator.vector");
        Random r = new Random(54);
        for (GemmKernel k : new GemmKernel[] {new VectorGemmKernel4(), new VectorGemmKernel6()}) {
            int mr = k.mr(), nr = k.nr(), kc = 37, ldc = 2 * nr + 3;
            for (int rows : new int[] {2, 4}) {
                if (rows >= mr) continue;
                float[] ap = rand(r, mr * kc + 1);
                for (int p = 0; p < kc; p++)
                    for (int i = rows; i < mr; i++) ap[1 + p * mr + i] = 0f;   // the padding packA writes
                for (int ldb : new int[] {nr, 2 * nr + 5})
                    for (int mode = 0; mode < 3; mode++) {
                        boolean acc = mode == 1;
                        float[] bp = rand(r, 2 * nr * kc + ldb * kc + 2), bias = mode == 2 ? rand(r, rows + 1) : null;
                        int second = ldb == nr ? nr * kc : nr;   // the next strip: packed after this one, or the next columns
                        float[] c = rand(r, rows * ldc + 2), want = c.clone();
                        CpuGemm.edgeTile(k, new float[mr * nr], ap, 1, kc, bp, 2, ldb, want, 1, ldc, rows, nr, acc, bias, 1);
                        if (rows == 4) {
                            assertTrue(k.shortTile(rows, kc, ap, 1, bp, 2, ldb, c, 1, ldc, acc, bias, 1), k.describe() + " rows " + rows);
                            assertArrayEquals(want, c, k.describe() + " " + rows + " rows, ldb " + ldb + ", mode " + mode);
                            continue;
                        }
                        float[] wide = rand(r, rows * ldc + 2), wideWant = wide.clone();
                        CpuGemm.edgeTile(k, new float[mr * nr], ap, 1, kc, bp, 2, ldb, wideWant, 1, ldc, rows, nr, acc, bias, 1);
                        CpuGemm.edgeTile(k, new float[mr * nr], ap, 1, kc, bp, 2 + second, ldb, wideWant, 1 + nr, ldc, rows, nr, acc, bias, 1);
                        assertTrue(k.shortTile2Wide(kc, ap, 1, bp, 2, 2 + second, ldb, wide, 1, ldc, acc, bias, 1));
                        assertArrayEquals(wideWant, wide, k.describe() + " 2 rows over two strips, ldb " + ldb + ", mode " + mode);
                    }
            }
            for (int rows : new int[] {1, 2, 3})
                assertFalse(k.shortTile(rows, kc, new float[mr * kc], 0, new float[nr * kc], 0, nr, new float[3 * nr], 0, nr, false, null, 0),
                        "a height without a tile is left to the scratch");
        }
    }

    /**
     * dotSpan4 over pack4's interleaved rows against dotSpan over the rows where they lie, bit for
     * bit, started, continued and reduced, for the 4- and 6-row kernels on any vector width (CpuGemm
     * runs them only where one of them is the pick).
     */
    @Test void interleavedSpansMatchRowSpans() {
        assumeTrue(GemmKernels.vectorAvailable(), "no jdk.incubator.vector");
        Random r = new Random(56);
        for (GemmKernel k : new GemmKernel[] {new VectorGemmKernel(), new VectorGemmKernel4(), new VectorGemmKernel6()}) {
            assertTrue(k.dotSpans());
            int lanes = k.dotLanes(), span = 24 * lanes, lda = 3 * span + 7, ldb = 3 * span + 11;
            float[] a = rand(r, 4 * lda), b = rand(r, 4 * ldb);
            float[] accRows = new float[16 * lanes + 3], accInter = accRows.clone();
            float[] a4 = new float[4 * span + 5], b4 = new float[4 * span + 9];
            for (int q = 0; q < 3; q++) {
                int len = q == 2 ? span - 2 * lanes : span;
                k.dotSpan(len, a, 2 + q * span, lda, b, 5 + q * span, ldb, accRows, 3, q == 0);
                k.pack4(a, 2 + q * span, lda, len, a4, 5);
                k.pack4(b, 5 + q * span, ldb, len, b4, 9);
                k.dotSpan4(len, a4, 5, b4, 9, accInter, 3, q == 0);
                assertArrayEquals(accRows, accInter, k.describe() + " span " + q);
            }
            float[] c1 = rand(r, 4 * 7), c2 = c1.clone();
            k.dotSpanPut(accRows, 3, c1, 1, 6);
            k.dotSpanPut(accInter, 3, c2, 1, 6);
            assertArrayEquals(c1, c2, k.describe() + " reduced");
        }
    }

    /** CpuGemm with and without short tiles, over heights that cut panels, both B paths: the same bits. */
    @Test void gemmWithShortTilesGivesTheScratchBits() {
        Random r = new Random(55);
        boolean saved = CpuGemm.shortTiles;
        try {
            for (int m : new int[] {1, 2, 4, 5, 8, 10, 14, 16, 20, 32, 34, 128})
                for (int n : new int[] {16, 48, 50, 100})
                    for (int layout = 0; layout < 3; layout++)
                        for (int mode = 0; mode < 3; mode++) {
                            int k = 7 + 26 * (mode % 2), ldb = layout == 1 ? 5003 : n + 3, ldc = n + 1;
                            float[] a = rand(r, m * k + 1), bias = rand(r, m + 2), c0 = rand(r, m * ldc + 2);
                            float[] b = layout == 2 ? rand(r, n * (k + 2)) : rand(r, k * ldb);
                            float[][] out = new float[2][];
                            for (int v = 0; v < 2; v++) {
                                CpuGemm.shortTiles = v == 0;
                                float[] c = c0.clone();
                                if (layout == 2)   // Bᵀ: packed
                                    CpuGemm.gemm(m, n, k, a, 1, k, 1, b, 0, 1, k + 2, c, 1, ldc, mode == 1, mode == 2 ? bias : null, 1);
                                else               // row-major: read in place (layout 0, M ≤ 64) or packed (rows far apart)
                                    CpuGemm.gemm(m, n, k, a, 1, k, 1, b, 0, ldb, 1, c, 1, ldc, mode == 1, mode == 2 ? bias : null, 1);
                                out[v] = c;
                            }
                            assertArrayEquals(out[1], out[0], "M " + m + " N " + n + " layout " + layout + " mode " + mode);
                        }
        } finally {
            CpuGemm.shortTiles = saved;
        }
    }

    /** Rows 0–7 of an 8-row panel (step p holds 8 values) as panels of mr rows, zero-padded. */
    private static float[] repack(float[] ap8, int kc, int mr) {
        int panels = (8 + mr - 1) / mr;
        float[] ap = new float[panels * mr * kc];
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < 8; i++) ap[(i / mr) * kc * mr + p * mr + i % mr] = ap8[p * 8 + i];
        return ap;
    }

    /** C's 8 rows with kernel k: full panels in place, a cut panel through CpuGemm.edgeTile. */
    private static void tileRows(GemmKernel k, float[] ap, int kc, float[] bp, float[] c, int co, int ldc, boolean acc,
                                 float[] bias, int bo) {
        int mr = k.mr(), nr = k.nr();
        for (int i0 = 0; i0 < 8; i0 += mr) {
            if (8 - i0 >= mr) k.tile(kc, ap, i0 * kc, bp, 0, c, co + i0 * ldc, ldc, acc, bias, bo + i0);
            else CpuGemm.edgeTile(k, new float[mr * nr], ap, i0 * kc, kc, bp, 0, nr, c, co + i0 * ldc, ldc, 8 - i0, nr, acc, bias, bo + i0);
        }
    }

    private static float[] rand(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() + 0.2);
        return x;
    }
}
