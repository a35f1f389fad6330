package convunext.backend.cpu;

/** Sums in double (bias gradients, statistics); the linear/conv bias gradients are summed by CpuGemm. */
final class CpuReduce {
    private CpuReduce() {}

    /** Σ a[o … o+len) in double with four independent accumulators. */
    static double sum(float[] a, int o, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= len; i += 4) {
            s0 += a[o + i];
            s1 += a[o + i + 1];
            s2 += a[o + i + 2];
            s3 += a[o + i + 3];
        }
        for (; i < len; i++) s0 += a[o + i];
        return (s0 + s1) + (s2 + s3);
    }

    /** Σ a·b over [0,len) in double. */
    static double dot(float[] a, int ao, float[] b, int bo, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= len; i += 4) {
            s0 += (double) a[ao + i] * b[bo + i];
            s1 += (double) a[ao + i + 1] * b[bo + i + 1];
            s2 += (double) a[ao + i + 2] * b[bo + i + 2];
            s3 += (double) a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < len; i++) s0 += (double) a[ao + i] * b[bo + i];
        return (s0 + s1) + (s2 + s3);
    }
}
