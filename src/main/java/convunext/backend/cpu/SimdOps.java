package convunext.backend.cpu;

/**
 * Inner loops that gain most from explicit SIMD: GELU (vector exp) and one output row of the
 * depthwise 7×7. {@link #BEST} is the Vector API implementation when the jdk.incubator.vector
 * module is present (loaded by name, as in {@link GemmKernels}), else {@link ScalarOps}.
 */
interface SimdOps {
    SimdOps BEST = pick();

    /** y[i] = x[i]·Φ(x[i]) for i &lt; n. */
    void gelu(float[] x, int xo, float[] y, int yo, int n);

    /** dx[i] = dy[i]·(Φ(x) + x·φ(x)) for i &lt; n. */
    void geluBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n);

    /**
     * One row of a 7×7 correlation over a padded plane: y[yo + i] = init + Σ_{ky,kx}
     * w[wo + ky·7 + kx]·src[so + ky·ld + kx + i] for i &lt; n.
     */
    void row7(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int n);

    /**
     * Weight gradient of the depthwise 7×7 over one plane: gw[ky·7 + kx] += Σ_{y,x}
     * dy[dyo + y·w + x]·pad[(y+ky)·(w+6) + x + kx], float partial sums added in double.
     */
    void tapSums(float[] dy, int dyo, float[] pad, int h, int w, double[] gw);

    String describe();

    private static SimdOps pick() {
        if (Boolean.getBoolean("convunext.cpu.scalar") || !GemmKernels.vectorAvailable()) return new ScalarOps();
        try {
            return (SimdOps) Class.forName("convunext.backend.cpu.VectorOps").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return new ScalarOps();
        }
    }
}
