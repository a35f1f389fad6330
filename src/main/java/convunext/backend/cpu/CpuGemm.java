package convunext.backend.cpu;

/**
 * Single-precision GEMM, C (+)= A·B, in the BLIS style: B is packed into KC×NR micro-panels and A
 * into MR×KC micro-panels (zero-padded at the edges), and a register-blocked micro-kernel
 * ({@link GemmKernels#BEST}) computes each MR×NR tile. Each matrix is described by an array, an
 * offset and a row and a column stride, so transposed operands (Wᵀ, Xᵀ) cost only a different
 * packing loop. Work is split over whole panels of N (or of M when N is narrow) across
 * {@link CpuThreads}; every split computes disjoint parts of C, so results do not depend on the
 * thread count. An optional {@link Epilogue} is applied to each finished MR-row panel of an NC
 * block while it is still in L1 (GELU fused into the GEMM: one pass over C instead of two).
 */
public final class CpuGemm {
    private CpuGemm() {}

    private static final GemmKernel KERNEL = GemmKernels.BEST;
    private static final int MR = KERNEL.mr(), NR = KERNEL.nr();
    /** K block: an NR-wide B micro-panel (KC·NR floats) stays in L1. */
    private static final int KC = 256;
    /** M block: the packed A block (MC·KC floats) stays in L2. */
    private static final int MC = MR * 24;
    /** N block: the packed B block (KC·NC floats) fits L2 next to A. */
    private static final int NC = NR * 16;
    /**
     * For a K block shorter than KC, N blocks grow up to B_BLOCK floats of packed B (512 KiB):
     * longer contiguous runs of each B row per packing pass, which is what the packing costs.
     */
    private static final int B_BLOCK = KC * NC, NC_MAX = NR * 256;

    /** The N block for K blocks of kc: a multiple of NR, NC at full KC, longer for short K. */
    private static int ncFor(int kc) { return Math.max(NC, Math.min(NC_MAX, B_BLOCK / Math.max(1, kc) / NR * NR)); }
    /**
     * Dot-product path: K of at least this, K blocks of DOT_KC, B rows in blocks of DOT_NC. Each K
     * block of an A row is streamed from memory once per block of B rows; at DOT_KC 1024 (4 KB
     * segments) dW ran 15–20% slower than at 4096 (bench/NOTES.md, CPU round 6).
     */
    private static final int DOT_MIN_K = 512, DOT_KC = 4096, DOT_NC = 32;
    /**
     * Below this K a product of at least PACKED_MIN_MN outputs takes the packed path even with both
     * operands contiguous along K: packing B (a transpose here) is then shared by M/MR panels, and
     * the packed tiles run at 1.2–1.5× the dot path's rate (dW at 32² planes, K = 1024: 0.67–0.84 of
     * the dot time for 128×512 … 1024×256; at K = 2048 0.90–1.09, at K ≥ 4096 the dot path wins;
     * bench/NOTES.md, CPU round 24).
     */
    private static final int DOT_ALWAYS_K = 2048, PACKED_MIN_MN = 128 * 128;
    /** Whether short-K products with many outputs take the packed path (false: the dot path, for tests and A/B runs). */
    static volatile boolean packedShortK = !"false".equals(System.getProperty("convunext.cpu.packedShortK"));
    /** Up to this many rows of C a row-major B is read in place instead of packed (see runPacked). */
    private static final int DIRECT_MAX_M = 64, DIRECT_MAX_LD = 4096;
    /**
     * Whether a panel cut by M's edge runs the kernel's short tiles ({@link GemmKernel#shortTile},
     * {@link GemmKernel#shortTile2Wide}; same bits as the edge scratch) — false: the scratch, for
     * tests and A/B runs ({@code -Dconvunext.cpu.shortTiles=false}).
     */
    static volatile boolean shortTiles = !"false".equals(System.getProperty("convunext.cpu.shortTiles"));
    /** Below this many flops threading costs more than it saves. */
    private static final long PARALLEL_FLOPS = 4_000_000;

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);
    private static final float[] EMPTY = new float[0];
    /** A packed for all parts of one split call ({@link Job#sharedA}): the calling thread's, filled by the team. */
    private static final ThreadLocal<float[]> SHARED_A = ThreadLocal.withInitial(() -> EMPTY);
    /** Whether a split over N packs A once for all parts (false: each part packs it, for tests and A/B runs). */
    static volatile boolean shareA = true;
    /** Whether the packed path's row sums are threaded over rows (false: the caller alone, for tests and A/B runs). */
    static volatile boolean threadedRowSums = true;
    /** Elements per task of the threaded row sums at least. */
    private static final long ROW_SUMS_GRAIN = 1 << 16;

    /**
     * The dot path's span (steps interleaved at a time) and its block of tile rows and columns: the
     * two interleaved buffers (2·64·512 floats, 256 KiB) and the parked accumulators (64·64 lanes'
     * worth, 128 KiB at 8 lanes) stay in L2.
     */
    private static final int DOT_SPAN = 512, SPAN_ROWS = 64;
    /** Whether the dot path runs over interleaved spans where the kernel has them (false: runDot's tiles, for tests and A/B runs). */
    static volatile boolean dotSpans = !"false".equals(System.getProperty("convunext.cpu.dotSpans"));

    /** The spans and parked accumulators, 64-byte aligned from {@link AlignedScratch#at()} where known. */
    private static final AlignedScratch SPAN_A4 = new AlignedScratch(), SPAN_B4 = new AlignedScratch(), SPAN_ACC = new AlignedScratch();

    /** A is packed once per call (every K and M block) when it has at most this many floats (4 MiB). */
    private static final int A_ONCE_MAX = 1 << 20;

    private static final class Buffers {
        float[] a = new float[MC * KC];
        final float[] b = AlignedScratch.newArray(B_BLOCK + KC * NR);   // packed B from AlignedScratch.at(): aligned loads where known
        final float[] tile = new float[MR * NR];

        float[] a(int n) {
            if (a.length < n) a = new float[n];
            return a;
        }
    }

    public static String describe() { return KERNEL.describe(); }

    /** The dot path's K block and the K from which it is taken (callers that split K keep to its blocks). */
    static int dotKc() { return DOT_KC; }

    static int dotMinK() { return DOT_MIN_K; }

    /** Columns of the micro-kernel's tile: blocks of N that are multiples of it have no edge tiles. */
    static int nr() { return NR; }

    /** K block of {@link #pack}'s layout (block pc at data[pc·mPad]): drivers that pack their own B (CpuConvS2D) reuse it. */
    static int kc() { return KC; }

    /**
     * Applied in place to a finished part of C: rows [i0, i1), columns [j0, j1) (element (i, j) is
     * {@code c[cOff + i*ldc + j]}), each element exactly once, after all of K has been summed into it.
     * Calls may run concurrently on disjoint parts. Ranges are thread-count independent where it
     * matters for vector code: j0 is a multiple of NR (two vectors with the vector kernel), j1 a
     * multiple of NR or N, so an element falls in the vector body or the scalar tail of its row
     * the same way at any thread count.
     */
    @FunctionalInterface
    public interface Epilogue {
        void apply(int i0, int i1, int j0, int j1);
    }

    /**
     * C[M×N] ← A[M×K]·B[K×N] (or C += A·B when {@code accumulate}). Element (i,p) of A is
     * {@code a[aOff + i*aRs + p*aCs]}, element (p,j) of B is {@code b[bOff + p*bRs + j*bCs]},
     * C is row-major with leading dimension {@code ldc}.
     */
    public static void gemm(int m, int n, int k,
                            float[] a, int aOff, int aRs, int aCs,
                            float[] b, int bOff, int bRs, int bCs,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate, null, 0, null);
    }

    /**
     * As {@link #gemm(int, int, int, float[], int, int, int, float[], int, int, int, float[], int, int, boolean)},
     * and also aRowSums[i] += Σ_p A[i][p] (the linear bias gradient, A = dY). On the dot path each
     * row's K block is summed just before its first tiles, which then find it in cache: a separate
     * pass re-read all of dY from memory. Sums are per K block in float, added up in double, taken by the part
     * of the split that holds column 0, so they do not depend on the thread count.
     */
    public static void gemm(int m, int n, int k,
                            float[] a, int aOff, int aRs, int aCs,
                            float[] b, int bOff, int bRs, int bCs,
                            float[] c, int cOff, int ldc, boolean accumulate, double[] aRowSums) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate, null, 0, null, aRowSums);
    }

    /**
     * As {@link #gemm(int, int, int, float[], int, int, int, float[], int, int, int, float[], int, int, boolean)};
     * without {@code accumulate}, a non-null {@code bias} gives C[i][j] = bias[biasOff + i] + (A·B)[i][j].
     */
    public static void gemm(int m, int n, int k,
                            float[] a, int aOff, int aRs, int aCs,
                            float[] b, int bOff, int bRs, int bCs,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate, bias, biasOff, null);
    }

    /**
     * As the bias overload, then {@code epilogue} (if non-null) over every element of C, block by
     * block as each block's last K step completes (see {@link Epilogue}).
     */
    public static void gemm(int m, int n, int k,
                            float[] a, int aOff, int aRs, int aCs,
                            float[] b, int bOff, int bRs, int bCs,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff,
                            Epilogue epilogue) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate, bias, biasOff, epilogue, null);
    }

    /**
     * A packed once for many products with the same A (the weights of a layer applied block by
     * block): every K block's MR-row panels, as the packed path lays them out.
     */
    public static final class PackedA {
        final int m, k, mPad;
        final float[] data;

        private PackedA(int m, int k, int mPad, float[] data) { this.m = m; this.k = k; this.mPad = mPad; this.data = data; }
    }

    /** Packs A[m×k] (element (i,p) at a[aOff + i·aRs + p·aCs]) for {@link #gemm(PackedA, int, float[], int, int, int, float[], int, int, boolean, float[], int, Epilogue)}. */
    public static PackedA pack(int m, int k, float[] a, int aOff, int aRs, int aCs) {
        int mPad = (m + MR - 1) / MR * MR;
        float[] d = new float[Math.max(1, mPad * k)];
        Job j = new Job(k, a, aOff, aRs, aCs, null, 0, 0, 0, null, 0, 0, false, null, 0, null, null, null, null, 0, 0);
        j.packPanels(d, mPad, 0, m, 0);
        return new PackedA(m, k, mPad, d);
    }

    /**
     * C[m×n] (+)= A·B with A from {@link #pack}; as the unpacked overloads, with the same bias
     * rule and {@code epilogue} (may be null).
     */
    public static void gemm(PackedA a, int n, float[] b, int bOff, int bRs, int bCs,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff, Epilogue epilogue) {
        if (a.m <= 0 || n <= 0) return;
        Job job = new Job(a.k, null, 0, 0, 0, b, bOff, bRs, bCs, c, cOff, ldc, accumulate, bias, biasOff, epilogue, null, a, null, 0, 0);
        split(job, a.m, n, a.k, false);
    }

    private static void gemm(int m, int n, int k,
                             float[] a, int aOff, int aRs, int aCs,
                             float[] b, int bOff, int bRs, int bCs,
                             float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff,
                             Epilogue epilogue, double[] aRowSums) {
        if (m <= 0 || n <= 0) return;
        // Both operands contiguous along a long K (dY·Xᵀ): dot-product blocks, no packing. Not with
        // an epilogue: its K loop is outermost (C is finished only at the very end, out of cache),
        // its splits are dotRows wide, and no epilogue caller has this layout (dW has no epilogue).
        boolean dot = epilogue == null && aCs == 1 && bRs == 1 && k >= DOT_MIN_K
                && (!packedShortK || k >= DOT_ALWAYS_K || (long) m * n < PACKED_MIN_MN);
        if (aRowSums != null && !dot) {   // a pass of its own: the packed path has no row sums
            // each row's sum alone, in its fixed order: threaded over rows, the same bits at any count
            // (the caller alone took 0.25 ms a call of dW at level 3 while the worker waited; bench/NOTES.md, CPU round 27)
            double[] sums = aRowSums;
            CpuThreads.chunks(m, threadedRowSums ? Math.max(1, (int) (ROW_SUMS_GRAIN / Math.max(1, k))) : m, 1, (i0, i1) -> {
                if (aCs == 1)   // contiguous rows: the dot path's sums (float per K block, added in double)
                    for (int i = i0; i < i1; i++)
                        for (int pc = 0; pc < k; pc += DOT_KC) sums[i] += KERNEL.sum(Math.min(DOT_KC, k - pc), a, aOff + i * aRs + pc);
                else
                    for (int i = i0; i < i1; i++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) s += a[aOff + i * aRs + p * aCs];
                        sums[i] += s;
                    }
            });
            aRowSums = null;
        }
        Job job = new Job(k, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc, accumulate, bias, biasOff, epilogue,
                aRowSums, null, null, 0, 0);
        split(job, m, n, k, dot);
    }

    /**
     * C[M×N] ← A·B + bias (bias may be null) where B's K rows are the rows of two row-major
     * matrices stacked: row p &lt; kSplit at {@code b[bOff + p·ldb]}, row p ≥ kSplit at
     * {@code b2[b2Off + (p − kSplit)·ldb]} (a 1×1 convolution over cat(b, b2) along channels,
     * without the concatenated copy). The packed path packs each B row from wherever it lies, so
     * every product, sum and rounding is the one {@link #gemm} makes on the concatenation.
     */
    public static void gemmRowSplitB(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                                     float[] b, int bOff, float[] b2, int b2Off, int kSplit, int ldb,
                                     float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        if (m <= 0 || n <= 0) return;
        if (kSplit < 0 || kSplit > k) throw new IllegalArgumentException("gemm: row split " + kSplit + " outside K " + k);
        Job job = new Job(k, a, aOff, aRs, aCs, b, bOff, ldb, 1, c, cOff, ldc, false, bias, biasOff, null, null, null,
                b2, b2Off, kSplit);
        split(job, m, n, k, false);
    }

    /** Runs a job over C[m×n], split over threads by whole panels of N (or of M when N is narrow). */
    private static void split(Job job, int m, int n, int k, boolean dot) {
        int mTile = dot ? KERNEL.dotRows() : MR, nTile = dot ? KERNEL.dotRows() : NR;
        int threads = CpuThreads.threads();
        long flops = 2L * m * n * k;
        int nPanels = (n + nTile - 1) / nTile, mPanels = (m + mTile - 1) / mTile;
        if (threads == 1 || flops < PARALLEL_FLOPS || (nPanels < 2 && mPanels < 2)) {
            job.run(0, m, 0, n, dot);
        } else if (dot && m > n && mPanels >= threads) {
            // Dot path: each part streams its rows of A and all of B (or all of A and its rows of B):
            // split the longer operand, so the larger one is read from memory once, not once per thread.
            int t = Math.min(threads, mPanels);
            CpuThreads.parallelFor(t, i -> job.run(Math.min(m, mPanels * i / t * mTile),
                    Math.min(m, mPanels * (i + 1) / t * mTile), 0, n, dot));
        } else if (nPanels >= 2 * threads || nPanels >= mPanels) {
            int t = Math.min(threads, nPanels);
            Job j = dot || !shareA ? job : job.sharedA(m, t);
            CpuThreads.parallelFor(t, i -> j.run(0, m,
                    Math.min(n, nPanels * i / t * nTile), Math.min(n, nPanels * (i + 1) / t * nTile), dot));
            if (j.pa != job.pa) SHARED_A.set(j.pa.data);   // back for the next call (borrowed: a nested call packs its own)
        } else {
            int t = Math.min(threads, mPanels);
            CpuThreads.parallelFor(t, i -> job.run(Math.min(m, mPanels * i / t * mTile),
                    Math.min(m, mPanels * (i + 1) / t * mTile), 0, n, dot));
        }
    }

    /**
     * One product; {@code pa}, when set, is A already packed (a/aOff/aRs/aCs unused); {@code b2},
     * when set, holds B's rows from {@code kSplit} on (row-major B only, packed path only).
     */
    private record Job(int k, float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, int bCs,
                       float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff,
                       Epilogue epilogue, double[] rowSums, PackedA pa, float[] b2, int b2Off, int kSplit) {

        /**
         * This job with A packed once for all parts, split over the same t threads (panels of MR rows
         * each), where every part would otherwise pack all of A itself (a split over N, A not
         * prepacked, at most A_ONCE_MAX floats): dW = dY·Xᵀ at level 3 packed its 1024 × 1024 dY
         * block on both threads (0.38 ms an image on each). The same packed values, so the same bits.
         */
        Job sharedA(int m, int t) {
            int mPad = (m + MR - 1) / MR * MR, panels = mPad / MR;
            if (pa != null || m <= MR || (long) mPad * k > A_ONCE_MAX) return this;
            float[] d = SHARED_A.get();
            SHARED_A.set(EMPTY);
            float[] dst = d.length >= mPad * k ? d : new float[mPad * k];
            int tn = Math.min(t, panels);
            CpuThreads.parallelFor(tn, i -> {
                int r0 = panels * i / tn * MR, r1 = Math.min(m, panels * (i + 1) / tn * MR);
                packPanels(dst, mPad, r0, r1, 0);
            });
            return new Job(k, null, 0, 0, 0, b, bOff, bRs, bCs, c, cOff, ldc, accumulate, bias, biasOff, epilogue, rowSums,
                    new PackedA(m, k, mPad, dst), b2, b2Off, kSplit);
        }

        void run(int i0, int i1, int j0, int j1, boolean dot) {
            if (i0 >= i1 || j0 >= j1) return;
            if (k <= 0 || dot) {
                if (!accumulate)
                    for (int i = i0; i < i1; i++)
                        java.util.Arrays.fill(c, cOff + i * ldc + j0, cOff + i * ldc + j1, bias == null ? 0f : bias[biasOff + i]);
                if (k > 0) runDot(i0, i1, j0, j1);
                if (epilogue != null)
                    for (int jc = j0; jc < j1; jc += NC) epilogue.apply(i0, i1, jc, Math.min(j1, jc + NC));
            } else {
                runPacked(i0, i1, j0, j1);
            }
        }

        /** C[i0:i1, j0:j1] += A·B with A rows and Bᵀ rows contiguous in K. */
        private void runDot(int i0, int i1, int j0, int j1) {
            if (dotSpans && KERNEL.dotSpans() && KERNEL.dotRows() == 4) {
                runDotSpans(i0, i1, j0, j1);
                return;
            }
            int r = KERNEL.dotRows();
            for (int pc = 0; pc < k; pc += DOT_KC) {
                int kc = Math.min(DOT_KC, k - pc);
                for (int jc = j0; jc < j1; jc += DOT_NC) {
                    int je = Math.min(j1, jc + DOT_NC);
                    for (int i = i0; i < i1; i += r) {
                        int ie = Math.min(i1, i + r), j = jc;
                        if (rowSums != null && j0 == 0 && jc == j0)
                            for (int ii = i; ii < ie; ii++) rowSums[ii] += KERNEL.sum(kc, a, aOff + ii * aRs + pc);
                        if (ie - i == r)
                            for (; j + r <= je; j += r)
                                KERNEL.dotTile(kc, a, aOff + i * aRs + pc, aRs, b, bOff + j * bCs + pc, bCs,
                                        c, cOff + i * ldc + j, ldc);
                        for (int ii = i; ii < ie; ii++)
                            for (int jj = (ie - i == r ? j : jc); jj < je; jj++)
                                KERNEL.dot(kc, a, aOff + ii * aRs + pc, b, bOff + jj * bCs + pc, c, cOff + ii * ldc + jj);
                    }
                }
            }
        }

        /**
         * {@link #runDot} through interleaved span buffers, the same bits: per K block of DOT_KC and
         * per block of at most SPAN_ROWS × SPAN_ROWS tiles, each span of DOT_SPAN steps of the tiles'
         * A and B rows is interleaved ({@link GemmKernel#pack4}) into a per-thread buffer that
         * stays in L1/L2, and every 4×4 tile's lane-wise chains run over it with their
         * accumulators parked between spans ({@link GemmKernel#dotSpan4}): each element the chain
         * dotTile gives it, reduced and added into C at the same block end, then the same scalar
         * tail. Rows and columns past the last whole tile take KERNEL.dot per K block, as in runDot.
         * The row-strided loop ran at 42–49 GFLOP/s on one core where this one runs 60–66
         * (bench/NOTES.md, CPU round 20): with one index per loop C2 drops the per-load range
         * checks and the row pointers that crowded out the accumulators.
         */
        private void runDotSpans(int i0, int i1, int j0, int j1) {
            int lanes = KERNEL.dotLanes(), i4 = i0 + (i1 - i0) / 4 * 4, j4 = j0 + (j1 - j0) / 4 * 4;
            int z = AlignedScratch.at();
            for (int pc = 0; pc < k; pc += DOT_KC) {
                int kc = Math.min(DOT_KC, k - pc), kv = kc - kc % lanes;
                if (rowSums != null && j0 == 0)
                    for (int ii = i0; ii < i1; ii++) rowSums[ii] += KERNEL.sum(kc, a, aOff + ii * aRs + pc);
                for (int ib = i0; ib < i4; ib += SPAN_ROWS) {
                    int gi = (Math.min(i4, ib + SPAN_ROWS) - ib) / 4;
                    for (int jb = j0; jb < j4; jb += SPAN_ROWS) {
                        int gj = (Math.min(j4, jb + SPAN_ROWS) - jb) / 4, tile = 16 * lanes;
                        float[] acc = SPAN_ACC.get(gi * gj * tile);
                        for (int s0 = 0; s0 == 0 || s0 < kv; s0 += DOT_SPAN) {   // one span at least: zeroes acc when kv = 0
                            int len = Math.min(DOT_SPAN, kv - s0), g4 = 4 * len;
                            float[] a4 = SPAN_A4.get(gi * g4), b4 = SPAN_B4.get(gj * g4);
                            for (int g = 0; g < gi; g++) KERNEL.pack4(a, aOff + (ib + 4 * g) * aRs + pc + s0, aRs, len, a4, z + g * g4);
                            for (int h = 0; h < gj; h++) KERNEL.pack4(b, bOff + (jb + 4 * h) * bCs + pc + s0, bCs, len, b4, z + h * g4);
                            for (int g = 0; g < gi; g++)
                                for (int h = 0; h < gj; h++)
                                    KERNEL.dotSpan4(len, a4, z + g * g4, b4, z + h * g4, acc, z + (g * gj + h) * tile, s0 == 0);
                        }
                        for (int g = 0; g < gi; g++)
                            for (int h = 0; h < gj; h++) {
                                int i = ib + 4 * g, j = jb + 4 * h, co = cOff + i * ldc + j;
                                KERNEL.dotSpanPut(acc, z + (g * gj + h) * tile, c, co, ldc);
                                GemmKernel.dotTail(kv, kc, a, aOff + i * aRs + pc, aRs, b, bOff + j * bCs + pc, bCs, c, co, ldc);
                            }
                    }
                }
                for (int ii = i0; ii < i1; ii++)   // past the last whole tile: one dot per element
                    for (int jj = ii < i4 ? j4 : j0; jj < j1; jj++)
                        KERNEL.dot(kc, a, aOff + ii * aRs + pc, b, bOff + jj * bCs + pc, c, cOff + ii * ldc + jj);
            }
        }

        /**
         * C[i0:i1, j0:j1] over the whole K through packed panels. A (the weights: small) is packed
         * once for the whole call when it fits, not once per NC block of columns: for N = H·W
         * pixels that repacked the same weights hundreds of times.
         */
        private void runPacked(int i0, int i1, int j0, int j1) {
            Buffers buf = BUFFERS.get();
            boolean shortOk = shortTiles;
            // Panels of rows from `first` on, every K block: prepacked (from row 0), packed here
            // once for the call, or (A too large) per M block below.
            int first = pa != null ? 0 : i0, mPad = pa != null ? pa.mPad : (i1 - i0 + MR - 1) / MR * MR;
            boolean once = pa != null || (long) mPad * k <= A_ONCE_MAX;
            float[] ap = pa != null ? pa.data : once ? buf.a(mPad * k) : buf.a(MC * KC);
            if (once && pa == null)
                packPanels(ap, mPad, i0, i1, i0);
            int ncb = ncFor(Math.min(KC, k));
            // Few rows of C (M ≤ DIRECT_MAX_M) reuse each packed B panel only M/MR times, too few to
            // pay for packing it when B is a compact block already in cache (the fused MLP's hidden
            // block in inference, rows DIRECT_MAX_LD floats apart at most): full NR-column strips
            // are then read where they lie, only a ragged last strip is packed. Same products, same
            // order. Rows a plane apart (a tensor's H·W) measured slower unpacked (TLB, no prefetch).
            boolean direct = b2 == null && bCs == 1 && i1 - i0 <= DIRECT_MAX_M && bRs <= DIRECT_MAX_LD;
            int bz = AlignedScratch.at();
            for (int jc = j0; jc < j1; jc += ncb) {
                int nc = Math.min(ncb, j1 - jc), full = direct ? nc / NR * NR : 0;
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    if (!direct) packB(buf.b, bz, kc, nc, pc, jc);
                    else if (full < nc) packB(buf.b, bz, kc, nc - full, pc, jc + full);   // the ragged strip, at buf.b[bz]
                    boolean acc = accumulate || pc > 0, last = epilogue != null && pc + kc == k;
                    for (int ic = i0; ic < i1; ic += MC) {
                        int mc = Math.min(MC, i1 - ic);
                        // Offset of this M block's first panel (ic − i0 is a multiple of MR).
                        int ab = once ? pc * mPad + (ic - first) * kc : 0;
                        if (!once) packA(ap, 0, mc, kc, ic, pc);
                        // Rows outer: each tile row of C is written left to right (power-of-two
                        // leading dimensions otherwise alias C's rows onto one cache set).
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            for (int jr = 0; jr < nc; jr += NR) {
                                int nr = Math.min(NR, nc - jr);
                                int co = cOff + (ic + ir) * ldc + jc + jr;
                                boolean fromB = jr < full;   // direct: read B in place
                                // this strip of B: in place (row step bRs) or packed (step NR)
                                float[] bs = fromB ? b : buf.b;
                                int bo = fromB ? bOff + pc * bRs + jc + jr : bz + (jr - full) * kc, ldb = fromB ? bRs : NR;
                                if (mr == MR && nr == NR) {
                                    KERNEL.tile(kc, ap, ab + ir * kc, bs, bo, ldb, c, co, ldc, acc, bias, biasOff + ic + ir);
                                } else if (shortOk && mr == 2 && nr == NR && nc - jr >= 2 * NR && (jr + NR < full) == fromB
                                        && KERNEL.shortTile2Wide(kc, ap, ab + ir * kc, bs, bo, bo + (fromB ? NR : NR * kc), ldb, c, co, ldc,
                                                acc, bias, biasOff + ic + ir)) {
                                    jr += NR;   // two strips done
                                } else if (!shortOk || nr < NR
                                        || !KERNEL.shortTile(mr, kc, ap, ab + ir * kc, bs, bo, ldb, c, co, ldc, acc, bias, biasOff + ic + ir)) {
                                    edge(buf, ap, ab, kc, ir, bs, bo, ldb, mr, nr, co, acc, ic);
                                }
                            }
                            // This panel of C is final and still in L1/L2 (MR × nc floats).
                            if (last) epilogue.apply(ic + ir, ic + ir + mr, jc, jc + nc);
                        }
                    }
                }
            }
        }

        /**
         * A tile cut by C's edge, computed whole in buf.tile (B's strip at bp[bpo], step ldb): the
         * tile's mr × nr part of C (or its bias) is copied in first and the kernel accumulates onto
         * it, so each element gets the chain a full tile gives it (no extra rounding), whatever the
         * tile height: results do not depend on MR.
         */
        private void edge(Buffers buf, float[] ap, int ab, int kc, int ir, float[] bp, int bpo, int ldb, int mr, int nr, int co,
                          boolean acc, int ic) {
            edgeTile(KERNEL, buf.tile, ap, ab + ir * kc, kc, bp, bpo, ldb, c, co, ldc, mr, nr, acc, bias, biasOff + ic + ir);
        }

        /**
         * Rows [r0, r1) of A in every K block, as the once-packed layout holds them: block pc at
         * dst[pc·mPad], its panel of row r (r0 a multiple of MR from {@code first}) at + (r − first)·kc.
         */
        private void packPanels(float[] dst, int mPad, int r0, int r1, int first) {
            for (int pc = 0; pc < k && r0 < r1; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packA(dst, pc * mPad + (r0 - first) * kc, r1 - r0, kc, r0, pc);
            }
        }

        /** A[ic:ic+mc, pc:pc+kc] → MR-row panels from dst[d0], panel r at d0 + r·kc, step p holding MR values. */
        private void packA(float[] dst, int d0, int mc, int kc, int ic, int pc) {
            for (int ir = 0; ir < mc; ir += MR) {
                int rows = Math.min(MR, mc - ir), d = d0 + ir * kc;
                if (rows < MR) java.util.Arrays.fill(dst, d, d + kc * MR, 0f);
                if (aCs == 1) {
                    for (int r = 0; r < rows; r++) {
                        int s = aOff + (ic + ir + r) * aRs + pc;
                        for (int p = 0; p < kc; p++) dst[d + p * MR + r] = a[s + p];
                    }
                } else if (aRs == 1) {
                    for (int p = 0; p < kc; p++) {
                        int s = aOff + (pc + p) * aCs + ic + ir, o = d + p * MR;
                        for (int r = 0; r < rows; r++) dst[o + r] = a[s + r];
                    }
                } else {
                    for (int p = 0; p < kc; p++)
                        for (int r = 0; r < rows; r++)
                            dst[d + p * MR + r] = a[aOff + (ic + ir + r) * aRs + (pc + p) * aCs];
                }
            }
        }

        /**
         * B[pc:pc+kc, jc:jc+nc] → NR-column panels, panel j at j·kc, step p holding NR values.
         * Row-major B (pixels along a row, channels down: every 1×1 conv) is read one row at a time,
         * all nc floats of it in order: column panel by column panel instead read 128 B from each
         * of kc rows a channel-plane apart (256 KiB at 256²), kc interleaved streams that the
         * prefetchers do not follow.
         */
        private void packB(float[] dst, int at, int kc, int nc, int pc, int jc) {
            if (bCs == 1) {
                for (int jr = 0; jr < nc; jr += NR)
                    if (nc - jr < NR) java.util.Arrays.fill(dst, at + jr * kc, at + jr * kc + kc * NR, 0f);
                for (int p = 0; p < kc; p++) {
                    int row = pc + p;
                    boolean second = b2 != null && row >= kSplit;
                    float[] src = second ? b2 : b;
                    int s = second ? b2Off + (row - kSplit) * bRs + jc : bOff + row * bRs + jc;
                    for (int jr = 0; jr < nc; jr += NR) System.arraycopy(src, s + jr, dst, at + jr * kc + p * NR, Math.min(NR, nc - jr));
                }
                return;
            }
            for (int jr = 0; jr < nc; jr += NR) {
                int cols = Math.min(NR, nc - jr), d = at + jr * kc;
                if (cols < NR) java.util.Arrays.fill(dst, d, d + kc * NR, 0f);
                if (bRs == 1) {
                    for (int j = 0; j < cols; j++) {
                        int s = bOff + (jc + jr + j) * bCs + pc;
                        for (int p = 0; p < kc; p++) dst[d + p * NR + j] = b[s + p];
                    }
                } else {
                    for (int p = 0; p < kc; p++)
                        for (int j = 0; j < cols; j++)
                            dst[d + p * NR + j] = b[bOff + (pc + p) * bRs + (jc + jr + j) * bCs];
                }
            }
        }
    }

    /**
     * C's mr × nr part at c[co] (+)= the tile of A's panel at ap[apo] and B's strip at bp[bpo]
     * (step ldb), through the mr() × nr() scratch {@code tile} of kernel {@code k}: C (when acc) or
     * the bias rows (else zero) copied in, the full tile accumulated onto it, the part copied back.
     * The same FMA chain per element as a full tile (CpuConvS2D's edges too; GemmKernelTest runs
     * each vector kernel's cut panels through it).
     */
    static void edgeTile(GemmKernel k, float[] tile, float[] ap, int apo, int kc, float[] bp, int bpo, int ldb, float[] c, int co,
                         int ldc, int mr, int nr, boolean acc, float[] bias, int bo) {
        int tr = k.mr(), tc = k.nr();
        java.util.Arrays.fill(tile, 0, tr * tc, 0f);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                tile[i * tc + j] = acc ? c[co + i * ldc + j] : bias == null ? 0f : bias[bo + i];
        k.tile(kc, ap, apo, bp, bpo, ldb, tile, 0, tc, true, null, 0);
        for (int i = 0; i < mr; i++) System.arraycopy(tile, i * tc, c, co + i * ldc, nr);
    }
}
