package convunext.backend.cpu;

/**
 * nn.Linear over the channels of NCHW with at most {@link #MAX_CO} outputs (the model's last 1×1
 * convolution: base_c → classes), the forward. The GEMM's tiles are MR = 8 rows high, so 2 output
 * rows ran in an edge tile 4× too large. Here a block of pixels at a time, each element is one FMA
 * chain ({@link SimdOps#linearNarrow}: from b[m], then w[m][k]·x[k] for k in order: the GEMM's own
 * chain, so the same bits) with the accumulators in registers across the inputs: 0.55× the GEMM's
 * time at 32 → 2, 256², batch 2.
 * (The same chains as plain Math.fma loops, one input row at a time with the outputs in L1, ran
 * 2.1×; the data gradient this way, with the weight gradient in a pass of its own, 1.08× of
 * CpuLinearBwd's one pass, which the backward keeps.) Blocks depend on the shape only.
 */
final class CpuLinearNarrow {
    private CpuLinearNarrow() {}

    static final int MAX_CO = 4;

    /** Pixels per block (tasks: about 2 per image and thread at 256²). */
    private static final int BLOCK = 2048;

    /**
     * At most MAX_CO outputs, and the vector GEMM in use: its accumulators start at the bias, as
     * these chains do (the scalar kernel adds the bias after the sum; there the GEMM keeps the op).
     */
    static boolean applies(int co) { return co <= MAX_CO && !(GemmKernels.BEST instanceof ScalarGemmKernel); }

    /** y[i][m][q] = b[m] + Σ_k w[m·ci + k]·x[i][k][q] for every image i, output m, pixel q (b null: 0). */
    static void forward(int n, int ci, int co, int p, float[] x, int xo, float[] w, int wo, float[] b, int bo, float[] y, int yo) {
        float[] w4 = kMajor(ci, co, w, wo), b4 = new float[4];
        if (b != null) System.arraycopy(b, bo, b4, 0, co);
        int blocks = (p + BLOCK - 1) / BLOCK;
        CpuThreads.chunks(n * blocks, 1, 4, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int i = t / blocks, q0 = t % blocks * BLOCK, len = Math.min(BLOCK, p - q0);
                SimdOps.BEST.linearNarrow(x, xo + i * ci * p + q0, p, ci, w4, b4, y, yo + i * co * p + q0, p, co, len);
            }
        });
    }

    /** w [co × ci] as w4[k·4 + m], zero past co ({@link SimdOps#linearNarrow}'s layout). */
    private static float[] kMajor(int ci, int co, float[] w, int wo) {
        float[] w4 = new float[4 * ci];
        for (int m = 0; m < co; m++)
            for (int k = 0; k < ci; k++) w4[4 * k + m] = w[wo + m * ci + k];
        return w4;
    }
}
