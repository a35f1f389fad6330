package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * {@link VectorGemmKernel} for 16-register machines (x86 without AVX-512): its 8-row tile needs 19
 * vector registers (16 accumulators, two B vectors, a broadcast) and its 4×4 dot tile 21; there
 * C2 spills accumulators to the stack and each FMA step then goes through a store and a reload
 * (bench/NOTES.md, CPU round 16). Here the tile is 4 rows × 2 vectors (8 accumulators, 11
 * registers) and the 4×4 dot tile runs as two 4×2 halves (8 accumulators, 4 A rows loaded once
 * per half, 14 registers), one after the other over the same K range. {@link VectorGemmKernel6}
 * (the default there) keeps these dot tiles with a 6-row tile; this one stays for the A/B
 * ({@code -Dconvunext.cpu.gemmRows=4}).
 *
 * <p>Same bits as {@link VectorGemmKernel}: every element of C gets the same FMA chain from the
 * same start (bias or C, then p = 0, 1, …; a dot element: its lane-wise chain, the same
 * lane sums, the same scalar tail), and the parked accumulators keep the 4×4 layout.
 *
 * <p>The dot halves' K loops end on {@code p != kv}, not {@code p < kv} (kv a multiple of L):
 * C2 (JDK 17) does not take a loop with a non-unit step and a != exit for a counted loop, so it
 * does not unroll it. As a counted loop it was unrolled 4× and C2 then hoisted the unrolled
 * loads past the 16 registers and kept four accumulators on the stack; the price of the form is
 * a range check per load. One core, 4×4 blocks over K 512 / 4096: 45–47 / 43–44 against 33–35 /
 * 37–38 GFLOP/s (bench/NOTES.md, CPU round 17); JDK 25, which unrolls without spilling, 53–56
 * against 50–52.
 */
class VectorGemmKernel4 extends VectorGemmKernel {
    static final int MR = 4;

    @Override public int mr() { return MR; }

    @Override public String describe() { return "vector " + MR + "x" + NR + " " + S; }

    @Override
    public void tile(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc, boolean acc,
                     float[] bias, int bo) {
        if (acc) tileAcc(kc, ap, apo, MR, bp, bpo, ldb, c, co, ldc);
        else if (bias == null) tileSet(kc, ap, apo, MR, bp, bpo, ldb, c, co, ldc, 0f, 0f, 0f, 0f);
        else tileSet(kc, ap, apo, MR, bp, bpo, ldb, c, co, ldc, bias[bo], bias[bo + 1], bias[bo + 2], bias[bo + 3]);
    }

    /**
     * A short tile of 4 rows under a 6-row kernel, reading A with the 6-row panel step. Every
     * channel count of the model at base_c 32 leaves 2 or 4 rows past the last full 6-row panel,
     * which the edge scratch computed as 6 rows and copied out: 12–15 % of the time of a 32- or
     * 128-row GEMM (bench/NOTES.md, CPU round 20). Two rows run over two B strips at once
     * ({@link #shortTile2Wide}); over one strip (four FMA chains) they were no faster than the
     * scratch, which keeps them.
     */
    @Override
    public boolean shortTile(int rows, int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc,
                             boolean acc, float[] bias, int bo) {
        int step = mr();
        if (rows == 4 && step > 4) {
            if (acc) tileAcc(kc, ap, apo, step, bp, bpo, ldb, c, co, ldc);
            else if (bias == null) tileSet(kc, ap, apo, step, bp, bpo, ldb, c, co, ldc, 0f, 0f, 0f, 0f);
            else tileSet(kc, ap, apo, step, bp, bpo, ldb, c, co, ldc, bias[bo], bias[bo + 1], bias[bo + 2], bias[bo + 3]);
            return true;
        }
        return false;
    }

    @Override
    public boolean shortTile2Wide(int kc, float[] ap, int apo, float[] bp, int bpo0, int bpo1, int ldb, float[] c, int co,
                                  int ldc, boolean acc, float[] bias, int bo) {
        if (!acc)
            for (int i = 0; i < 2; i++)
                java.util.Arrays.fill(c, co + i * ldc, co + i * ldc + 4 * L, bias == null ? 0f : bias[bo + i]);
        tile2WideAcc(kc, ap, apo, mr(), bp, bpo0, bpo1, ldb, c, co, ldc);
        return true;
    }

    /**
     * Two rows over two strips, from C. The overwrite case writes its start (bias or 0) into C first:
     * the same chain from the same start, and one loop instead of a written-out set/accumulate pair
     * (this tile runs only on the rows past the last full panel).
     */
    private static void tile2WideAcc(int kc, float[] ap, int apo, int step, float[] bp, int bpo0, int bpo1, int ldb, float[] c,
                                     int co, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, co), c01 = FloatVector.fromArray(S, c, co + L);
        FloatVector c02 = FloatVector.fromArray(S, c, co + 2 * L), c03 = FloatVector.fromArray(S, c, co + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, c, co + ldc), c11 = FloatVector.fromArray(S, c, co + ldc + L);
        FloatVector c12 = FloatVector.fromArray(S, c, co + ldc + 2 * L), c13 = FloatVector.fromArray(S, c, co + ldc + 3 * L);
        int a = apo, b = bpo0, d = bpo1;
        for (int p = 0; p < kc; p++, a += step, b += ldb, d += ldb) {
            FloatVector v0 = FloatVector.fromArray(S, bp, b), v1 = FloatVector.fromArray(S, bp, b + L);
            FloatVector v2 = FloatVector.fromArray(S, bp, d), v3 = FloatVector.fromArray(S, bp, d + L);
            FloatVector x = FloatVector.broadcast(S, ap[a]);
            c00 = x.fma(v0, c00); c01 = x.fma(v1, c01); c02 = x.fma(v2, c02); c03 = x.fma(v3, c03);
            x = FloatVector.broadcast(S, ap[a + 1]);
            c10 = x.fma(v0, c10); c11 = x.fma(v1, c11); c12 = x.fma(v2, c12); c13 = x.fma(v3, c13);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L); c02.intoArray(c, co + 2 * L); c03.intoArray(c, co + 3 * L);
        c10.intoArray(c, co + ldc); c11.intoArray(c, co + ldc + L); c12.intoArray(c, co + ldc + 2 * L); c13.intoArray(c, co + ldc + 3 * L);
    }

    // Dot tile: columns {0, 1} then {2, 3} of the 4×4 block.

    @Override
    public void dotTile(int kc, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
        int kv = kc - kc % L;
        dotHalf(kv, a, ao, lda, b, bo, ldb, c, co, ldc);
        dotHalf(kv, a, ao, lda, b, bo + 2 * ldb, ldb, c, co + 2, ldc);
        GemmKernel.dotTail(kv, kc, a, ao, lda, b, bo, ldb, c, co, ldc);
    }

    /** c[co + i·ldc + j] += Σ_{p<kv} a-row i · b-row j for i < 4, j < 2 (kv a multiple of L). */
    private static void dotHalf(int kv, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
        checkSteps(kv);
        FloatVector s00 = FloatVector.zero(S), s01 = FloatVector.zero(S), s10 = FloatVector.zero(S), s11 = FloatVector.zero(S);
        FloatVector s20 = FloatVector.zero(S), s21 = FloatVector.zero(S), s30 = FloatVector.zero(S), s31 = FloatVector.zero(S);
        int a0 = ao, a1 = ao + lda, a2 = ao + 2 * lda, a3 = ao + 3 * lda, b0 = bo, b1 = bo + ldb;
        for (int p = 0; p != kv; p += L) {   // != on purpose: see the class comment
            FloatVector y0 = FloatVector.fromArray(S, b, b0 + p), y1 = FloatVector.fromArray(S, b, b1 + p);
            FloatVector x = FloatVector.fromArray(S, a, a0 + p);
            s00 = x.fma(y0, s00); s01 = x.fma(y1, s01);
            x = FloatVector.fromArray(S, a, a1 + p);
            s10 = x.fma(y0, s10); s11 = x.fma(y1, s11);
            x = FloatVector.fromArray(S, a, a2 + p);
            s20 = x.fma(y0, s20); s21 = x.fma(y1, s21);
            x = FloatVector.fromArray(S, a, a3 + p);
            s30 = x.fma(y0, s30); s31 = x.fma(y1, s31);
        }
        float[] t = LANES.get();   // in lane order: GemmKernel.addLanes
        s00.intoArray(t, 0 * L); s01.intoArray(t, 1 * L);
        s10.intoArray(t, 2 * L); s11.intoArray(t, 3 * L);
        s20.intoArray(t, 4 * L); s21.intoArray(t, 5 * L);
        s30.intoArray(t, 6 * L); s31.intoArray(t, 7 * L);
        GemmKernel.addLanesInto(t, 0, L, 4, 2, c, co, ldc);
    }


    /**
     * A first span starts from zeroed parked accumulators (16·L floats, once per tile and K block:
     * the same +0 start as a zero vector), so one loop serves both cases.
     */
    @Override
    public void dotSpan(int len, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] acc, int acco,
                        boolean first) {
        if (first) java.util.Arrays.fill(acc, acco, acco + 16 * L, 0f);
        spanHalf(len, a, ao, lda, b, bo, ldb, acc, acco);
        spanHalf(len, a, ao, lda, b, bo + 2 * ldb, ldb, acc, acco + 2 * L);
    }

    /**
     * Two 4×2 halves as {@link #dotSpan}; here the K loop is counted ({@code <}): with one index
     * and constant offsets C2 unrolls it without spilling (one core, 512-step spans, B from L2:
     * 60–66 against 42–49 GFLOP/s for the row-strided {@code !=} loop; bench/NOTES.md, CPU round 20).
     */
    @Override
    public void dotSpan4(int len, float[] a4, int ao, float[] b4, int bo, float[] acc, int acco, boolean first) {
        checkSteps(len);
        if (first) java.util.Arrays.fill(acc, acco, acco + 16 * L, 0f);
        span4Half(4 * len, a4, ao, b4, bo, acc, acco);
        span4Half(4 * len, a4, ao, b4, bo + 2 * L, acc, acco + 2 * L);
    }

    /** The 4×2 half of dotSpan4: B rows j, j + 1 at b4[bo + q], b4[bo + q + L]; accumulators as spanHalf. */
    private static void span4Half(int n4, float[] a4, int ao, float[] b4, int bo, float[] acc, int acco) {
        FloatVector s00 = FloatVector.fromArray(S, acc, acco), s01 = FloatVector.fromArray(S, acc, acco + L);
        FloatVector s10 = FloatVector.fromArray(S, acc, acco + 4 * L), s11 = FloatVector.fromArray(S, acc, acco + 5 * L);
        FloatVector s20 = FloatVector.fromArray(S, acc, acco + 8 * L), s21 = FloatVector.fromArray(S, acc, acco + 9 * L);
        FloatVector s30 = FloatVector.fromArray(S, acc, acco + 12 * L), s31 = FloatVector.fromArray(S, acc, acco + 13 * L);
        for (int q = 0; q < n4; q += 4 * L) {
            FloatVector y0 = FloatVector.fromArray(S, b4, bo + q), y1 = FloatVector.fromArray(S, b4, bo + q + L);
            FloatVector x = FloatVector.fromArray(S, a4, ao + q);
            s00 = x.fma(y0, s00); s01 = x.fma(y1, s01);
            x = FloatVector.fromArray(S, a4, ao + q + L);
            s10 = x.fma(y0, s10); s11 = x.fma(y1, s11);
            x = FloatVector.fromArray(S, a4, ao + q + 2 * L);
            s20 = x.fma(y0, s20); s21 = x.fma(y1, s21);
            x = FloatVector.fromArray(S, a4, ao + q + 3 * L);
            s30 = x.fma(y0, s30); s31 = x.fma(y1, s31);
        }
        s00.intoArray(acc, acco); s01.intoArray(acc, acco + L);
        s10.intoArray(acc, acco + 4 * L); s11.intoArray(acc, acco + 5 * L);
        s20.intoArray(acc, acco + 8 * L); s21.intoArray(acc, acco + 9 * L);
        s30.intoArray(acc, acco + 12 * L); s31.intoArray(acc, acco + 13 * L);
    }

    /** The 4×2 half of dotSpan whose accumulator (i, j) is parked at acc[acco + (4i + j)·L]. */
    private static void spanHalf(int len, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] acc, int acco) {
        checkSteps(len);
        FloatVector s00 = FloatVector.fromArray(S, acc, acco), s01 = FloatVector.fromArray(S, acc, acco + L);
        FloatVector s10 = FloatVector.fromArray(S, acc, acco + 4 * L), s11 = FloatVector.fromArray(S, acc, acco + 5 * L);
        FloatVector s20 = FloatVector.fromArray(S, acc, acco + 8 * L), s21 = FloatVector.fromArray(S, acc, acco + 9 * L);
        FloatVector s30 = FloatVector.fromArray(S, acc, acco + 12 * L), s31 = FloatVector.fromArray(S, acc, acco + 13 * L);
        int a0 = ao, a1 = ao + lda, a2 = ao + 2 * lda, a3 = ao + 3 * lda, b0 = bo, b1 = bo + ldb;
        for (int p = 0; p != len; p += L) {   // != on purpose: see the class comment
            FloatVector y0 = FloatVector.fromArray(S, b, b0 + p), y1 = FloatVector.fromArray(S, b, b1 + p);
            FloatVector x = FloatVector.fromArray(S, a, a0 + p);
            s00 = x.fma(y0, s00); s01 = x.fma(y1, s01);
            x = FloatVector.fromArray(S, a, a1 + p);
            s10 = x.fma(y0, s10); s11 = x.fma(y1, s11);
            x = FloatVector.fromArray(S, a, a2 + p);
            s20 = x.fma(y0, s20); s21 = x.fma(y1, s21);
            x = FloatVector.fromArray(S, a, a3 + p);
            s30 = x.fma(y0, s30); s31 = x.fma(y1, s31);
        }
        s00.intoArray(acc, acco); s01.intoArray(acc, acco + L);
        s10.intoArray(acc, acco + 4 * L); s11.intoArray(acc, acco + 5 * L);
        s20.intoArray(acc, acco + 8 * L); s21.intoArray(acc, acco + 9 * L);
        s30.intoArray(acc, acco + 12 * L); s31.intoArray(acc, acco + 13 * L);
    }


    /**
     * C = A·B + bias per row. tileSet and tileAcc differ only in how the accumulators start:
     * written out twice on purpose, as in {@link VectorGemmKernel} (vector values merged after an
     * if are what C2 in JDK 17 may box; a tile is too short to pay for storing the bias into C first).
     */
    private static void tileSet(int kc, float[] ap, int apo, int step, float[] bp, int bpo, int ldb, float[] c, int co, int ldc,
                                float b0, float b1, float b2, float b3) {
        FloatVector c00 = FloatVector.broadcast(S, b0), c01 = c00;
        FloatVector c10 = FloatVector.broadcast(S, b1), c11 = c10;
        FloatVector c20 = FloatVector.broadcast(S, b2), c21 = c20;
        FloatVector c30 = FloatVector.broadcast(S, b3), c31 = c30;
        int a = apo, b = bpo;
        for (int p = 0; p < kc; p++, a += step, b += ldb) {
            FloatVector v0 = FloatVector.fromArray(S, bp, b);
            FloatVector v1 = FloatVector.fromArray(S, bp, b + L);
            FloatVector x = FloatVector.broadcast(S, ap[a]);
            c00 = x.fma(v0, c00); c01 = x.fma(v1, c01);
            x = FloatVector.broadcast(S, ap[a + 1]);
            c10 = x.fma(v0, c10); c11 = x.fma(v1, c11);
            x = FloatVector.broadcast(S, ap[a + 2]);
            c20 = x.fma(v0, c20); c21 = x.fma(v1, c21);
            x = FloatVector.broadcast(S, ap[a + 3]);
            c30 = x.fma(v0, c30); c31 = x.fma(v1, c31);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc); c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc); c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc); c31.intoArray(c, co + 3 * ldc + L);
    }

    private static void tileAcc(int kc, float[] ap, int apo, int step, float[] bp, int bpo, int ldb, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, co), c01 = FloatVector.fromArray(S, c, co + L);
        FloatVector c10 = FloatVector.fromArray(S, c, co + ldc), c11 = FloatVector.fromArray(S, c, co + ldc + L);
        FloatVector c20 = FloatVector.fromArray(S, c, co + 2 * ldc), c21 = FloatVector.fromArray(S, c, co + 2 * ldc + L);
        FloatVector c30 = FloatVector.fromArray(S, c, co + 3 * ldc), c31 = FloatVector.fromArray(S, c, co + 3 * ldc + L);
        int a = apo, b = bpo;
        for (int p = 0; p < kc; p++, a += step, b += ldb) {
            FloatVector v0 = FloatVector.fromArray(S, bp, b);
            FloatVector v1 = FloatVector.fromArray(S, bp, b + L);
            FloatVector x = FloatVector.broadcast(S, ap[a]);
            c00 = x.fma(v0, c00); c01 = x.fma(v1, c01);
            x = FloatVector.broadcast(S, ap[a + 1]);
            c10 = x.fma(v0, c10); c11 = x.fma(v1, c11);
            x = FloatVector.broadcast(S, ap[a + 2]);
            c20 = x.fma(v0, c20); c21 = x.fma(v1, c21);
            x = FloatVector.broadcast(S, ap[a + 3]);
            c30 = x.fma(v0, c30); c31 = x.fma(v1, c31);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc); c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc); c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc); c31.intoArray(c, co + 3 * ldc + L);
    }
}
