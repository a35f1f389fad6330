package convunext.backend.cpu;

/**
 * The k×k stride-k convolution without padding (the Down blocks' 2×2 stride-2 downsampling) as an
 * implicit GEMM: its im2col is a space-to-depth, B[(c·k + ky)·k + kx][oy·Wo + ox] =
 * x[c][oy·k + ky][ox·k + kx], so B's packed panels are gathered straight from x (forward) and
 * the dx product's finished tiles are scattered straight into dx (backward), with no column
 * matrix as large as the input written and read back in between.
 *
 * <p>Same bits as {@link CpuGemm} on the column matrix: the same packed A ({@link CpuGemm#pack}),
 * the same K blocks ({@link CpuGemm#kc}), the same micro-kernel, full tiles and edge tiles
 * (computed whole into a scratch tile, then added to their init) exactly where CpuGemm has them
 * (edges only at the ends of M and N); only the N blocking and the thread split differ, and
 * neither changes any element's sum. Threads split N by whole NR panels, so every element is
 * computed by one thread in one fixed order at any thread count.
 */
final class CpuConvS2D {
    private CpuConvS2D() {}

    private static final GemmKernel KERNEL = GemmKernels.BEST;
    private static final int MR = KERNEL.mr(), NR = KERNEL.nr(), KC = CpuGemm.kc();
    /** Columns of C per packed B block: KC·NB floats (512 KiB at KC 256) stays in L2. */
    private static final int NB = NR * 16;
    /** Below this many flops threading costs more than it saves (as CpuGemm). */
    private static final long PARALLEL_FLOPS = 4_000_000;

    private static final class Scratch {
        float[] b = new float[0], c = new float[0];
        final float[] tile = new float[MR * NR];

        float[] b(int n) { if (b.length < n) b = new float[n]; return b; }

        float[] c(int n) { if (c.length < n) c = new float[n]; return c; }
    }

    /** d[o0 + u] = x[s + 2u], d[o1 + u] = x[s + 2u + 1] for u &lt; n (a copy: any implementation gives the same values). */
    interface Deinterleave {
        void run(float[] x, int s, float[] d, int o0, int o1, int n);

        /** The inverse: d[o + 2u] = a[ao + u], d[o + 2u + 1] = a[bo + u] for u &lt; n. */
        void interleave(float[] a, int ao, int bo, float[] d, int o, int n);
    }

    static final Deinterleave SCALAR = new Deinterleave() {
        @Override public void run(float[] x, int s, float[] d, int o0, int o1, int n) {
            for (int u = 0; u < n; u++) {
                d[o0 + u] = x[s + 2 * u];
                d[o1 + u] = x[s + 2 * u + 1];
            }
        }

        @Override public void interleave(float[] a, int ao, int bo, float[] d, int o, int n) {
            for (int u = 0; u < n; u++) {
                d[o + 2 * u] = a[ao + u];
                d[o + 2 * u + 1] = a[bo + u];
            }
        }
    };

    /** The Vector API one when the module is there (as GemmKernels picks the micro-kernel), else scalar. */
    static final Deinterleave DEINTERLEAVE = pick();

    private static Deinterleave pick() {
        if (Boolean.getBoolean("convunext.cpu.scalar") || !GemmKernels.vectorAvailable()) return SCALAR;
        try {
            return (Deinterleave) Class.forName("convunext.backend.cpu.VectorS2D").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return SCALAR;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Geometry of one image: x [ci, h, w], kernel k = stride, output [ho, wo]; B has ci·k·k rows, ho·wo columns. */
    record Geo(int ci, int h, int w, int k, int ho, int wo) {
        int cols() { return ho * wo; }
    }

    /** Runs body(j0, j1) over [0, n) cut into whole NR panels, one part per thread. */
    private static void splitN(long flops, int n, java.util.function.BiConsumer<Integer, Integer> body) {
        int panels = (n + NR - 1) / NR, t = Math.min(CpuThreads.threads(), panels);
        if (t <= 1 || flops < PARALLEL_FLOPS) { body.accept(0, n); return; }
        CpuThreads.parallelFor(t, i -> body.accept(Math.min(n, panels * i / t * NR), Math.min(n, panels * (i + 1) / t * NR)));
    }

    /** y[co][cols] (at yo, one image) = W·B + bias, B gathered from x at xo; W packed by CpuGemm.pack(co, rows, …). */
    static void forward(Geo g, float[] x, int xo, CpuGemm.PackedA wp, float[] bias, int bo, float[] y, int yo) {
        int n = g.cols(), m = wp.m, kk = wp.k;
        if (m <= 0 || n <= 0) return;
        splitN(2L * m * n * kk, n, (j0, j1) -> {
            Scratch s = SCRATCH.get();
            int nb = NB;
            float[] bp = s.b(Math.min(KC, kk) * nb);
            for (int jc = j0; jc < j1; jc += nb) {
                int nc = Math.min(nb, j1 - jc);
                for (int pc = 0; pc < kk; pc += KC) {
                    int kc = Math.min(KC, kk - pc);
                    gather(g, x, xo, bp, kc, nc, pc, jc);
                    boolean acc = pc > 0;
                    for (int ir = 0; ir < m; ir += MR) {
                        int mr = Math.min(MR, m - ir), ab = pc * wp.mPad + ir * kc;
                        for (int jr = 0; jr < nc; jr += NR) {
                            int nr = Math.min(NR, nc - jr), co = yo + ir * n + jc + jr;
                            if (mr == MR && nr == NR) {
                                KERNEL.tile(kc, wp.data, ab, bp, jr * kc, y, co, n, acc, bias, bo + ir);
                            } else {   // as CpuGemm's edge: the same chain per element as a full tile
                                CpuGemm.edgeTile(KERNEL, s.tile, wp.data, ab, kc, bp, jr * kc, NR, y, co, n, mr, nr, acc, bias, bo + ir);
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * B[pc:pc+kc, jc:jc+nc] → NR-column panels (panel q at q·kc·NR, step p holding NR values), as
     * CpuGemm's packB lays them out, each value read from x where the column matrix would have
     * copied it from: row p is a stride-k gather along input rows oy·k + ky.
     */
    private static void gather(Geo g, float[] x, int xo, float[] dst, int kc, int nc, int pc, int jc) {
        int k = g.k, wo = g.wo, tail = nc % NR;
        if (tail != 0) java.util.Arrays.fill(dst, (nc - tail) * kc, (nc - tail) * kc + kc * NR, 0f);
        int oy0 = jc / wo, ox0 = jc % wo, step = k * g.w;
        // k = 2: rows p (kx 0) and p + 1 (kx 1) together, adjacent in each panel: one contiguous
        // read of x de-interleaved into 2·NR contiguous floats (pc and kc are even: K = 4·ci, KC even).
        for (int p = 0; p < kc; p += k) {
            int r = pc + p, ky = r / k % k, c = r / (k * k);
            int rowBase = xo + (c * g.h + ky) * g.w;
            int q = 0, oy = oy0, ox = ox0;
            while (q < nc) {
                int run = Math.min(Math.min(NR - q % NR, wo - ox), nc - q);
                int d = q / NR * kc * NR + p * NR + q % NR, s = rowBase + oy * step + ox * k;
                if (k == 2) {
                    DEINTERLEAVE.run(x, s, dst, d, d + NR, run);
                } else {
                    for (int kx = 0; kx < k; kx++)
                        for (int u = 0; u < run; u++) dst[d + kx * NR + u] = x[s + u * k + kx];
                }
                q += run;
                ox += run;
                if (ox == wo) { ox = 0; oy++; }
            }
        }
    }

    /** Whether {@link #backwardDx} applies: dY's channels (the product's K) fit one K block. */
    static boolean fusedDx(int co) { return co <= KC; }

    /**
     * dx (one image, at dxo) = col2im(Wᵀ·dY), with Wᵀ packed by CpuGemm.pack(rows, co, w, 1, rows)
     * and K = co ≤ KC: each MR-row strip of the product is finished in one K block, computed into a
     * small scratch (MR × NB, in L1) and scattered to its pixels. Pixels no patch covers (the last
     * row/column of odd H/W) get 0.
     */
    static void backwardDx(Geo g, CpuGemm.PackedA wt, float[] dy, int dyo, float[] dx, int dxo) {
        int n = g.cols(), m = wt.m, kc = wt.k, k = g.k;
        if (kc > KC) throw new IllegalArgumentException("conv2d s2d dx: K " + kc + " over one block " + KC);
        zeroUncovered(g, dx, dxo);
        if (m <= 0 || n <= 0) return;
        splitN(2L * m * n * kc, n, (j0, j1) -> {
            Scratch s = SCRATCH.get();
            int nb = NB;
            float[] bp = s.b(Math.max(1, kc) * nb), cs = s.c(MR * nb);
            for (int jc = j0; jc < j1; jc += nb) {
                int nc = Math.min(nb, j1 - jc), tail = nc % NR;
                if (tail != 0) java.util.Arrays.fill(bp, (nc - tail) * kc, (nc - tail) * kc + kc * NR, 0f);
                for (int p = 0; p < kc; p++)   // dY rows, in place as CpuGemm's packB copies them
                    for (int jr = 0; jr < nc; jr += NR)
                        System.arraycopy(dy, dyo + p * n + jc + jr, bp, jr * kc + p * NR, Math.min(NR, nc - jr));
                for (int ir = 0; ir < m; ir += MR) {
                    int mr = Math.min(MR, m - ir), ab = ir * kc;
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        if (mr == MR && nr == NR) {
                            KERNEL.tile(kc, wt.data, ab, bp, jr * kc, cs, jr, nb, false, null, 0);
                        } else {
                            KERNEL.tile(kc, wt.data, ab, bp, jr * kc, NR, s.tile, 0, NR, false, null, 0);
                            for (int i = 0; i < mr; i++)
                                for (int j = 0; j < nr; j++) cs[i * nb + jr + j] = 0f + s.tile[i * NR + j];
                        }
                    }
                    scatter(g, cs, nb, ir, mr, nc, jc, dx, dxo);
                }
            }
        });
    }

    /** dx[c][oy·k + ky][ox·k + kx] = cs[r − r0][j − jc] for rows r = (c·k + ky)·k + kx in [r0, r0+mr), k rows (kx) at a time. */
    private static void scatter(Geo g, float[] cs, int ldc, int r0, int mr, int nc, int jc, float[] dx, int dxo) {
        int k = g.k, wo = g.wo, step = k * g.w;
        for (int r = r0; r < r0 + mr; r += k) {   // mr and r0 are multiples of k·k (M = ci·k·k, MR a multiple of it)
            int ky = r / k % k, c = r / (k * k), row = (r - r0) * ldc;
            int rowBase = dxo + (c * g.h + ky) * g.w;
            int q = 0, oy = jc / wo, ox = jc % wo;
            while (q < nc) {
                int run = Math.min(wo - ox, nc - q), d = rowBase + oy * step + ox * k;
                if (k == 2) {
                    DEINTERLEAVE.interleave(cs, row + q, row + ldc + q, dx, d, run);
                } else {
                    for (int kx = 0; kx < k; kx++)
                        for (int u = 0; u < run; u++) dx[d + u * k + kx] = cs[row + kx * ldc + q + u];
                }
                q += run;
                ox += run;
                if (ox == wo) { ox = 0; oy++; }
            }
        }
    }

    /** 0 at the pixels of x no k×k patch covers: columns from wo·k and rows from ho·k on. */
    private static void zeroUncovered(Geo g, float[] dx, int dxo) {
        int cw = g.wo * g.k, ch = g.ho * g.k;
        if (cw == g.w && ch == g.h) return;
        for (int c = 0; c < g.ci; c++) {
            int base = dxo + c * g.h * g.w;
            if (cw < g.w)
                for (int yy = 0; yy < ch; yy++) java.util.Arrays.fill(dx, base + yy * g.w + cw, base + (yy + 1) * g.w, 0f);
            java.util.Arrays.fill(dx, base + ch * g.w, base + g.h * g.w, 0f);
        }
    }
}
