package convunext.backend.cpu;

/**
 * A GEMM micro-kernel over packed panels: C[mr×nr] (+)= Σ_p A[p][i]·B[p][j], where the A panel
 * holds mr values per step p ({@code ap[apo + p*mr + i]}) and the B panel nr values
 * ({@code bp[bpo + p*nr + j]}). C is row-major at {@code c[co + i*ldc + j]}.
 */
interface GemmKernel {
    int mr();

    int nr();

    /**
     * One full mr×nr tile; {@code acc} adds into C instead of overwriting it; otherwise a non-null
     * {@code bias} adds {@code bias[bo + i]} to row i.
     */
    default void tile(int kc, float[] ap, int apo, float[] bp, int bpo, float[] c, int co, int ldc, boolean acc,
                      float[] bias, int bo) {
        tile(kc, ap, apo, bp, bpo, nr(), c, co, ldc, acc, bias, bo);
    }

    /**
     * As {@link #tile(int, float[], int, float[], int, float[], int, int, boolean, float[], int)} with B's
     * step p at {@code bp[bpo + p*ldb + j]}: ldb = nr() is a packed panel, a row stride reads B where it
     * lies (a row-major B whose NR-column strip is already in cache, see CpuGemm's direct B).
     */
    void tile(int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc, boolean acc,
              float[] bias, int bo);

    /**
     * The first {@code rows} (&lt; mr()) rows of a tile straight into C, its A panel in a full
     * panel's layout (step p holds mr() values; the rows past {@code rows} are padding): what
     * CpuGemm's edge scratch gives (each element the same chain from the same start), without
     * the missing rows' products and the copy. False where the kernel has no tile of that height
     * (the caller then takes the scratch).
     */
    default boolean shortTile(int rows, int kc, float[] ap, int apo, float[] bp, int bpo, int ldb, float[] c, int co, int ldc,
                              boolean acc, float[] bias, int bo) {
        return false;
    }

    /**
     * Two rows over two full B strips at once (columns [0, nr) from bpo0, [nr, 2·nr) from bpo1, C's
     * columns side by side), the A panel as in {@link #shortTile}: twice the independent chains of
     * a 2-row tile. False where the kernel has none.
     */
    default boolean shortTile2Wide(int kc, float[] ap, int apo, float[] bp, int bpo0, int bpo1, int ldb, float[] c, int co,
                                   int ldc, boolean acc, float[] bias, int bo) {
        return false;
    }

    /**
     * t[o] + … + t[o + n − 1] added in index order from 0f: what JDK 17's FloatVector
     * reduceLanes(ADD) computes, compiled and interpreted alike. The Vector API leaves that order
     * unspecified, and later JDKs' compiled reduceLanes adds in a tree while their interpreter adds
     * in order, so under JDK 25 two identical runs differed with the JIT's timing (bench/NOTES.md,
     * CPU round 29). The vector kernels store their accumulators and add them here instead.
     */
    static float addLanes(float[] t, int o, int n) {
        float r = 0f;
        for (int i = 0; i < n; i++) r += t[o + i];
        return r;
    }

    /**
     * c[co + i·ldc + j] += {@link #addLanes}(t, to + (i·cols + j)·n, n) for i &lt; rows, j &lt; cols: a
     * dot tile's stored (or parked) accumulators, row-major, n lanes each, added into C.
     */
    static void addLanesInto(float[] t, int to, int n, int rows, int cols, float[] c, int co, int ldc) {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) c[co + i * ldc + j] += addLanes(t, to + (i * cols + j) * n, n);
    }

    /** Σ in index order from 0f of (t[o1 + i] + t[o2 + i]): a lane-wise add of two vectors, then {@link #addLanes}. */
    static float addLanes2(float[] t, int o1, int o2, int n) {
        float r = 0f;
        for (int i = 0; i < n; i++) r += t[o1 + i] + t[o2 + i];
        return r;
    }

    /**
     * The vector dotTile's scalar tail, after its reduced vector part: steps [kv, kc) of the 4×4
     * block, one FMA chain per element from 0, added into C (also CpuGemm's span path's tail).
     */
    static void dotTail(int kv, int kc, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
        if (kv < kc)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    float t = 0;
                    for (int q = kv; q < kc; q++) t = Math.fma(a[ao + i * lda + q], b[bo + j * ldb + q], t);
                    c[co + i * ldc + j] += t;
                }
    }

    /** Rows and columns of the {@link #dotTile} block. */
    int dotRows();

    /**
     * Unpacked "A·Bᵀ" tile for operands that are both contiguous along K (the weight gradient
     * dY·Xᵀ): C[i][j] += Σ_{p<kc} a[ao + i·lda + p]·b[bo + j·ldb + p] for i, j &lt; {@link #dotRows}.
     */
    void dotTile(int kc, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc);

    /** c[co] += Σ_{p<kc} a[ao + p]·b[bo + p] (the edges of the dot blocking). */
    void dot(int kc, float[] a, int ao, float[] b, int bo, float[] c, int co);

    /** Σ_{p<kc} a[ao + p] (row sums of A: the bias gradient, fused into the dot path). */
    float sum(int kc, float[] a, int ao);

    /**
     * Whether the span methods below exist (the vector kernels): the fused linear backward
     * ({@link CpuLinearBwd}) and CpuGemm's dot path (its runDotSpans) split each {@link #dotTile}
     * K block into spans with the accumulators kept in memory between them, lane for lane the same
     * FMA chains, reduced at the same point; both read the spans interleaved ({@link #pack4},
     * {@link #dotSpan4}), the row-strided {@link #dotSpan} being their switched-off path.
     */
    default boolean dotSpans() { return false; }

    /** Lanes of the dot accumulators: {@link #dotTile}'s vector body covers kc − kc % dotLanes(). */
    default int dotLanes() { return 1; }

    /**
     * The vector body of {@link #dotTile} over len (a multiple of {@link #dotLanes}) steps, its
     * dotRows² accumulators (tile (i, j) at {@code acc[acco + (i·dotRows + j)·dotLanes]}) started
     * at zero when {@code first}, else loaded from acc; stored back to acc.
     */
    default void dotSpan(int len, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] acc, int acco,
                         boolean first) {
        throw new UnsupportedOperationException("dotSpan");
    }

    /**
     * Rows src[so + r·ld …] for r &lt; 4, steps [0, len) (len a multiple of {@link #dotLanes}),
     * interleaved into dst: the lanes of row r at step v·dotLanes at dst[d + 4·v·dotLanes + r·dotLanes].
     */
    default void pack4(float[] src, int so, int ld, int len, float[] dst, int d) {
        throw new UnsupportedOperationException("pack4");
    }

    /**
     * {@link #dotSpan} over {@link #pack4}'s layout: A's 4 rows from a4[ao], B's 4 rows from
     * b4[bo], the same lane-wise chains into the same parked accumulators (so the same bits). With
     * every load at a constant offset from one index, C2 drops the range checks and keeps the
     * accumulators in registers where the row-strided loop could not (bench/NOTES.md, CPU round 20).
     */
    default void dotSpan4(int len, float[] a4, int ao, float[] b4, int bo, float[] acc, int acco, boolean first) {
        throw new UnsupportedOperationException("dotSpan4");
    }

    /** {@link #dotTile}'s reduction of the accumulators at acc[acco] into C (before its scalar tail). */
    default void dotSpanPut(float[] acc, int acco, float[] c, int co, int ldc) {
        throw new UnsupportedOperationException("dotSpanPut");
    }

    /**
     * The vector body of {@link #sum} over len (a multiple of 2·{@link #dotLanes}) steps, its two
     * accumulators at {@code acc[acco]} (2·dotLanes floats) started at zero when {@code first}.
     */
    default void sumSpan(int len, float[] a, int ao, float[] acc, int acco, boolean first) {
        throw new UnsupportedOperationException("sumSpan");
    }

    /** {@link #sum}'s reduction of the two accumulators at acc[acco] (before its scalar tail). */
    default float sumSpanReduce(float[] acc, int acco) {
        throw new UnsupportedOperationException("sumSpanReduce");
    }

    /** Human-readable name for logs ("vector 8x32 S_512_BIT", "scalar 4x8"). */
    String describe();
}
