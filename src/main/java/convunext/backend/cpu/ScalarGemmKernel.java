package convunext.backend.cpu;

/** Plain-Java 4×8 micro-kernel, used when the jdk.incubator.vector module is not present. */
final class ScalarGemmKernel implements GemmKernel {
    static final int MR = 4, NR = 8;

    @Override public int mr() { return MR; }

    @Override public int nr() { return NR; }

    @Override public String describe() { return "scalar " + MR + "x" + NR; }

    @Override
    public void tile(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc, boolean acc,
                     float[] bias, int bo) {
        float[] t = new float[MR * NR];
        for (int p = 0; p < kc; p++) {
            int a = apo + p * MR, b = bpo + p * ldb;
            for (int i = 0; i < MR; i++) {
                float av = ap[a + i];
                int r = i * NR;
                // Eight independent accumulations per row: C2 keeps them in registers.
                for (int j = 0; j < NR; j++) t[r + j] = Math.fma(av, bp[b + j], t[r + j]);
            }
        }
        for (int i = 0; i < MR; i++) {
            int row = co + i * ldc;
            float init = bias == null ? 0f : bias[bo + i];
            for (int j = 0; j < NR; j++) c[row + j] = (acc ? c[row + j] : init) + t[i * NR + j];
        }
    }

    @Override public int dotRows() { return 2; }

    @Override
    public void dotTile(int kc, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) dot(kc, a, ao + i * lda, b, bo + j * ldb, c, co + i * ldc + j);
    }

    @Override
    public void dot(int kc, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int p = 0;
        for (; p + 4 <= kc; p += 4) {
            s0 = Math.fma(a[ao + p], b[bo + p], s0);
            s1 = Math.fma(a[ao + p + 1], b[bo + p + 1], s1);
            s2 = Math.fma(a[ao + p + 2], b[bo + p + 2], s2);
            s3 = Math.fma(a[ao + p + 3], b[bo + p + 3], s3);
        }
        for (; p < kc; p++) s0 = Math.fma(a[ao + p], b[bo + p], s0);
        c[co] += (s0 + s1) + (s2 + s3);
    }

    @Override
    public float sum(int kc, float[] a, int ao) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int p = 0;
        for (; p + 4 <= kc; p += 4) { s0 += a[ao + p]; s1 += a[ao + p + 1]; s2 += a[ao + p + 2]; s3 += a[ao + p + 3]; }
        for (; p < kc; p++) s0 += a[ao + p];
        return (s0 + s1) + (s2 + s3);
    }
}
