package convunext.backend.cpu;

import java.util.Arrays;

/**
 * Linear backward (1×1 over the channels of NCHW) in one pass over pixel blocks: for each block of
 * nb pixels of an image, dX[:, block] = Wᵀ·dY[:, block] (the packed GEMM on the block's columns,
 * Wᵀ packed once per call), then, with that dY block still in cache, its part of dW = Σ dY·Xᵀ and
 * db = Σ dY. The unfused path read dY from memory twice (once per GEMM); here once.
 *
 * <p>Same bits as the unfused path ({@link CpuLinear#backwardUnfused}), by construction:
 * <ul>
 * <li>dX: a column's value depends only on the K order (fixed): edge tiles give each element the
 * chain a full tile would ({@link CpuGemm#edgeTile}).
 * <li>dW: the dot path cuts each image's pixels into K blocks of {@link #DOT_KC} and, per 4×4 tile,
 * runs 16 vector FMA chains over the block's vector part, adds their lane sums (in lane order, GemmKernel.addLanes) into C, then a
 * scalar FMA chain over the block's tail ({@link GemmKernel#dotTile}). Here each K block's vector
 * part is cut into spans of nb pixels with the chains parked in a per-thread buffer between spans
 * ({@link GemmKernel#dotSpan}): lane for lane the same chains, reduced at the same block end, the
 * same tail. db likewise with {@link GemmKernel#sum}'s two alternating accumulators (body at a
 * multiple of 2·lanes), its float per K block added in double.
 * <li>Threads take contiguous runs of (image, K block) items; each item's reduced values (and tail
 * sums) are stored apart and added into dW in item order at the end: C = 0, C += r₀ [+ t₀],
 * C += r₁ …, the unfused path's sequence at any thread count. One thread adds straight into dW.
 * </ul>
 * Applies when every dW element goes through dotTile (both channel counts multiples of 4), the
 * pixels reach the dot path's minimum K, the kernel has the span methods (the vector one), the
 * parked accumulators fit L2 and there is an item per thread; else the unfused path.
 * Each block's dY rows are first copied to a compact per-thread buffer (rows {@link #LD}
 * apart): read where they lie, the 8 rows a dot tile streams are a plane (a multiple of 4 KiB)
 * apart and share one L1 set; the dX GEMM then reads its B from that buffer too (direct, unpacked,
 * for ci ≤ 64; same products in the same order). The spans read dY's and X's rows interleaved four
 * at a time ({@link GemmKernel#pack4}, {@link GemmKernel#dotSpan4}; X straight from the tensor);
 * with {@code CpuGemm.dotSpans} off they run row-strided and X's rows are copied to the buffer too.
 * dY's block comes from a {@link DyBlock}: copied from the dY tensor, or computed in place by the
 * caller (the MLP's dpre, {@code CpuMlp.backward}), in which case dY never exists in memory; the
 * scalar tails read dY from the last block.
 */
final class CpuLinearBwd {
    private CpuLinearBwd() {}

    private static final GemmKernel K = GemmKernels.BEST;
    /** CpuGemm's dot path: its K block and the K from which dW takes it (CpuLinearBwdTest pins the bits). */
    static final int DOT_KC = 4096, DOT_MIN_K = 512;
    /** Pixels per block: dY's co × NB block stays in L2 between the dX GEMM and the dW tiles. */
    static final int NB = 512;
    /**
     * Most bytes of parked dW accumulators (co·ci·lanes floats) per thread: they are loaded and
     * stored once per block, so they must stay in L2 (1 MiB here). Beyond it (levels 2–3 of the
     * model: 384×128, 128×128, 768×256, 256×256) the fused pass measured up to 30 % slower than the
     * unfused one; within it (levels 0–1) the gate linears 7–16 % faster, c→c within noise
     * (bench/NOTES.md, CPU round 9).
     */
    static final long MAX_PARKED_BYTES = 768 << 10;

    /** Per thread: the parked accumulators; the caller's per-item partials (apart: a caller may run items too). */
    private static final CpuScratch PART = new CpuScratch();
    private static final AlignedScratch ACC = new AlignedScratch(), BLK = new AlignedScratch(), ACC2 = new AlignedScratch();
    /** Per thread: a block's dY and X rows interleaved for {@link GemmKernel#dotSpan4} (64-byte aligned where known). */
    private static final AlignedScratch A4 = new AlignedScratch(), X4 = new AlignedScratch();
    /** Row step of the compact block: NB plus 16 floats (not a multiple of 4 KiB: no L1 set aliasing). */
    static final int LD = NB + 16;

    /** Bytes of parked dW accumulators per thread for a co × ci weight gradient. */
    static long parkedBytes(int co, int ci) { return 4L * co * ci * K.dotLanes(); }

    /** Whether {@link #backward} applies (else the unfused path). */
    static boolean applies(int n, int ci, int co, int p) { return applies(n, ci, co, p, MAX_PARKED_BYTES); }

    /** As {@link #applies(int, int, int, int)} with a caller's own bound on the parked accumulators. */
    static boolean applies(int n, int ci, int co, int p, long maxParkedBytes) {
        return K.dotSpans() && K.dotRows() == 4 && p >= DOT_MIN_K && ci % 4 == 0 && co % 4 == 0
                && NB % (2 * K.dotLanes()) == 0 && NB % CpuGemm.nr() == 0 && NB <= DOT_KC
                && parkedBytes(co, ci) <= maxParkedBytes
                && (long) n * ((p + DOT_KC - 1) / DOT_KC) >= CpuThreads.threads();
    }

    /**
     * Writes dY's rows [0, co) for pixels [p0, p0 + len) of image img at blk[off + o·ld + q]: a dY that is
     * computed block by block instead of read from a tensor (the MLP's dpre, see CpuMlp).
     */
    @FunctionalInterface
    interface DyBlock {
        void fill(int img, int p0, int len, float[] blk, int off, int ld);
    }

    /** dX (non-null), dW and, unless db is null, db; arrays and offsets as {@link CpuLinear#backward}. */
    static void backward(int n, int ci, int co, int p, float[] x, int xo, float[] w, int wo, float[] dy, int dyo,
                         float[] dx, int dxo, float[] dw, int dwo, float[] db, int dbo) {
        backward(n, ci, co, p, x, xo, w, wo, copied(dy, dyo, co, p), dx, dxo, dw, dwo, db, dbo);
    }

    /** dY's blocks copied from the NCHW tensor dy (co channels, p pixels per image). */
    private static DyBlock copied(float[] dy, int dyo, int co, int p) {
        return (img, p0, len, blk, off, ld) -> {
            for (int o = 0; o < co; o++) System.arraycopy(dy, dyo + img * co * p + p0 + o * p, blk, off + o * ld, len);
        };
    }

    /** As above with dY's blocks from {@code dy} (each block filled exactly once). */
    static void backward(int n, int ci, int co, int p, float[] x, int xo, float[] w, int wo, DyBlock dy,
                         float[] dx, int dxo, float[] dw, int dwo, float[] db, int dbo) {
        backward(n, ci, co, p, x, xo, w, wo, dy, dx, dxo, dw, dwo, db, dbo, new Second[0]);
    }

    /**
     * As above, and the further linears' weight gradients in {@code seconds} made in the same pass
     * over the pixel blocks (the MLP's pwconv2: dW2 = Σ gy·hᵀ while gy's block is in cache from
     * the dpre GEMM; the gate chain's linear1 and linear2): each one's rows packed and its dot spans
     * run per block as dW's, its own parked accumulators, reduced and added in item order: the bits
     * of {@link CpuLinear#weightGrad} for it. Needs the interleaved spans ({@code CpuGemm.dotSpans})
     * and both channel counts of each multiples of 4.
     */
    static void backward(int n, int ci, int co, int p, float[] x, int xo, float[] w, int wo, DyBlock dy,
                         float[] dx, int dxo, float[] dw, int dwo, float[] db, int dbo, Second... seconds) {
        for (Second second : seconds)
            if (!second.fits(Long.MAX_VALUE))
                throw new IllegalArgumentException("linear backward: a further weight gradient " + second.co + "×" + second.ci
                        + " needs channel counts that are multiples of 4 and the interleaved spans");
        run(n, ci, ci, co, p, x, xo, null, 0, w, wo, dy, dx, dxo, null, 0, dw, dwo, db, dbo, seconds);
    }

    /**
     * A further weight gradient for {@link #backward}: dW [co × ci] = Σ over images and pixels of
     * G·Hᵀ, and db = Σ G in double (db null: none). H's rows [0, hCa) at h[ho + img·hCa·p + …]
     * and the rest at h2[h2o + img·(ci − hCa)·p + …] (NCHW, the first linear's p pixels; one
     * tensor: hCa = ci; hCa a multiple of 4). G's co rows are either a tensor's, at g[go + img·co·p
     * + …], or, with {@code rows} non-null, the current block's rows that the {@link DyBlock} wrote
     * into that per-thread scratch, row i at {@code rows.get(..)[AlignedScratch.at() + (row0 + i)·LD + q]}
     * for the block's pixel q (a gradient made block by block that never exists as a tensor:
     * CpuGateBwd's chain).
     */
    record Second(int co, int ci, float[] g, int go, float[] h, int ho, float[] h2, int h2o, int hCa, float[] dw, int dwo,
                  float[] db, int dbo, AlignedScratch rows, int row0) {
        /** G from a tensor, H one tensor. */
        Second(int co, int ci, float[] g, int go, float[] h, int ho, float[] dw, int dwo, float[] db, int dbo) {
            this(co, ci, g, go, h, ho, null, 0, ci, dw, dwo, db, dbo, null, 0);
        }

        /** The array holding H's row j. */
        float[] hArray(int j) { return j < hCa ? h : h2; }

        /** Where H's row j starts (pixel 0 of image img) in {@link #hArray}. */
        int hRow(int j, int img, int p) { return j < hCa ? ho + (img * hCa + j) * p : h2o + (img * (ci - hCa) + j - hCa) * p; }

        /** Bytes of its parked accumulators per thread. */
        long parkedBytes() { return CpuLinearBwd.parkedBytes(co, ci); }

        /** Whether {@link #backward} can make it: channel counts multiples of 4, the interleaved spans, at most maxParkedBytes parked. */
        boolean fits(long maxParkedBytes) {
            return co % 4 == 0 && ci % 4 == 0 && hCa % 4 == 0 && CpuGemm.dotSpans && parkedBytes() <= maxParkedBytes;
        }

        /** Floats of its parked tiles and row sums in the per-thread accumulator scratch. */
        int accFloats() { return co / 4 * (ci / 4) * 16 * K.dotLanes() + co * 2 * K.dotLanes(); }
    }

    /**
     * The backward of a linear over the channel concatenation [a; b] (a: ca channels, b: the other
     * ci − ca; the Up blocks' 1×1 convolution, CpuLinearCat) without the concatenated copy: X's rows
     * [0, ca) from a, the rest from b; dX's likewise into da and db, either of which may be null (its
     * GEMM skipped). ca a multiple of 4 (whole dot tiles on each side) as well as {@link #applies}.
     * Every value the bits of CpuLinearCat's unfused path: its dX GEMMs are these two row ranges of
     * Wᵀ, and its dW calls the same dot chains per element.
     */
    static void backwardCat(int n, int ca, int cb, int co, int p, float[] a, int ao, float[] b, int bo, float[] w, int wo,
                            float[] dy, int dyo, float[] da, int dao, float[] db, int dbo, float[] dw, int dwo, float[] dbias, int dbiaso) {
        if (ca % 4 != 0) throw new IllegalArgumentException("linearCat backward: " + ca + " channels before the split, not a multiple of 4");
        run(n, ca + cb, ca, co, p, a, ao, b, bo, w, wo, copied(dy, dyo, co, p), da, dao, db, dbo, dw, dwo, dbias, dbiaso, new Second[0]);
    }

    /**
     * The pass over (image, K block) items with X's channels [0, ca) from x (ca planes per image)
     * and [ca, ci) from x2 (ci − ca per image); dX's likewise into dx and dx2 (either null: skipped).
     * One tensor: ca = ci, x2 = dx2 = null.
     */
    private static void run(int n, int ci, int ca, int co, int p, float[] x, int xo, float[] x2, int x2o, float[] w, int wo,
                            DyBlock dy, float[] dx, int dxo, float[] dx2, int dx2o, float[] dw, int dwo, float[] db, int dbo,
                            Second[] secs) {
        Cat cat = new Cat(ci, ca, x, xo, x2, x2o, dx == null ? null : CpuGemm.pack(ca, co, w, wo, 1, ci), dx, dxo,
                dx2 == null || ca == ci ? null : CpuGemm.pack(ci - ca, co, w, wo + ca, 1, ci), dx2, dx2o);
        int groups = (p + DOT_KC - 1) / DOT_KC, items = n * groups, cc = co * ci, lanes = K.dotLanes();
        boolean tails = p % DOT_KC % lanes != 0;   // only an image's last K block can have a scalar tail
        int t = Math.min(CpuThreads.threads(), items), ns = secs.length;
        Arrays.fill(dw, dwo, dwo + cc, 0f);
        for (Second sec : secs) Arrays.fill(sec.dw, sec.dwo, sec.dwo + sec.co * sec.ci, 0f);
        double[] s = db == null ? null : new double[co];
        double[][] s2 = new double[ns][];
        for (int k = 0; k < ns; k++) s2[k] = secs[k].db == null ? null : new double[secs[k].co];
        boolean wantDb = db != null;
        // Per item: reduced dW (cc), its tail sums (cc, when any item has one), db's float per row
        // (co); then each further weight gradient's likewise (its slots from at[k]).
        int tailAt = cc, dbAt = cc + (tails ? cc : 0);
        int[] at = new int[ns + 1];
        at[0] = dbAt + (wantDb ? co : 0);
        for (int k = 0; k < ns; k++) {
            int cck = secs[k].co * secs[k].ci;
            at[k + 1] = at[k] + cck + (tails ? cck : 0) + (s2[k] != null ? secs[k].co : 0);
        }
        int stride = at[ns];
        if (t == 1) {
            for (int it = 0; it < items; it++)
                item(it / groups, it % groups, ci, co, p, cat, dy, dw, dwo, -1, -1, true, wantDb, s, secs, null, s2);
        } else {
            float[] part = PART.get(items * stride);
            Arrays.fill(part, 0, items * stride, 0f);
            CpuThreads.parallelFor(t, task -> {
                for (int it = items * task / t, e = items * (task + 1) / t; it < e; it++) {
                    int b = it * stride;
                    item(it / groups, it % groups, ci, co, p, cat, dy, part, b, b + tailAt, b + dbAt,
                            false, wantDb, null, secs, at, null);
                }
            });
            for (int it = 0; it < items; it++) {
                int b = it * stride, g = it % groups, kc = Math.min(DOT_KC, p - g * DOT_KC);
                boolean tail = kc % lanes != 0;
                for (int e = 0; e < cc; e++) {
                    dw[dwo + e] += part[b + e];
                    if (tail) dw[dwo + e] += part[b + tailAt + e];
                }
                if (wantDb)
                    for (int o = 0; o < co; o++) s[o] += part[b + dbAt + o];
                for (int k = 0; k < ns; k++) {
                    Second sec = secs[k];
                    int cck = sec.co * sec.ci, w2 = b + at[k], tail2 = w2 + cck, db2 = tail2 + (tails ? cck : 0);
                    for (int e = 0; e < cck; e++) {
                        sec.dw[sec.dwo + e] += part[w2 + e];
                        if (tail) sec.dw[sec.dwo + e] += part[tail2 + e];
                    }
                    if (s2[k] != null)
                        for (int o = 0; o < sec.co; o++) s2[k][o] += part[db2 + o];
                }
            }
        }
        if (db != null)
            for (int o = 0; o < co; o++) db[dbo + o] = (float) s[o];
        for (int k = 0; k < ns; k++)
            if (s2[k] != null)
                for (int o = 0; o < secs[k].co; o++) secs[k].db[secs[k].dbo + o] = (float) s2[k][o];
    }

    /** X's and dX's rows: [0, ca) in x / dx, [ca, ci) in x2 / dx2; Wᵀ packed per side (null: that dX not wanted). */
    private record Cat(int ci, int ca, float[] x, int xo, float[] x2, int x2o, CpuGemm.PackedA wtA, float[] dx, int dxo,
                       CpuGemm.PackedA wtB, float[] dx2, int dx2o) {
        /** The array holding X's row j. */
        float[] xArray(int j) { return j < ca ? x : x2; }

        /** Where X's row j starts (pixel 0 of the item's K block) in {@link #xArray}, given both tensors' row starts xb, xb2. */
        int xRow(int j, int xb, int xb2, int p) { return j < ca ? xb + j * p : xb2 + (j - ca) * p; }
    }

    /**
     * One (image, K block) item. {@code direct} (one thread): reduced values and tails added
     * straight into dW at out[ob], db's floats into s, each further product's into its dW and
     * s2[k]. Otherwise out[ob] is the item's zeroed slot for the reduced values, tails go to
     * out[tailAt], db's floats to out[dbAt], further product k's from out[ob + at[k]] in
     * {@link #run}'s layout.
     */
    private static void item(int img, int g, int ci, int co, int p, Cat cat,
                             DyBlock dy, float[] out, int ob, int tailAt, int dbAt,
                             boolean direct, boolean wantDb, double[] s,
                             Second[] secs, int[] at, double[][] s2) {
        int lanes = K.dotLanes(), tileSize = 16 * lanes, tilesJ = ci / 4, ca = cat.ca, ns = secs.length;
        int g0 = g * DOT_KC, kc = Math.min(DOT_KC, p - g0), kv = kc - kc % lanes, k2 = kc - kc % (2 * lanes);
        // X's rows start at xb (rows below ca) and xb2 (the rest): Cat.xRow; dX's likewise
        int xb = cat.xo + img * ca * p + g0, xb2 = cat.x2o + img * (ci - ca) * p + g0;
        int dxb = cat.dxo + img * ca * p + g0, dxb2 = cat.dx2o + img * (ci - ca) * p + g0;
        int z = AlignedScratch.at(), sumOff = z + co / 4 * tilesJ * tileSize;   // the parked tiles from z, db's after them
        float[] acc = ACC.get(sumOff - z + co * 2 * lanes);
        // the further products' parked tiles (from accAt[k]) and row sums (from sumAt[k]), and their rows' first pixel of this K block
        int[] accAt = new int[ns], sumAt = new int[ns], gb = new int[ns];
        int acc2Floats = 0;
        for (int k = 0; k < ns; k++) {
            Second sec = secs[k];
            accAt[k] = z + acc2Floats;
            sumAt[k] = accAt[k] + sec.co / 4 * (sec.ci / 4) * tileSize;
            acc2Floats += sec.accFloats();
            gb[k] = sec.rows != null ? 0 : sec.go + img * sec.co * p + g0;
        }
        float[] acc2 = ns == 0 ? null : ACC2.get(acc2Floats);
        // The block's rows copied to a compact buffer, rows LD floats apart: in place they are a
        // plane apart (a multiple of 4 KiB), so the 8 rows a dot tile streams fall into one L1 set.
        // X's rows only where the spans read them from there (not with dotSpan4).
        boolean spans4 = CpuGemm.dotSpans;   // the one switch of the interleaved spans (A/B runs, tests); applies() saw the kernel has them
        float[] blk = BLK.get((co + (spans4 ? 0 : ci)) * LD);
        int xAt = z + co * LD;   // blk's rows from z: dY's, then (row-strided spans) X's
        int last = 0;   // where the last block starts: the scalar tails below read dY from it
        for (int c0 = 0; c0 < kc; c0 += NB) {
            int c1 = Math.min(kc, c0 + NB), nc = c1 - c0;
            last = c0;
            dy.fill(img, g0 + c0, nc, blk, z, LD);
            if (!spans4)
                for (int c = 0; c < ci; c++) System.arraycopy(cat.xArray(c), cat.xRow(c, xb, xb2, p) + c0, blk, xAt + c * LD, nc);
            if (cat.wtA != null) CpuGemm.gemm(cat.wtA, nc, blk, z, LD, 1, cat.dx, dxb + c0, p, false, null, 0, null);
            if (cat.wtB != null) CpuGemm.gemm(cat.wtB, nc, blk, z, LD, 1, cat.dx2, dxb2 + c0, p, false, null, 0, null);
            boolean first = c0 == 0;
            int len = Math.max(0, Math.min(c1, kv) - c0);
            if (spans4 && (first || len > 0)) {
                // dY's rows and X's rows interleaved four at a time (X straight from x: in blk it
                // only fed the spans), then dotSpan4: the same chains into the same accumulators
                int g4 = 4 * len;
                float[] a4 = A4.get(co / 4 * g4), x4 = X4.get(ci / 4 * g4);
                for (int i = 0; i < co; i += 4) K.pack4(blk, z + i * LD, LD, len, a4, z + i / 4 * g4);
                for (int j = 0; j < ci; j += 4)   // a group of 4 never straddles ca (a multiple of 4)
                    K.pack4(cat.xArray(j), cat.xRow(j, xb, xb2, p) + c0, p, len, x4, z + j / 4 * g4);
                spanTiles(len, co, ci, a4, x4, z, acc, z, first);
            } else if (first || len > 0)
                for (int i = 0; i < co; i += 4)
                    for (int j = 0; j < ci; j += 4)
                        K.dotSpan(len, blk, z + i * LD, LD, blk, xAt + j * LD, LD, acc,
                                z + (i / 4 * tilesJ + j / 4) * tileSize, first);
            int len2 = Math.max(0, Math.min(c1, k2) - c0);
            if (wantDb && (first || len2 > 0))
                for (int o = 0; o < co; o++) K.sumSpan(len2, blk, z + o * LD, acc, sumOff + o * 2 * lanes, first);
            for (int k = 0; k < ns; k++) {
                // a further product's rows: G's from its tensor (just read by dY's block) or from
                // the scratch the block's fill wrote; H's from its tensor
                Second sec = secs[k];
                float[] ga = sec.rows != null ? sec.rows.get(0) : sec.g;
                int gr = sec.rows != null ? z + sec.row0 * LD : gb[k] + c0, gld = sec.rows != null ? LD : p;
                if (first || len > 0) {
                    int g4 = 4 * len;
                    float[] a4 = A4.get(sec.co / 4 * g4), x4 = X4.get(sec.ci / 4 * g4);
                    for (int i = 0; i < sec.co; i += 4) K.pack4(ga, gr + i * gld, gld, len, a4, z + i / 4 * g4);
                    for (int j = 0; j < sec.ci; j += 4)   // a group of 4 never straddles hCa (a multiple of 4)
                        K.pack4(sec.hArray(j), sec.hRow(j, img, p) + g0 + c0, p, len, x4, z + j / 4 * g4);
                    spanTiles(len, sec.co, sec.ci, a4, x4, z, acc2, accAt[k], first);
                }
                if (sec.db != null && (first || len2 > 0))
                    for (int o = 0; o < sec.co; o++) K.sumSpan(len2, ga, gr + o * gld, acc2, sumAt[k] + o * 2 * lanes, first);
            }
        }
        putTiles(acc, z, co, ci, out, ob);
        if (kv < kc)   // dotTile's scalar tail, added after the reduced vector part
            for (int i = 0; i < co; i++)
                for (int j = 0; j < ci; j++) {
                    float t = 0;
                    float[] xr = cat.xArray(j);
                    int xj = cat.xRow(j, xb, xb2, p);
                    for (int q = kv; q < kc; q++) t = Math.fma(blk[z + i * LD + q - last], xr[xj + q], t);
                    if (direct) out[ob + i * ci + j] += t;
                    else out[tailAt + i * ci + j] = t;
                }
        if (wantDb)
            for (int o = 0; o < co; o++) {   // sum's reduction and scalar tail
                float t = K.sumSpanReduce(acc, sumOff + o * 2 * lanes);
                for (int q = k2; q < kc; q++) t += blk[z + o * LD + q - last];
                if (direct) s[o] += t;
                else out[dbAt + o] = t;
            }
        boolean tails = p % DOT_KC % lanes != 0;
        for (int k = 0; k < ns; k++) {   // each further weight gradient, as the first
            Second sec = secs[k];
            int co2 = sec.co, ci2 = sec.ci, cck = co2 * ci2;
            float[] o2 = direct ? sec.dw : out;
            int ob2 = direct ? sec.dwo : ob + at[k], tail2At = ob2 + cck, db2At = tail2At + (tails ? cck : 0);
            // G's row i at pixel q of the K block: in the last block's scratch rows, or in its tensor
            float[] ga = sec.rows != null ? sec.rows.get(0) : sec.g;
            int gq = sec.rows != null ? z + sec.row0 * LD - last : gb[k], gld = sec.rows != null ? LD : p;
            putTiles(acc2, accAt[k], co2, ci2, o2, ob2);
            if (kv < kc)
                for (int i = 0; i < co2; i++)
                    for (int j = 0; j < ci2; j++) {
                        float t = 0;
                        float[] hr = sec.hArray(j);
                        int hj = sec.hRow(j, img, p) + g0;
                        for (int q = kv; q < kc; q++) t = Math.fma(ga[gq + i * gld + q], hr[hj + q], t);
                        if (direct) o2[ob2 + i * ci2 + j] += t;
                        else o2[tail2At + i * ci2 + j] = t;
                    }
            if (sec.db != null)
                for (int o = 0; o < co2; o++) {
                    float t = K.sumSpanReduce(acc2, sumAt[k] + o * 2 * lanes);
                    for (int q = k2; q < kc; q++) t += ga[gq + o * gld + q];
                    if (direct) s2[k][o] += t;
                    else o2[db2At + o] = t;
                }
        }
    }

    /**
     * Every 4×4 tile of a co × ci product over one span: A's row groups interleaved in a4, X's in
     * x4 (group i at z + i·4·len), tile (i, j)'s parked accumulators at acc[base + (i·ci/4 + j)·16·lanes].
     */
    private static void spanTiles(int len, int co, int ci, float[] a4, float[] x4, int z, float[] acc, int base, boolean first) {
        int g4 = 4 * len, tilesJ = ci / 4, tileSize = 16 * K.dotLanes();
        for (int i = 0; i < co; i += 4)
            for (int j = 0; j < ci; j += 4)
                K.dotSpan4(len, a4, z + i / 4 * g4, x4, z + j / 4 * g4, acc, base + (i / 4 * tilesJ + j / 4) * tileSize, first);
    }

    /** The parked tiles of a co × ci product ({@link #spanTiles}' layout) reduced into out[ob + i·ci + j]. */
    private static void putTiles(float[] acc, int z, int co, int ci, float[] out, int ob) {
        int tilesJ = ci / 4, tileSize = 16 * K.dotLanes();
        for (int i = 0; i < co; i += 4)
            for (int j = 0; j < ci; j += 4)
                K.dotSpanPut(acc, z + (i / 4 * tilesJ + j / 4) * tileSize, out, ob + i * ci + j, ci);
    }
}
