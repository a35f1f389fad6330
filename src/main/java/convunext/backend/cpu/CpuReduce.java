package convunext.backend.cpu;

/** Per-channel sums of NCHW data in double (bias gradients, statistics). */
final class CpuReduce {
    private CpuReduce() {}

    /** s[c] = Σ_{n,p} a[ao + (n·C + c)·P + p], threaded over channels. */
    static double[] channelSums(float[] a, int ao, int n, int c, int p) {
        double[] s = new double[c];
        CpuThreads.chunks(c, 1, 1, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                double t = 0;
                for (int i = 0; i < n; i++) t += sum(a, ao + (i * c + ch) * p, p);
                s[ch] = t;
            }
        });
        return s;
    }

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
