package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorOps}'s depthwise 7×7 loops (its own file for the line budget): {@link #row7} and
 * {@link #row7x2}, one and two output rows of the correlation (forward, input gradient), and
 * {@link #tapSums}, the weight gradient. Loaded only through VectorOps. The rules of VectorOps
 * hold here: vector values live in flat loops of JDK vector methods, never across our own calls.
 */
final class VectorDw7 {
    private VectorDw7() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ScalarOps SCALAR = new ScalarOps();

    /**
     * Float partial sums per tap and lane, one chain per (ky, kx, lane) over blocks of {@link #flushRows}
     * dy rows, each row's vectors in order, then added in double (lanes in order) to gw, then that
     * block's scalar tail columns: the order (and bits) of the one-pass-per-(block, ky) loop this
     * replaced. Rows of at least {@link #WIDE} vectors go by pad rows p instead: pad row p pairs
     * with dy row p − ky for every ky, so kernel rows (0, 1), (2, 3), (4, 5) share each pad load
     * between two dy rows (14 accumulators, 9 loads per 14 FMAs; was 8 per 7) and ky = 6 runs
     * alone. Each chain still sees its rows in order and is flushed after its block's last row. A
     * ky whose dy row is outside the plane (the first and last pad rows) accumulates into a
     * discarded slot, so the loops stay branch-free. Narrower rows run a block's rows as one flat
     * loop per ky ({@link #blockTaps}). (The loop before round 2 carried its vector accumulators
     * through two nested loops, which C2 (JDK 17) boxed: ~16× slower.)
     */
    static void tapSums(float[] dy, int dyo, float[] pad, int h, int w, double[] gw) {
        int wp = w + 6, wv = w - w % L, dummy = 49 * L, dummy2 = 56 * L, rowsPer = flushRows(wv);
        float[] lanes = TAP_LANES.get();   // all zero on entry and exit but the dummy slots
        if (wv < WIDE * L) {
            for (int r0 = 0; r0 < h; r0 += rowsPer) {
                int rows = Math.min(rowsPer, h - r0), g = dyo + r0 * w;
                for (int ky = 0; ky < 7; ky++) {
                    if (wv > 0) blockTaps(dy, g, w, pad, (r0 + ky) * wp, wp, wv, rows, lanes, ky * 7 * L);
                    flushTaps(dy, dyo, pad, w, wv, ky, r0, r0 + rows - 1, lanes, gw);
                }
            }
            return;
        }
        java.util.Arrays.fill(lanes, dummy, dummy + 14 * L, 0f);
        for (int p = 0; p < h + 6; p++) {
            int s = p * wp;
            if (wv > 0) {
                if (triples)
                    for (int k = 0; k < 6; k += 3) {
                        if (p >= k && p < h + k + 2)
                            rowTaps3(dy, dyo + Math.max(0, Math.min(p - k, h - 1)) * w, dyo + Math.max(0, Math.min(p - k - 1, h - 1)) * w,
                                    dyo + Math.max(0, Math.min(p - k - 2, h - 1)) * w, pad, s, wv, lanes, p - k < h ? 7 * k * L : dummy,
                                    p >= k + 1 && p - k - 1 < h ? 7 * (k + 1) * L : dummy, p >= k + 2 && p - k - 2 < h ? 7 * (k + 2) * L : dummy2);
                    }
                else
                    for (int k = 0; k < 6; k += 2)
                        if (p >= k && p < h + k + 1)
                            rowTaps2(dy, dyo + Math.max(0, Math.min(p - k, h - 1)) * w, dyo + Math.max(0, Math.min(p - k - 1, h - 1)) * w,
                                    pad, s, wv, lanes, p - k < h ? 7 * k * L : dummy, p >= k + 1 && p - k - 1 < h ? 7 * (k + 1) * L : dummy);
                if (p >= 6) rowTaps(dy, dyo + (p - 6) * w, pad, s, wv, lanes, 42 * L);
            }
            for (int ky = 0; ky < 7; ky++) {
                int y = p - ky;
                if (y >= 0 && y < h && ((y + 1) % rowsPer == 0 || y == h - 1)) flushTaps(dy, dyo, pad, w, wv, ky, y - y % rowsPer, y, lanes, gw);
            }
        }
    }

    /** gw[ky·7 + kx] += Σ lanes of (ky, kx) (double, lanes in order), lanes cleared; then rows r0…r1's tail columns. */
    private static void flushTaps(float[] dy, int dyo, float[] pad, int w, int wv, int ky, int r0, int r1, float[] lanes, double[] gw) {
        int wp = w + 6;
        if (wv > 0) {
            // The seven taps' lane sums interleaved: each is still its lanes in order from 0, but
            // seven independent chains of dependent double adds instead of one chain of 7·L. The
            // flush runs after every 8-row block: 0.90–0.95× the backward on 32² and 16² planes
            // (bench/NOTES.md, CPU round 23).
            int o = ky * 7 * L;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0;
            for (int l = 0; l < L; l++) {
                s0 += lanes[o + l];
                s1 += lanes[o + L + l];
                s2 += lanes[o + 2 * L + l];
                s3 += lanes[o + 3 * L + l];
                s4 += lanes[o + 4 * L + l];
                s5 += lanes[o + 5 * L + l];
                s6 += lanes[o + 6 * L + l];
            }
            int t = ky * 7;
            gw[t] += s0;
            gw[t + 1] += s1;
            gw[t + 2] += s2;
            gw[t + 3] += s3;
            gw[t + 4] += s4;
            gw[t + 5] += s5;
            gw[t + 6] += s6;
            java.util.Arrays.fill(lanes, o, o + 7 * L, 0f);
        }
        for (int r = r0; r <= r1; r++)
            for (int i = wv; i < w; i++) {
                double d = dy[dyo + r * w + i];
                for (int kx = 0; kx < 7; kx++) gw[ky * 7 + kx] += d * pad[(r + ky) * wp + i + kx];
            }
    }

    /** {@link #tapSums}'s float lanes: 49 taps and one discarded slot of 7, L floats each, per thread. */
    private static final ThreadLocal<float[]> TAP_LANES = ThreadLocal.withInitial(() -> new float[63 * L]);

    /**
     * Whether wide rows share each pad load among three dy rows (kernel rows (0, 1, 2), (3, 4, 5)
     * and 6 alone: 10 loads per 21 FMAs) instead of two ((0, 1), (2, 3), (4, 5), 6: 9 per 14). Same
     * chains, same order, same bits. Not final: benchmarks switch it.
     */
    static volatile boolean triples = L >= 16;

    /** {@link #rowTaps2} for three dy rows (g0, g1, g2) against one pad row: 21 accumulators, 3 + 7 loads per 21 FMAs. */
    private static void rowTaps3(float[] dy, int g0, int g1, int g2, float[] pad, int s, int wv, float[] lanes, int o0, int o1, int o2) {
        FloatVector a00 = FloatVector.fromArray(S, lanes, o0), a01 = FloatVector.fromArray(S, lanes, o0 + L);
        FloatVector a02 = FloatVector.fromArray(S, lanes, o0 + 2 * L), a03 = FloatVector.fromArray(S, lanes, o0 + 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, lanes, o0 + 4 * L), a05 = FloatVector.fromArray(S, lanes, o0 + 5 * L);
        FloatVector a06 = FloatVector.fromArray(S, lanes, o0 + 6 * L);
        FloatVector a10 = FloatVector.fromArray(S, lanes, o1), a11 = FloatVector.fromArray(S, lanes, o1 + L);
        FloatVector a12 = FloatVector.fromArray(S, lanes, o1 + 2 * L), a13 = FloatVector.fromArray(S, lanes, o1 + 3 * L);
        FloatVector a14 = FloatVector.fromArray(S, lanes, o1 + 4 * L), a15 = FloatVector.fromArray(S, lanes, o1 + 5 * L);
        FloatVector a16 = FloatVector.fromArray(S, lanes, o1 + 6 * L);
        FloatVector a20 = FloatVector.fromArray(S, lanes, o2), a21 = FloatVector.fromArray(S, lanes, o2 + L);
        FloatVector a22 = FloatVector.fromArray(S, lanes, o2 + 2 * L), a23 = FloatVector.fromArray(S, lanes, o2 + 3 * L);
        FloatVector a24 = FloatVector.fromArray(S, lanes, o2 + 4 * L), a25 = FloatVector.fromArray(S, lanes, o2 + 5 * L);
        FloatVector a26 = FloatVector.fromArray(S, lanes, o2 + 6 * L);
        for (int i = 0; i < wv; i += L) {
            FloatVector d0 = FloatVector.fromArray(S, dy, g0 + i), d1 = FloatVector.fromArray(S, dy, g1 + i), d2 = FloatVector.fromArray(S, dy, g2 + i);
            int q = s + i;
            FloatVector p = FloatVector.fromArray(S, pad, q);
            a00 = d0.fma(p, a00); a10 = d1.fma(p, a10); a20 = d2.fma(p, a20);
            p = FloatVector.fromArray(S, pad, q + 1);
            a01 = d0.fma(p, a01); a11 = d1.fma(p, a11); a21 = d2.fma(p, a21);
            p = FloatVector.fromArray(S, pad, q + 2);
            a02 = d0.fma(p, a02); a12 = d1.fma(p, a12); a22 = d2.fma(p, a22);
            p = FloatVector.fromArray(S, pad, q + 3);
            a03 = d0.fma(p, a03); a13 = d1.fma(p, a13); a23 = d2.fma(p, a23);
            p = FloatVector.fromArray(S, pad, q + 4);
            a04 = d0.fma(p, a04); a14 = d1.fma(p, a14); a24 = d2.fma(p, a24);
            p = FloatVector.fromArray(S, pad, q + 5);
            a05 = d0.fma(p, a05); a15 = d1.fma(p, a15); a25 = d2.fma(p, a25);
            p = FloatVector.fromArray(S, pad, q + 6);
            a06 = d0.fma(p, a06); a16 = d1.fma(p, a16); a26 = d2.fma(p, a26);
        }
        a00.intoArray(lanes, o0);
        a01.intoArray(lanes, o0 + L);
        a02.intoArray(lanes, o0 + 2 * L);
        a03.intoArray(lanes, o0 + 3 * L);
        a04.intoArray(lanes, o0 + 4 * L);
        a05.intoArray(lanes, o0 + 5 * L);
        a06.intoArray(lanes, o0 + 6 * L);
        a10.intoArray(lanes, o1);
        a11.intoArray(lanes, o1 + L);
        a12.intoArray(lanes, o1 + 2 * L);
        a13.intoArray(lanes, o1 + 3 * L);
        a14.intoArray(lanes, o1 + 4 * L);
        a15.intoArray(lanes, o1 + 5 * L);
        a16.intoArray(lanes, o1 + 6 * L);
        a20.intoArray(lanes, o2);
        a21.intoArray(lanes, o2 + L);
        a22.intoArray(lanes, o2 + 2 * L);
        a23.intoArray(lanes, o2 + 3 * L);
        a24.intoArray(lanes, o2 + 4 * L);
        a25.intoArray(lanes, o2 + 5 * L);
        a26.intoArray(lanes, o2 + 6 * L);
    }

    private static void rowTaps2(float[] dy, int g0, int g1, float[] pad, int s, int wv, float[] lanes, int o0, int o1) {
        FloatVector a00 = FloatVector.fromArray(S, lanes, o0), a01 = FloatVector.fromArray(S, lanes, o0 + L);
        FloatVector a02 = FloatVector.fromArray(S, lanes, o0 + 2 * L), a03 = FloatVector.fromArray(S, lanes, o0 + 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, lanes, o0 + 4 * L), a05 = FloatVector.fromArray(S, lanes, o0 + 5 * L);
        FloatVector a06 = FloatVector.fromArray(S, lanes, o0 + 6 * L);
        FloatVector a10 = FloatVector.fromArray(S, lanes, o1), a11 = FloatVector.fromArray(S, lanes, o1 + L);
        FloatVector a12 = FloatVector.fromArray(S, lanes, o1 + 2 * L), a13 = FloatVector.fromArray(S, lanes, o1 + 3 * L);
        FloatVector a14 = FloatVector.fromArray(S, lanes, o1 + 4 * L), a15 = FloatVector.fromArray(S, lanes, o1 + 5 * L);
        FloatVector a16 = FloatVector.fromArray(S, lanes, o1 + 6 * L);
        for (int i = 0; i < wv; i += L) {
            FloatVector d0 = FloatVector.fromArray(S, dy, g0 + i), d1 = FloatVector.fromArray(S, dy, g1 + i);
            int q = s + i;
            FloatVector p0 = FloatVector.fromArray(S, pad, q), p1 = FloatVector.fromArray(S, pad, q + 1);
            FloatVector p2 = FloatVector.fromArray(S, pad, q + 2), p3 = FloatVector.fromArray(S, pad, q + 3);
            FloatVector p4 = FloatVector.fromArray(S, pad, q + 4), p5 = FloatVector.fromArray(S, pad, q + 5);
            FloatVector p6 = FloatVector.fromArray(S, pad, q + 6);
            a00 = d0.fma(p0, a00);
            a01 = d0.fma(p1, a01);
            a02 = d0.fma(p2, a02);
            a03 = d0.fma(p3, a03);
            a04 = d0.fma(p4, a04);
            a05 = d0.fma(p5, a05);
            a06 = d0.fma(p6, a06);
            a10 = d1.fma(p0, a10);
            a11 = d1.fma(p1, a11);
            a12 = d1.fma(p2, a12);
            a13 = d1.fma(p3, a13);
            a14 = d1.fma(p4, a14);
            a15 = d1.fma(p5, a15);
            a16 = d1.fma(p6, a16);
        }
        a00.intoArray(lanes, o0);
        a01.intoArray(lanes, o0 + L);
        a02.intoArray(lanes, o0 + 2 * L);
        a03.intoArray(lanes, o0 + 3 * L);
        a04.intoArray(lanes, o0 + 4 * L);
        a05.intoArray(lanes, o0 + 5 * L);
        a06.intoArray(lanes, o0 + 6 * L);
        a10.intoArray(lanes, o1);
        a11.intoArray(lanes, o1 + L);
        a12.intoArray(lanes, o1 + 2 * L);
        a13.intoArray(lanes, o1 + 3 * L);
        a14.intoArray(lanes, o1 + 4 * L);
        a15.intoArray(lanes, o1 + 5 * L);
        a16.intoArray(lanes, o1 + 6 * L);
    }

    /**
     * {@link #tapSums} shares pad rows from this many vectors per row on. Measured against the old
     * loop (one thread, 2 images): shared pad rows 1.16–1.2× at 256² and 128², 1.0× at 64² and
     * 0.85× at 32² (a call per pad row has too few vectors to repay loading and storing its
     * accumulators); the flat block loop 1.2–1.3× at 64² and 32², ≈ 1.0–1.18× at 256² and 128².
     */
    private static final int WIDE = 8;

    /**
     * {@link #rowTaps} over rows consecutive rows (dy rows w apart, pad rows wp apart) in one flat
     * loop: the accumulators stay in registers across rows (narrow planes have only a few vectors
     * per row); same chains, same order.
     */
    private static void blockTaps(float[] dy, int g, int w, float[] pad, int s, int wp, int wv, int rows, float[] lanes, int o) {
        FloatVector a0 = FloatVector.fromArray(S, lanes, o), a1 = FloatVector.fromArray(S, lanes, o + L);
        FloatVector a2 = FloatVector.fromArray(S, lanes, o + 2 * L), a3 = FloatVector.fromArray(S, lanes, o + 3 * L);
        FloatVector a4 = FloatVector.fromArray(S, lanes, o + 4 * L), a5 = FloatVector.fromArray(S, lanes, o + 5 * L);
        FloatVector a6 = FloatVector.fromArray(S, lanes, o + 6 * L);
        int gi = g, q = s, c = 0, skipD = w - wv + L, skipP = wp - wv + L;
        for (int j = rows * (wv / L); j > 0; j--) {
            FloatVector d = FloatVector.fromArray(S, dy, gi);
            a0 = d.fma(FloatVector.fromArray(S, pad, q), a0);
            a1 = d.fma(FloatVector.fromArray(S, pad, q + 1), a1);
            a2 = d.fma(FloatVector.fromArray(S, pad, q + 2), a2);
            a3 = d.fma(FloatVector.fromArray(S, pad, q + 3), a3);
            a4 = d.fma(FloatVector.fromArray(S, pad, q + 4), a4);
            a5 = d.fma(FloatVector.fromArray(S, pad, q + 5), a5);
            a6 = d.fma(FloatVector.fromArray(S, pad, q + 6), a6);
            c += L;
            if (c == wv) { c = 0; gi += skipD; q += skipP; }
            else { gi += L; q += L; }
        }
        a0.intoArray(lanes, o);
        a1.intoArray(lanes, o + L);
        a2.intoArray(lanes, o + 2 * L);
        a3.intoArray(lanes, o + 3 * L);
        a4.intoArray(lanes, o + 4 * L);
        a5.intoArray(lanes, o + 5 * L);
        a6.intoArray(lanes, o + 6 * L);
    }


    /** lanes[o + kx·L + l] += Σ_{i&lt;wv, i ≡ l mod L} dy[g + i]·pad[s + i + kx]: one row, one flat loop. */
    private static void rowTaps(float[] dy, int g, float[] pad, int s, int wv, float[] lanes, int o) {
        FloatVector a0 = FloatVector.fromArray(S, lanes, o), a1 = FloatVector.fromArray(S, lanes, o + L);
        FloatVector a2 = FloatVector.fromArray(S, lanes, o + 2 * L), a3 = FloatVector.fromArray(S, lanes, o + 3 * L);
        FloatVector a4 = FloatVector.fromArray(S, lanes, o + 4 * L), a5 = FloatVector.fromArray(S, lanes, o + 5 * L);
        FloatVector a6 = FloatVector.fromArray(S, lanes, o + 6 * L);
        for (int i = 0; i < wv; i += L) {
            FloatVector d = FloatVector.fromArray(S, dy, g + i);
            int q = s + i;
            a0 = d.fma(FloatVector.fromArray(S, pad, q), a0);
            a1 = d.fma(FloatVector.fromArray(S, pad, q + 1), a1);
            a2 = d.fma(FloatVector.fromArray(S, pad, q + 2), a2);
            a3 = d.fma(FloatVector.fromArray(S, pad, q + 3), a3);
            a4 = d.fma(FloatVector.fromArray(S, pad, q + 4), a4);
            a5 = d.fma(FloatVector.fromArray(S, pad, q + 5), a5);
            a6 = d.fma(FloatVector.fromArray(S, pad, q + 6), a6);
        }
        a0.intoArray(lanes, o);
        a1.intoArray(lanes, o + L);
        a2.intoArray(lanes, o + 2 * L);
        a3.intoArray(lanes, o + 3 * L);
        a4.intoArray(lanes, o + 4 * L);
        a5.intoArray(lanes, o + 5 * L);
        a6.intoArray(lanes, o + 6 * L);
    }


    /** Rows per float partial sum of {@link #tapSums} at least (the dy and pad rows of a block stay in L1). */
    private static final int ROWS = 8;
    /** Vector terms per lane chain before a flush, at most: level 0's (8 rows of 16 vectors at 256², AVX-512). */
    private static final int CHAIN_VECTORS = 128;

    /**
     * Rows per float partial sum for rows of wv vector columns: ROWS, or more where rows are short,
     * so that each chain still runs up to CHAIN_VECTORS terms. Each flush costs 7·L double adds
     * per ky, as much as the products of a few short rows: with 32 rows at 64², the whole plane at
     * 32² and 16², the backward took 0.85–0.9 of its time (bench/NOTES.md, CPU round 24).
     */
    static int flushRows(int wv) { return Math.max(ROWS, CHAIN_VECTORS / Math.max(1, wv / L)); }

    /**
     * Every output is init + Σ taps in tap order (ky, then kx), one FMA chain per lane: the bits of
     * {@link ScalarOps#row7}. Four vectors at a time hide the FMA latency; a row whose length is not
     * a multiple of L ends with one vector overlapping the previous ones (it recomputes those
     * outputs to the same bits) instead of a scalar tail, which cost as much as the whole vector
     * part of the input gradient's rows (w + 6 wide). The 49 taps run as one loop over
     * {@code taps} (see {@link SimdOps#taps7}), not as ky × kx loops: C2 (JDK 17) unrolls two
     * nested constant-trip loops completely and spills (bench/NOTES.md, CPU round 17).
     */
    static void row7(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int n, int[] taps) {
        SimdOps.checkTaps(taps, ld);
        if (n < L) {
            SCALAR.row7(src, so, ld, w, wo, init, y, yo, n, taps);
            return;
        }
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            FloatVector a0 = FloatVector.broadcast(S, init), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < 49; t++) {
                FloatVector c = FloatVector.broadcast(S, w[wo + t]);
                int s = so + taps[t] + i;
                a0 = FloatVector.fromArray(S, src, s).fma(c, a0);
                a1 = FloatVector.fromArray(S, src, s + L).fma(c, a1);
                a2 = FloatVector.fromArray(S, src, s + 2 * L).fma(c, a2);
                a3 = FloatVector.fromArray(S, src, s + 3 * L).fma(c, a3);
            }
            a0.intoArray(y, yo + i);
            a1.intoArray(y, yo + i + L);
            a2.intoArray(y, yo + i + 2 * L);
            a3.intoArray(y, yo + i + 3 * L);
        }
        while (i < n) {
            if (i + L > n) i = n - L;   // the last vector overlaps: same outputs, same bits
            FloatVector a0 = FloatVector.broadcast(S, init);
            for (int t = 0; t < 49; t++)
                a0 = FloatVector.fromArray(S, src, so + taps[t] + i).fma(FloatVector.broadcast(S, w[wo + t]), a0);
            a0.intoArray(y, yo + i);
            i += L;
        }
    }

    /**
     * Two consecutive rows of {@link #row7}: y[yo + i] from src rows 0–6 and y[yo + ldy + i] from
     * src rows 1–7. Each source row is loaded once for both outputs (rows 1–6 serve both: tap ky of
     * the first, ky − 1 of the second), so a tap costs half a load instead of one; taps still run
     * in (ky, kx) order per output, the bits of two row7 calls. Three straight loops (source row 0,
     * the 42 taps of rows 1–6 as one loop over {@code taps}, row 7) keep the accumulators out of
     * branches; the middle loop as ky × kx loops was unrolled by C2 into one block of 392 FMAs whose
     * loads it hoisted past the 16 registers: 29–31 against 54–65 GFLOP/s on one core, one plane of
     * 32²–256² (bench/NOTES.md, CPU round 17).
     */
    static void row7x2(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int ldy, int n, int[] taps) {
        SimdOps.checkTaps(taps, ld);
        if (n < L) {
            SCALAR.row7x2(src, so, ld, w, wo, init, y, yo, ldy, n, taps);
            return;
        }
        int i = 0, last = so + 7 * ld;
        for (; i + 4 * L <= n; i += 4 * L) {
            FloatVector a0 = FloatVector.broadcast(S, init), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int kx = 0; kx < 7; kx++) {
                FloatVector t = FloatVector.broadcast(S, w[wo + kx]);
                int q = so + kx + i;
                a0 = FloatVector.fromArray(S, src, q).fma(t, a0);
                a1 = FloatVector.fromArray(S, src, q + L).fma(t, a1);
                a2 = FloatVector.fromArray(S, src, q + 2 * L).fma(t, a2);
                a3 = FloatVector.fromArray(S, src, q + 3 * L).fma(t, a3);
            }
            // tap t of rows 1–6: kernel element 7 + t of the first output, t of the second
            for (int t = 0; t < 42; t++) {
                FloatVector ta = FloatVector.broadcast(S, w[wo + 7 + t]), tb = FloatVector.broadcast(S, w[wo + t]);
                int q = so + taps[7 + t] + i;
                FloatVector v0 = FloatVector.fromArray(S, src, q), v1 = FloatVector.fromArray(S, src, q + L);
                FloatVector v2 = FloatVector.fromArray(S, src, q + 2 * L), v3 = FloatVector.fromArray(S, src, q + 3 * L);
                a0 = v0.fma(ta, a0);
                b0 = v0.fma(tb, b0);
                a1 = v1.fma(ta, a1);
                b1 = v1.fma(tb, b1);
                a2 = v2.fma(ta, a2);
                b2 = v2.fma(tb, b2);
                a3 = v3.fma(ta, a3);
                b3 = v3.fma(tb, b3);
            }
            for (int kx = 0; kx < 7; kx++) {
                FloatVector t = FloatVector.broadcast(S, w[wo + 42 + kx]);
                int q = last + kx + i;
                b0 = FloatVector.fromArray(S, src, q).fma(t, b0);
                b1 = FloatVector.fromArray(S, src, q + L).fma(t, b1);
                b2 = FloatVector.fromArray(S, src, q + 2 * L).fma(t, b2);
                b3 = FloatVector.fromArray(S, src, q + 3 * L).fma(t, b3);
            }
            a0.intoArray(y, yo + i);
            a1.intoArray(y, yo + i + L);
            a2.intoArray(y, yo + i + 2 * L);
            a3.intoArray(y, yo + i + 3 * L);
            b0.intoArray(y, yo + ldy + i);
            b1.intoArray(y, yo + ldy + i + L);
            b2.intoArray(y, yo + ldy + i + 2 * L);
            b3.intoArray(y, yo + ldy + i + 3 * L);
        }
        if (i + 2 * L <= n) {   // two vectors: four chains instead of the single vector's two (FMA latency)
            FloatVector a0 = FloatVector.broadcast(S, init), a1 = a0, b0 = a0, b1 = a0;
            for (int kx = 0; kx < 7; kx++) {
                FloatVector t = FloatVector.broadcast(S, w[wo + kx]);
                a0 = FloatVector.fromArray(S, src, so + kx + i).fma(t, a0);
                a1 = FloatVector.fromArray(S, src, so + kx + i + L).fma(t, a1);
            }
            for (int t = 0; t < 42; t++) {
                FloatVector ta = FloatVector.broadcast(S, w[wo + 7 + t]), tb = FloatVector.broadcast(S, w[wo + t]);
                int q = so + taps[7 + t] + i;
                FloatVector v0 = FloatVector.fromArray(S, src, q), v1 = FloatVector.fromArray(S, src, q + L);
                a0 = v0.fma(ta, a0);
                b0 = v0.fma(tb, b0);
                a1 = v1.fma(ta, a1);
                b1 = v1.fma(tb, b1);
            }
            for (int kx = 0; kx < 7; kx++) {
                FloatVector t = FloatVector.broadcast(S, w[wo + 42 + kx]);
                b0 = FloatVector.fromArray(S, src, last + kx + i).fma(t, b0);
                b1 = FloatVector.fromArray(S, src, last + kx + i + L).fma(t, b1);
            }
            a0.intoArray(y, yo + i);
            a1.intoArray(y, yo + i + L);
            b0.intoArray(y, yo + ldy + i);
            b1.intoArray(y, yo + ldy + i + L);
            i += 2 * L;
        }
        while (i < n) {
            if (i + L > n) i = n - L;   // the last vector overlaps: same outputs, same bits
            FloatVector a0 = FloatVector.broadcast(S, init), b0 = a0;
            for (int kx = 0; kx < 7; kx++)
                a0 = FloatVector.fromArray(S, src, so + kx + i).fma(FloatVector.broadcast(S, w[wo + kx]), a0);
            for (int t = 0; t < 42; t++) {
                FloatVector v = FloatVector.fromArray(S, src, so + taps[7 + t] + i);
                a0 = v.fma(FloatVector.broadcast(S, w[wo + 7 + t]), a0);
                b0 = v.fma(FloatVector.broadcast(S, w[wo + t]), b0);
            }
            for (int kx = 0; kx < 7; kx++)
                b0 = FloatVector.fromArray(S, src, last + kx + i).fma(FloatVector.broadcast(S, w[wo + 42 + kx]), b0);
            a0.intoArray(y, yo + i);
            b0.intoArray(y, yo + ldy + i);
            i += L;
        }
    }

    /**
     * Whether {@link #row7x4} runs its own four-row loop: 16 accumulators, four source vectors and
     * four weights are 24 registers, which fit AVX-512's 32 but not AVX2's 16 (there it spills, and
     * row7x4 is two row7x2 calls). Not final: benchmarks switch it.
     */
    static volatile boolean fourRows = L >= 16;

    /**
     * Four consecutive rows of {@link #row7}: output row j (y[yo + j·ldy + i]) from src rows j … j + 6.
     * Source rows 3–6 serve all four outputs (tap ky − j of output j), so each loaded vector feeds
     * four FMAs instead of row7x2's two: a half load per FMA with the weights' broadcasts, against
     * row7x2's three quarters. Each output's taps still run in (ky, kx) order, one chain per lane:
     * the bits of four row7 calls. Seven straight loops, one per source row group (0, 1, 2, 3–6 as
     * one loop over {@code taps}, 7, 8, 9), for the reason given at row7x2. Columns past the last
     * whole block of four vectors go to two row7x2 calls (the last vector overlapping, as there).
     */
    static void row7x4(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int ldy, int n, int[] taps) {
        SimdOps.checkTaps(taps, ld);
        int i = 0;
        if (fourRows)
            for (; i + 4 * L <= n; i += 4 * L) {
                FloatVector a0 = FloatVector.broadcast(S, init), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
                for (int kx = 0; kx < 7; kx++) {   // source row 0: tap (0, kx) of the first output
                    FloatVector ta = FloatVector.broadcast(S, w[wo + kx]);
                    int q = so + kx + i;
                    a0 = FloatVector.fromArray(S, src, q).fma(ta, a0);
                    a1 = FloatVector.fromArray(S, src, q + L).fma(ta, a1);
                    a2 = FloatVector.fromArray(S, src, q + 2 * L).fma(ta, a2);
                    a3 = FloatVector.fromArray(S, src, q + 3 * L).fma(ta, a3);
                }
                for (int kx = 0; kx < 7; kx++) {   // source row 1: ky 1 of the first, 0 of the second
                    FloatVector ta = FloatVector.broadcast(S, w[wo + 7 + kx]), tb = FloatVector.broadcast(S, w[wo + kx]);
                    int q = so + ld + kx + i;
                    FloatVector v0 = FloatVector.fromArray(S, src, q), v1 = FloatVector.fromArray(S, src, q + L);
                    FloatVector v2 = FloatVector.fromArray(S, src, q + 2 * L), v3 = FloatVector.fromArray(S, src, q + 3 * L);
                    a0 = v0.fma(ta, a0); a1 = v1.fma(ta, a1); a2 = v2.fma(ta, a2); a3 = v3.fma(ta, a3);
                    b0 = v0.fma(tb, b0); b1 = v1.fma(tb, b1); b2 = v2.fma(tb, b2); b3 = v3.fma(tb, b3);
                }
                for (int kx = 0; kx < 7; kx++) {   // source row 2: ky 2, 1, 0 of the first three
                    FloatVector ta = FloatVector.broadcast(S, w[wo + 14 + kx]), tb = FloatVector.broadcast(S, w[wo + 7 + kx]);
                    FloatVector tc = FloatVector.broadcast(S, w[wo + kx]);
                    int q = so + 2 * ld + kx + i;
                    FloatVector v0 = FloatVector.fromArray(S, src, q), v1 = FloatVector.fromArray(S, src, q + L);
                    FloatVector v2 = FloatVector.fromArray(S, src, q + 2 * L), v3 = FloatVector.fromArray(S, src, q + 3 * L);
                    a0 = v0.fma(ta, a0); a1 = v1.fma(ta, a1); a2 = v2.fma(ta, a2); a3 = v3.fma(ta, a3);
                    b0 = v0.fma(tb, b0); b1 = v1.fma(tb, b1); b2 = v2.fma(tb, b2); b3 = v3.fma(tb, b3);
                    c0 = v0.fma(tc, c0); c1 = v1.fma(tc, c1); c2 = v2.fma(tc, c2); c3 = v3.fma(tc, c3);
                }
                for (int t = 0; t < 28; t++) {   // source rows 3–6: tap t of rows 3–6 for the first output, 2–5, 1–4, 0–3
                    FloatVector ta = FloatVector.broadcast(S, w[wo + 21 + t]), tb = FloatVector.broadcast(S, w[wo + 14 + t]);
                    FloatVector tc = FloatVector.broadcast(S, w[wo + 7 + t]), td = FloatVector.broadcast(S, w[wo + t]);
                    int q = so + taps[21 + t] + i;
                    FloatVector v0 = FloatVector.fromArray(S, src, q), v1 = FloatVector.fromArray(S, src, q + L);
                    FloatVector v2 = FloatVector.fromArray(S, src, q + 2 * L), v3 = FloatVector.fromArray(S, src, q + 3 * L);
                    a0 = v0.fma(ta, a0); a1 = v1.fma(ta, a1); a2 = v2.fma(ta, a2); a3 = v3.fma(ta, a3);
                    b0 = v0.fma(tb, b0); b1 = v1.fma(tb, b1); b2 = v2.fma(tb, b2); b3 = v3.fma(tb, b3);
                    c0 = v0.fma(tc, c0); c1 = v1.fma(tc, c1); c2 = v2.fma(tc, c2); c3 = v3.fma(tc, c3);
                    d0 = v0.fma(td, d0); d1 = v1.fma(td, d1); d2 = v2.fma(td, d2); d3 = v3.fma(td, d3);
                }
                a0.intoArray(y, yo + i);
                a1.intoArray(y, yo + i + L);
                a2.intoArray(y, yo + i + 2 * L);
                a3.intoArray(y, yo + i + 3 * L);
                for (int kx = 0; kx < 7; kx++) {   // source row 7: ky 6, 5, 4 of the last three
                    FloatVector tb = FloatVector.broadcast(S, w[wo + 42 + kx]), tc = FloatVector.broadcast(S, w[wo + 35 + kx]);
                    FloatVector td = FloatVector.broadcast(S, w[wo + 28 + kx]);
                    int q = so + 7 * ld + kx + i;
                    FloatVector v0 = FloatVector.fromArray(S, src, q), v1 = FloatVector.fromArray(S, src, q + L);
                    FloatVector v2 = FloatVector.fromArray(S, src, q + 2 * L), v3 = FloatVector.fromArray(S, src, q + 3 * L);
                    b0 = v0.fma(tb, b0); b1 = v1.fma(tb, b1); b2 = v2.fma(tb, b2); b3 = v3.fma(tb, b3);
                    c0 = v0.fma(tc, c0); c1 = v1.fma(tc, c1); c2 = v2.fma(tc, c2); c3 = v3.fma(tc, c3);
                    d0 = v0.fma(td, d0); d1 = v1.fma(td, d1); d2 = v2.fma(td, d2); d3 = v3.fma(td, d3);
                }
                b0.intoArray(y, yo + ldy + i);
                b1.intoArray(y, yo + ldy + i + L);
                b2.intoArray(y, yo + ldy + i + 2 * L);
                b3.intoArray(y, yo + ldy + i + 3 * L);
                for (int kx = 0; kx < 7; kx++) {   // source row 8: ky 6 and 5 of the last two
                    FloatVector tc = FloatVector.broadcast(S, w[wo + 42 + kx]), td = FloatVector.broadcast(S, w[wo + 35 + kx]);
                    int q = so + 8 * ld + kx + i;
                    FloatVector v0 = FloatVector.fromArray(S, src, q), v1 = FloatVector.fromArray(S, src, q + L);
                    FloatVector v2 = FloatVector.fromArray(S, src, q + 2 * L), v3 = FloatVector.fromArray(S, src, q + 3 * L);
                    c0 = v0.fma(tc, c0); c1 = v1.fma(tc, c1); c2 = v2.fma(tc, c2); c3 = v3.fma(tc, c3);
                    d0 = v0.fma(td, d0); d1 = v1.fma(td, d1); d2 = v2.fma(td, d2); d3 = v3.fma(td, d3);
                }
                c0.intoArray(y, yo + 2 * ldy + i);
                c1.intoArray(y, yo + 2 * ldy + i + L);
                c2.intoArray(y, yo + 2 * ldy + i + 2 * L);
                c3.intoArray(y, yo + 2 * ldy + i + 3 * L);
                for (int kx = 0; kx < 7; kx++) {   // source row 9: ky 6 of the last
                    FloatVector td = FloatVector.broadcast(S, w[wo + 42 + kx]);
                    int q = so + 9 * ld + kx + i;
                    d0 = FloatVector.fromArray(S, src, q).fma(td, d0);
                    d1 = FloatVector.fromArray(S, src, q + L).fma(td, d1);
                    d2 = FloatVector.fromArray(S, src, q + 2 * L).fma(td, d2);
                    d3 = FloatVector.fromArray(S, src, q + 3 * L).fma(td, d3);
                }
                d0.intoArray(y, yo + 3 * ldy + i);
                d1.intoArray(y, yo + 3 * ldy + i + L);
                d2.intoArray(y, yo + 3 * ldy + i + 2 * L);
                d3.intoArray(y, yo + 3 * ldy + i + 3 * L);
            }
        if (i < n) {   // the rest as two row7x2 calls; a rest under one vector overlaps the block before it
            int from = i > 0 && n - i < L ? n - L : i;
            row7x2(src, so + from, ld, w, wo, init, y, yo + from, ldy, n - from, taps);
            row7x2(src, so + 2 * ld + from, ld, w, wo, init, y, yo + 2 * ldy + from, ldy, n - from, taps);
        }
    }
}
