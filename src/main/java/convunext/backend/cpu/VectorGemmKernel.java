package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked micro-kernel on the incubating Vector API: 8 rows × 2 vectors (8×32 floats
 * with AVX-512) held in 16 accumulators; each step loads two B vectors and broadcasts eight A
 * values. 8 rows, not 6: every channel count of the model is a multiple of 8, so no GEMM of it
 * has an edge panel (with 6, M = 32 computed 36 rows and went through the edge path for the last
 * two). Where the register file has 16 vector registers (x86 without AVX-512) the tile is
 * {@link VectorGemmKernel6}'s 6 rows instead (8 would spill there; 6 pays the edge panel at
 * M = 32 and gains on the rest, bench/NOTES.md CPU round 17), or {@link VectorGemmKernel4}'s 4. Only loaded through {@link GemmKernels} after the
 * module was found, so the scalar path never touches a Vector API type.
 */
class VectorGemmKernel implements GemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 8, NR = 2 * L;
    /** Per thread: the dot tiles' 16 accumulators stored for {@link GemmKernel#addLanes} (no reduceLanes: its order is unspecified). */
    static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[16 * L]);

    @Override public int mr() { return MR; }

    @Override public int nr() { return NR; }

    @Override public String describe() { return "vector " + MR + "x" + NR + " " + S; }

    /**
     * Two straight-line variants instead of one with branches: where vector values merge after
     * an if (C or bias, acc or not) C2 in JDK 17 may fail to keep them unboxed and, after a
     * recompilation, allocated a vector box per FMA step (≈ 20 KB per tile, 10× slower).
     */
    @Override
    public void tile(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc, boolean acc,
                     float[] bias, int bo) {
        if (acc) tileAcc(kc, ap, apo, bp, bpo, ldb, c, co, ldc);
        else if (bias == null) tileSet(kc, ap, apo, bp, bpo, ldb, c, co, ldc, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
        else tileSet(kc, ap, apo, bp, bpo, ldb, c, co, ldc, bias[bo], bias[bo + 1], bias[bo + 2], bias[bo + 3], bias[bo + 4],
                bias[bo + 5], bias[bo + 6], bias[bo + 7]);
    }

    /**
     * C = A·B + bias (per row), accumulators started at the bias. tileSet and tileAcc differ only
     * in how the 16 accumulators start: duplicated on purpose, so each hot k loop is one small
     * straight-line method whose vectors C2 keeps in registers (see VectorOps on C2's inlining
     * cutoff and boxing).
     */
    private static void tileSet(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc,
                                float b0, float b1, float b2, float b3, float b4, float b5, float b6, float b7) {
        FloatVector c00 = FloatVector.broadcast(S, b0), c01 = c00;
        FloatVector c10 = FloatVector.broadcast(S, b1), c11 = c10;
        FloatVector c20 = FloatVector.broadcast(S, b2), c21 = c20;
        FloatVector c30 = FloatVector.broadcast(S, b3), c31 = c30;
        FloatVector c40 = FloatVector.broadcast(S, b4), c41 = c40;
        FloatVector c50 = FloatVector.broadcast(S, b5), c51 = c50;
        FloatVector c60 = FloatVector.broadcast(S, b6), c61 = c60;
        FloatVector c70 = FloatVector.broadcast(S, b7), c71 = c70;
        int a = apo, b = bpo;
        for (int p = 0; p < kc; p++, a += MR, b += ldb) {
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
            x = FloatVector.broadcast(S, ap[a + 4]);
            c40 = x.fma(v0, c40); c41 = x.fma(v1, c41);
            x = FloatVector.broadcast(S, ap[a + 5]);
            c50 = x.fma(v0, c50); c51 = x.fma(v1, c51);
            x = FloatVector.broadcast(S, ap[a + 6]);
            c60 = x.fma(v0, c60); c61 = x.fma(v1, c61);
            x = FloatVector.broadcast(S, ap[a + 7]);
            c70 = x.fma(v0, c70); c71 = x.fma(v1, c71);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc); c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc); c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc); c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc); c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc); c51.intoArray(c, co + 5 * ldc + L);
        c60.intoArray(c, co + 6 * ldc); c61.intoArray(c, co + 6 * ldc + L);
        c70.intoArray(c, co + 7 * ldc); c71.intoArray(c, co + 7 * ldc + L);
    }

    /** C += A·B, accumulators started from C. */
    private static void tileAcc(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, co), c01 = FloatVector.fromArray(S, c, co + L);
        FloatVector c10 = FloatVector.fromArray(S, c, co + ldc), c11 = FloatVector.fromArray(S, c, co + ldc + L);
        FloatVector c20 = FloatVector.fromArray(S, c, co + 2 * ldc), c21 = FloatVector.fromArray(S, c, co + 2 * ldc + L);
        FloatVector c30 = FloatVector.fromArray(S, c, co + 3 * ldc), c31 = FloatVector.fromArray(S, c, co + 3 * ldc + L);
        FloatVector c40 = FloatVector.fromArray(S, c, co + 4 * ldc), c41 = FloatVector.fromArray(S, c, co + 4 * ldc + L);
        FloatVector c50 = FloatVector.fromArray(S, c, co + 5 * ldc), c51 = FloatVector.fromArray(S, c, co + 5 * ldc + L);
        FloatVector c60 = FloatVector.fromArray(S, c, co + 6 * ldc), c61 = FloatVector.fromArray(S, c, co + 6 * ldc + L);
        FloatVector c70 = FloatVector.fromArray(S, c, co + 7 * ldc), c71 = FloatVector.fromArray(S, c, co + 7 * ldc + L);
        int a = apo, b = bpo;
        for (int p = 0; p < kc; p++, a += MR, b += ldb) {
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
            x = FloatVector.broadcast(S, ap[a + 4]);
            c40 = x.fma(v0, c40); c41 = x.fma(v1, c41);
            x = FloatVector.broadcast(S, ap[a + 5]);
            c50 = x.fma(v0, c50); c51 = x.fma(v1, c51);
            x = FloatVector.broadcast(S, ap[a + 6]);
            c60 = x.fma(v0, c60); c61 = x.fma(v1, c61);
            x = FloatVector.broadcast(S, ap[a + 7]);
            c70 = x.fma(v0, c70); c71 = x.fma(v1, c71);
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc); c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc); c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc); c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc); c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc); c51.intoArray(c, co + 5 * ldc + L);
        c60.intoArray(c, co + 6 * ldc); c61.intoArray(c, co + 6 * ldc + L);
        c70.intoArray(c, co + 7 * ldc); c71.intoArray(c, co + 7 * ldc + L);
    }

    @Override public int dotRows() { return 4; }

    /** 4×4 block of dot products, 16 vector accumulators reduced once per call. */
    @Override
    public void dotTile(int kc, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
        FloatVector s00 = FloatVector.zero(S), s01 = FloatVector.zero(S), s02 = FloatVector.zero(S), s03 = FloatVector.zero(S);
        FloatVector s10 = FloatVector.zero(S), s11 = FloatVector.zero(S), s12 = FloatVector.zero(S), s13 = FloatVector.zero(S);
        FloatVector s20 = FloatVector.zero(S), s21 = FloatVector.zero(S), s22 = FloatVector.zero(S), s23 = FloatVector.zero(S);
        FloatVector s30 = FloatVector.zero(S), s31 = FloatVector.zero(S), s32 = FloatVector.zero(S), s33 = FloatVector.zero(S);
        int a0 = ao, a1 = ao + lda, a2 = ao + 2 * lda, a3 = ao + 3 * lda;
        int b0 = bo, b1 = bo + ldb, b2 = bo + 2 * ldb, b3 = bo + 3 * ldb;
        int kv = kc - kc % L, p = 0;
        for (; p < kv; p += L) {
            FloatVector y0 = FloatVector.fromArray(S, b, b0 + p), y1 = FloatVector.fromArray(S, b, b1 + p);
            FloatVector y2 = FloatVector.fromArray(S, b, b2 + p), y3 = FloatVector.fromArray(S, b, b3 + p);
            FloatVector x = FloatVector.fromArray(S, a, a0 + p);
            s00 = x.fma(y0, s00); s01 = x.fma(y1, s01); s02 = x.fma(y2, s02); s03 = x.fma(y3, s03);
            x = FloatVector.fromArray(S, a, a1 + p);
            s10 = x.fma(y0, s10); s11 = x.fma(y1, s11); s12 = x.fma(y2, s12); s13 = x.fma(y3, s13);
            x = FloatVector.fromArray(S, a, a2 + p);
            s20 = x.fma(y0, s20); s21 = x.fma(y1, s21); s22 = x.fma(y2, s22); s23 = x.fma(y3, s23);
            x = FloatVector.fromArray(S, a, a3 + p);
            s30 = x.fma(y0, s30); s31 = x.fma(y1, s31); s32 = x.fma(y2, s32); s33 = x.fma(y3, s33);
        }
        float[] t = LANES.get();   // in lane order: GemmKernel.addLanes
        s00.intoArray(t, 0 * L); s01.intoArray(t, 1 * L); s02.intoArray(t, 2 * L); s03.intoArray(t, 3 * L);
        s10.intoArray(t, 4 * L); s11.intoArray(t, 5 * L); s12.intoArray(t, 6 * L); s13.intoArray(t, 7 * L);
        s20.intoArray(t, 8 * L); s21.intoArray(t, 9 * L); s22.intoArray(t, 10 * L); s23.intoArray(t, 11 * L);
        s30.intoArray(t, 12 * L); s31.intoArray(t, 13 * L); s32.intoArray(t, 14 * L); s33.intoArray(t, 15 * L);
        GemmKernel.addLanesInto(t, 0, L, 4, 4, c, co, ldc);
        GemmKernel.dotTail(p, kc, a, ao, lda, b, bo, ldb, c, co, ldc);
    }


    @Override
    public void dot(int kc, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        int p = 0;
        for (; p + 2 * L <= kc; p += 2 * L) {
            s0 = FloatVector.fromArray(S, a, ao + p).fma(FloatVector.fromArray(S, b, bo + p), s0);
            s1 = FloatVector.fromArray(S, a, ao + p + L).fma(FloatVector.fromArray(S, b, bo + p + L), s1);
        }
        float[] tl = LANES.get();   // in lane order: GemmKernel.addLanes
        s0.intoArray(tl, 0);
        s1.intoArray(tl, L);
        float t = GemmKernel.addLanes2(tl, 0, L, L);
        for (; p < kc; p++) t = Math.fma(a[ao + p], b[bo + p], t);
        c[co] += t;
    }

    @Override
    public float sum(int kc, float[] a, int ao) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        int p = 0;
        for (; p + 2 * L <= kc; p += 2 * L) {
            s0 = s0.add(FloatVector.fromArray(S, a, ao + p));
            s1 = s1.add(FloatVector.fromArray(S, a, ao + p + L));
        }
        float[] tl = LANES.get();   // in lane order: GemmKernel.addLanes
        s0.intoArray(tl, 0);
        s1.intoArray(tl, L);
        float t = GemmKernel.addLanes2(tl, 0, L, L);
        for (; p < kc; p++) t += a[ao + p];
        return t;
    }

    // Spans of dotTile and sum for the fused linear backward (CpuLinearBwd): the same per-lane
    // FMA / add chains as dotTile's and sum's loops, accumulators parked in a float buffer between
    // spans (exact), the same lane sums at the K block's end. A first span starts from zeroed
    // parked accumulators (the same +0 start as a zero vector), so one straight-line loop serves
    // both starts, as in VectorGemmKernel4.

    @Override public boolean dotSpans() { return true; }

    @Override public int dotLanes() { return L; }

    @Override
    public void dotSpan(int len, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] acc, int acco,
                        boolean first) {
        if (first) java.util.Arrays.fill(acc, acco, acco + 16 * L, 0f);
        dotSpanLoad(len, a, ao, lda, b, bo, ldb, acc, acco);
    }

    private static void dotSpanLoad(int len, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] acc, int acco) {
        FloatVector s00 = FloatVector.fromArray(S, acc, acco), s01 = FloatVector.fromArray(S, acc, acco + L);
        FloatVector s02 = FloatVector.fromArray(S, acc, acco + 2 * L), s03 = FloatVector.fromArray(S, acc, acco + 3 * L);
        FloatVector s10 = FloatVector.fromArray(S, acc, acco + 4 * L), s11 = FloatVector.fromArray(S, acc, acco + 5 * L);
        FloatVector s12 = FloatVector.fromArray(S, acc, acco + 6 * L), s13 = FloatVector.fromArray(S, acc, acco + 7 * L);
        FloatVector s20 = FloatVector.fromArray(S, acc, acco + 8 * L), s21 = FloatVector.fromArray(S, acc, acco + 9 * L);
        FloatVector s22 = FloatVector.fromArray(S, acc, acco + 10 * L), s23 = FloatVector.fromArray(S, acc, acco + 11 * L);
        FloatVector s30 = FloatVector.fromArray(S, acc, acco + 12 * L), s31 = FloatVector.fromArray(S, acc, acco + 13 * L);
        FloatVector s32 = FloatVector.fromArray(S, acc, acco + 14 * L), s33 = FloatVector.fromArray(S, acc, acco + 15 * L);
        int a0 = ao, a1 = ao + lda, a2 = ao + 2 * lda, a3 = ao + 3 * lda;
        int b0 = bo, b1 = bo + ldb, b2 = bo + 2 * ldb, b3 = bo + 3 * ldb;
        for (int p = 0; p < len; p += L) {
            FloatVector y0 = FloatVector.fromArray(S, b, b0 + p), y1 = FloatVector.fromArray(S, b, b1 + p);
            FloatVector y2 = FloatVector.fromArray(S, b, b2 + p), y3 = FloatVector.fromArray(S, b, b3 + p);
            FloatVector x = FloatVector.fromArray(S, a, a0 + p);
            s00 = x.fma(y0, s00); s01 = x.fma(y1, s01); s02 = x.fma(y2, s02); s03 = x.fma(y3, s03);
            x = FloatVector.fromArray(S, a, a1 + p);
            s10 = x.fma(y0, s10); s11 = x.fma(y1, s11); s12 = x.fma(y2, s12); s13 = x.fma(y3, s13);
            x = FloatVector.fromArray(S, a, a2 + p);
            s20 = x.fma(y0, s20); s21 = x.fma(y1, s21); s22 = x.fma(y2, s22); s23 = x.fma(y3, s23);
            x = FloatVector.fromArray(S, a, a3 + p);
            s30 = x.fma(y0, s30); s31 = x.fma(y1, s31); s32 = x.fma(y2, s32); s33 = x.fma(y3, s33);
        }
        s00.intoArray(acc, acco); s01.intoArray(acc, acco + L); s02.intoArray(acc, acco + 2 * L); s03.intoArray(acc, acco + 3 * L);
        s10.intoArray(acc, acco + 4 * L); s11.intoArray(acc, acco + 5 * L); s12.intoArray(acc, acco + 6 * L); s13.intoArray(acc, acco + 7 * L);
        s20.intoArray(acc, acco + 8 * L); s21.intoArray(acc, acco + 9 * L); s22.intoArray(acc, acco + 10 * L); s23.intoArray(acc, acco + 11 * L);
        s30.intoArray(acc, acco + 12 * L); s31.intoArray(acc, acco + 13 * L); s32.intoArray(acc, acco + 14 * L); s33.intoArray(acc, acco + 15 * L);
    }

    /** Span methods take a whole number of vectors (a != loop would run past it into a range check). */
    static void checkSteps(int n) {
        if (n < 0 || n % L != 0) throw new IllegalArgumentException("dot: " + n + " steps is not a multiple of " + L + " lanes");
    }

    @Override
    public void pack4(float[] src, int so, int ld, int len, float[] dst, int d) {
        checkSteps(len);
        int s0 = so, s1 = so + ld, s2 = so + 2 * ld, s3 = so + 3 * ld;
        for (int v = 0, o = d; v < len; v += L, o += 4 * L) {
            FloatVector.fromArray(S, src, s0 + v).intoArray(dst, o);
            FloatVector.fromArray(S, src, s1 + v).intoArray(dst, o + L);
            FloatVector.fromArray(S, src, s2 + v).intoArray(dst, o + 2 * L);
            FloatVector.fromArray(S, src, s3 + v).intoArray(dst, o + 3 * L);
        }
    }

    /**
     * dotSpan over {@link #pack4}'s layout, the whole 4×4 block in one counted loop: 16
     * accumulators, four B vectors and one A vector are 21 of AVX-512's 32 registers, and with one
     * index and constant offsets C2 drops the range checks (the 16-register kernels run it as two
     * 4×2 halves instead, {@link VectorGemmKernel4}).
     */
    @Override
    public void dotSpan4(int len, float[] a4, int ao, float[] b4, int bo, float[] acc, int acco, boolean first) {
        checkSteps(len);
        if (first) java.util.Arrays.fill(acc, acco, acco + 16 * L, 0f);   // the zero start, as VectorGemmKernel4's: one loop for both
        span4(4 * len, a4, ao, b4, bo, acc, acco);
    }

    private static void span4(int n4, float[] a4, int ao, float[] b4, int bo, float[] acc, int acco) {
        FloatVector s00 = FloatVector.fromArray(S, acc, acco), s01 = FloatVector.fromArray(S, acc, acco + L);
        FloatVector s02 = FloatVector.fromArray(S, acc, acco + 2 * L), s03 = FloatVector.fromArray(S, acc, acco + 3 * L);
        FloatVector s10 = FloatVector.fromArray(S, acc, acco + 4 * L), s11 = FloatVector.fromArray(S, acc, acco + 5 * L);
        FloatVector s12 = FloatVector.fromArray(S, acc, acco + 6 * L), s13 = FloatVector.fromArray(S, acc, acco + 7 * L);
        FloatVector s20 = FloatVector.fromArray(S, acc, acco + 8 * L), s21 = FloatVector.fromArray(S, acc, acco + 9 * L);
        FloatVector s22 = FloatVector.fromArray(S, acc, acco + 10 * L), s23 = FloatVector.fromArray(S, acc, acco + 11 * L);
        FloatVector s30 = FloatVector.fromArray(S, acc, acco + 12 * L), s31 = FloatVector.fromArray(S, acc, acco + 13 * L);
        FloatVector s32 = FloatVector.fromArray(S, acc, acco + 14 * L), s33 = FloatVector.fromArray(S, acc, acco + 15 * L);
        for (int q = 0; q < n4; q += 4 * L) {
            FloatVector y0 = FloatVector.fromArray(S, b4, bo + q), y1 = FloatVector.fromArray(S, b4, bo + q + L);
            FloatVector y2 = FloatVector.fromArray(S, b4, bo + q + 2 * L), y3 = FloatVector.fromArray(S, b4, bo + q + 3 * L);
            FloatVector x = FloatVector.fromArray(S, a4, ao + q);
            s00 = x.fma(y0, s00); s01 = x.fma(y1, s01); s02 = x.fma(y2, s02); s03 = x.fma(y3, s03);
            x = FloatVector.fromArray(S, a4, ao + q + L);
            s10 = x.fma(y0, s10); s11 = x.fma(y1, s11); s12 = x.fma(y2, s12); s13 = x.fma(y3, s13);
            x = FloatVector.fromArray(S, a4, ao + q + 2 * L);
            s20 = x.fma(y0, s20); s21 = x.fma(y1, s21); s22 = x.fma(y2, s22); s23 = x.fma(y3, s23);
            x = FloatVector.fromArray(S, a4, ao + q + 3 * L);
            s30 = x.fma(y0, s30); s31 = x.fma(y1, s31); s32 = x.fma(y2, s32); s33 = x.fma(y3, s33);
        }
        s00.intoArray(acc, acco); s01.intoArray(acc, acco + L); s02.intoArray(acc, acco + 2 * L); s03.intoArray(acc, acco + 3 * L);
        s10.intoArray(acc, acco + 4 * L); s11.intoArray(acc, acco + 5 * L); s12.intoArray(acc, acco + 6 * L); s13.intoArray(acc, acco + 7 * L);
        s20.intoArray(acc, acco + 8 * L); s21.intoArray(acc, acco + 9 * L); s22.intoArray(acc, acco + 10 * L); s23.intoArray(acc, acco + 11 * L);
        s30.intoArray(acc, acco + 12 * L); s31.intoArray(acc, acco + 13 * L); s32.intoArray(acc, acco + 14 * L); s33.intoArray(acc, acco + 15 * L);
    }

    @Override
    public void dotSpanPut(float[] acc, int acco, float[] c, int co, int ldc) {
        GemmKernel.addLanesInto(acc, acco, L, 4, 4, c, co, ldc);
    }

    @Override
    public void sumSpan(int len, float[] a, int ao, float[] acc, int acco, boolean first) {
        if (first) java.util.Arrays.fill(acc, acco, acco + 2 * L, 0f);
        sumSpanLoad(len, a, ao, acc, acco);
    }

    private static void sumSpanLoad(int len, float[] a, int ao, float[] acc, int acco) {
        FloatVector s0 = FloatVector.fromArray(S, acc, acco), s1 = FloatVector.fromArray(S, acc, acco + L);
        for (int p = 0; p < len; p += 2 * L) {
            s0 = s0.add(FloatVector.fromArray(S, a, ao + p));
            s1 = s1.add(FloatVector.fromArray(S, a, ao + p + L));
        }
        s0.intoArray(acc, acco);
        s1.intoArray(acc, acco + L);
    }

    @Override
    public float sumSpanReduce(float[] acc, int acco) {
        return GemmKernel.addLanes2(acc, acco, acco + L, L);
    }
}
