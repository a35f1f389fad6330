package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked micro-kernel on the incubating Vector API: 6 rows × 2 vectors (6×32 floats
 * with AVX-512) held in 12 accumulators; each step loads two B vectors and broadcasts six A
 * values. Only loaded through {@link GemmKernels} after the module was found, so the scalar path
 * never touches a Vector API type.
 */
final class VectorGemmKernel implements GemmKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final int MR = 6, NR = 2 * L;

    @Override public int mr() { return MR; }

    @Override public int nr() { return NR; }

    @Override public String describe() { return "vector " + MR + "x" + NR + " " + S; }

    @Override
    public void tile(int kc, float[] ap, int apo, float[] bp, int bpo, float[] c, int co, int ldc, boolean acc,
                     float[] bias, int bo) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int a = apo, b = bpo;
        for (int p = 0; p < kc; p++, a += MR, b += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, b);
            FloatVector b1 = FloatVector.fromArray(S, bp, b + L);
            FloatVector x = FloatVector.broadcast(S, ap[a]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[a + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[a + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[a + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[a + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[a + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        boolean bi = !acc && bias != null;
        store(c00, c01, c, co, acc, bi ? bias[bo] : 0f);
        store(c10, c11, c, co + ldc, acc, bi ? bias[bo + 1] : 0f);
        store(c20, c21, c, co + 2 * ldc, acc, bi ? bias[bo + 2] : 0f);
        store(c30, c31, c, co + 3 * ldc, acc, bi ? bias[bo + 3] : 0f);
        store(c40, c41, c, co + 4 * ldc, acc, bi ? bias[bo + 4] : 0f);
        store(c50, c51, c, co + 5 * ldc, acc, bi ? bias[bo + 5] : 0f);
    }

    private static void store(FloatVector v0, FloatVector v1, float[] c, int o, boolean acc, float init) {
        if (acc) {
            v0 = v0.add(FloatVector.fromArray(S, c, o));
            v1 = v1.add(FloatVector.fromArray(S, c, o + L));
        } else if (init != 0f) {
            v0 = v0.add(init);
            v1 = v1.add(init);
        }
        v0.intoArray(c, o);
        v1.intoArray(c, o + L);
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
        put(c, co, s00, s01, s02, s03);
        put(c, co + ldc, s10, s11, s12, s13);
        put(c, co + 2 * ldc, s20, s21, s22, s23);
        put(c, co + 3 * ldc, s30, s31, s32, s33);
        if (p < kc)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    float t = 0;
                    for (int q = p; q < kc; q++) t = Math.fma(a[ao + i * lda + q], b[bo + j * ldb + q], t);
                    c[co + i * ldc + j] += t;
                }
    }

    private static void put(float[] c, int o, FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3) {
        c[o] += v0.reduceLanes(VectorOperators.ADD);
        c[o + 1] += v1.reduceLanes(VectorOperators.ADD);
        c[o + 2] += v2.reduceLanes(VectorOperators.ADD);
        c[o + 3] += v3.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void dot(int kc, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        int p = 0;
        for (; p + 2 * L <= kc; p += 2 * L) {
            s0 = FloatVector.fromArray(S, a, ao + p).fma(FloatVector.fromArray(S, b, bo + p), s0);
            s1 = FloatVector.fromArray(S, a, ao + p + L).fma(FloatVector.fromArray(S, b, bo + p + L), s1);
        }
        float t = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; p < kc; p++) t = Math.fma(a[ao + p], b[bo + p], t);
        c[co] += t;
    }
}
