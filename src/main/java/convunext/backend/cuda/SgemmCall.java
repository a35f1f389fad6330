package convunext.backend.cuda;

/**
 * The arguments of a cublasSgemm(StridedBatched) call for each of our three row-major GEMM
 * forms, as plain numbers (no JCuda here, so the mapping is testable without cuBLAS).
 *
 * <p>cuBLAS is column-major. A row-major R×C matrix with row stride ld is, in memory, the
 * column-major C×R matrix (its transpose) with leading dimension ld. So a row-major C = A·B is
 * computed as the column-major Cᵀ = Bᵀ·Aᵀ: the operands swap places and keep their memory.
 *
 * <p>Semantics (cuBLAS's): for b in [0, batch): C_b = op(A_b)·op(B_b) + beta_b·C_b, with
 * X_b = X + b·strideX, op(A) m×k, op(B) k×n, C m×n, element (i, j) of a column-major matrix at
 * i + j·ld. {@code accumulate} means every b writes the same C (strideC = 0): beta_0 = 0, then 1,
 * run as {@code batch} sequential cublasSgemm calls; otherwise beta = 0 and one strided-batched
 * call. {@code a}/{@code b} name which of our tensors is cuBLAS's A and B.
 */
public record SgemmCall(String a, String b, boolean transA, boolean transB, int m, int n, int k,
                        int lda, int ldb, int ldc, long strideA, long strideB, long strideC,
                        int batch, boolean accumulate) {

    /**
     * Forward: y[i] (M×P) = w (M×K) · x[i] (K×P) for i < N. Column-major: yᵀ (P×M) = xᵀ (P×K) · wᵀ
     * (K×M); xᵀ and wᵀ are x and w's own memory, so neither is transposed. w is shared (stride 0).
     */
    public static SgemmCall forward(int batch, int m, int k, int p) {
        return new SgemmCall("x", "w", false, false, p, m, k, p, k, p, (long) k * p, 0, (long) m * p, batch, false);
    }

    /**
     * Data gradient: dx[i] (Ci×P) = wᵀ (Ci×Co) · dy[i] (Co×P), w stored Co×Ci. Column-major:
     * dxᵀ (P×Ci) = dyᵀ (P×Co) · w (Co×Ci); w's memory is the column-major Ci×Co matrix wᵀ (ld Ci),
     * so B is transposed.
     */
    public static SgemmCall backwardData(int batch, int ci, int co, int p) {
        return new SgemmCall("dy", "w", false, true, p, ci, co, p, ci, p, (long) co * p, 0, (long) ci * p, batch, false);
    }

    /**
     * Weight gradient: dw (Co×Ci) = Σ_i dy[i] (Co×P) · x[i]ᵀ (P×Ci). Column-major: dwᵀ (Ci×Co) =
     * Σ_i x[i] (Ci×P) · dy[i]ᵀ (P×Co); x[i]'s memory is the column-major P×Ci matrix x[i]ᵀ, so A is
     * transposed; dy[i]'s memory is dy[i]ᵀ (P×Co) as needed. The images accumulate into one dw.
     */
    public static SgemmCall backwardWeight(int batch, int co, int ci, int p) {
        return new SgemmCall("x", "dy", true, false, ci, co, p, p, p, ci, (long) ci * p, (long) co * p, 0, batch, true);
    }

    /** The leading-dimension rules cuBLAS checks (CUBLAS_STATUS_INVALID_VALUE otherwise). */
    public boolean valid() {
        return m >= 0 && n >= 0 && k >= 0 && batch >= 0
                && lda >= Math.max(1, transA ? k : m)
                && ldb >= Math.max(1, transB ? n : k)
                && ldc >= Math.max(1, m);
    }
}
