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
     * Whether the span methods below exist (the vector kernel): the fused linear backward
     * ({@link CpuLinearBwd}) splits each {@link #dotTile} K block into spans with the accumulators
     * kept in memory between them, lane for lane the same FMA chains, reduced at the same point.
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
