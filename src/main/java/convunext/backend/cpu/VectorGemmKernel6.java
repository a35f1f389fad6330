package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * {@link VectorGemmKernel4} with a 6-row tile: 6 rows × 2 vectors, 12 accumulators, two B vectors
 * and a broadcast, 15 of the 16 vector registers of x86 without AVX-512 (BLIS' shape for AVX2).
 * Twelve independent FMA chains instead of eight: with a 4-cycle FMA on two pipes, eight chains
 * just cover the latency and any stall (a load, a tile's start and end) shows; twelve leave room.
 * One core, L1-resident panels: 68–73 against 62–64 GFLOP/s at kc 32, 72–78 against 63–69 at kc
 * 64, 75–80 against 71 at kc 128 (bench/NOTES.md, CPU round 17). The dot tiles stay 4 × 4 (two 4×2
 * halves, inherited).
 *
 * <p>Same bits as the 4- and 8-row kernels: every element of C gets the same FMA chain from the
 * same start (bias or C, then p = 0, 1, …); rows past M run in CpuGemm's edge scratch, which starts
 * them from C or the bias as a full tile does ({@link CpuGemm#edgeTile}).
 */
final class VectorGemmKernel6 extends VectorGemmKernel4 {
    static final int MR = 6;

    @Override public int mr() { return MR; }

    @Override public String describe() { return "vector " + MR + "x" + NR + " " + S; }

    @Override
    public void tile(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc, boolean acc,
                     float[] bias, int bo) {
        if (acc) tileAcc(kc, ap, apo, bp, bpo, ldb, c, co, ldc);
        else if (bias == null) tileSet(kc, ap, apo, bp, bpo, ldb, c, co, ldc, 0f, 0f, 0f, 0f, 0f, 0f);
        else tileSet(kc, ap, apo, bp, bpo, ldb, c, co, ldc, bias[bo], bias[bo + 1], bias[bo + 2], bias[bo + 3], bias[bo + 4], bias[bo + 5]);
    }

    /**
     * C = A·B + bias per row; tileSet and tileAcc differ only in how the accumulators start (see
     * VectorGemmKernel4). Written out, not shared with the 4- and 8-row tiles: a tile's
     * accumulators have to be named locals, since vectors held in arrays or passed to helpers of
     * ours are what C2 (JDK 17) boxes (see VectorOps).
     */
    private static void tileSet(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc,
                                float b0, float b1, float b2, float b3, float b4, float b5) {
        FloatVector c00 = FloatVector.broadcast(S, b0), c01 = c00;
        FloatVector c10 = FloatVector.broadcast(S, b1), c11 = c10;
        FloatVector c20 = FloatVector.broadcast(S, b2), c21 = c20;
        FloatVector c30 = FloatVector.broadcast(S, b3), c31 = c30;
        FloatVector c40 = FloatVector.broadcast(S, b4), c41 = c40;
        FloatVector c50 = FloatVector.broadcast(S, b5), c51 = c50;
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
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc); c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc); c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc); c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc); c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc); c51.intoArray(c, co + 5 * ldc + L);
    }

    private static void tileAcc(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, co), c01 = FloatVector.fromArray(S, c, co + L);
        FloatVector c10 = FloatVector.fromArray(S, c, co + ldc), c11 = FloatVector.fromArray(S, c, co + ldc + L);
        FloatVector c20 = FloatVector.fromArray(S, c, co + 2 * ldc), c21 = FloatVector.fromArray(S, c, co + 2 * ldc + L);
        FloatVector c30 = FloatVector.fromArray(S, c, co + 3 * ldc), c31 = FloatVector.fromArray(S, c, co + 3 * ldc + L);
        FloatVector c40 = FloatVector.fromArray(S, c, co + 4 * ldc), c41 = FloatVector.fromArray(S, c, co + 4 * ldc + L);
        FloatVector c50 = FloatVector.fromArray(S, c, co + 5 * ldc), c51 = FloatVector.fromArray(S, c, co + 5 * ldc + L);
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
        }
        c00.intoArray(c, co); c01.intoArray(c, co + L);
        c10.intoArray(c, co + ldc); c11.intoArray(c, co + ldc + L);
        c20.intoArray(c, co + 2 * ldc); c21.intoArray(c, co + 2 * ldc + L);
        c30.intoArray(c, co + 3 * ldc); c31.intoArray(c, co + 3 * ldc + L);
        c40.intoArray(c, co + 4 * ldc); c41.intoArray(c, co + 4 * ldc + L);
        c50.intoArray(c, co + 5 * ldc); c51.intoArray(c, co + 5 * ldc + L);
    }
}
