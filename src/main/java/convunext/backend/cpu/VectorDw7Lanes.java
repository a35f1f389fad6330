package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * dwconv7's backward on narrow planes with the channels in the vector lanes ({@link SimdOps#dw7TapSumsLanes},
 * {@link SimdOps#dw7CorrLanes}; the layout and the driver are CpuDwConv7's {@code runLanes}). A plane
 * of 32 or 16 columns is two or one vector per row in the plane-per-channel layout, so the row
 * kernels ({@link VectorDw7}) spend most of their loads on cache-line-crossing shifts and their
 * calls on a few vectors each; here a vector is L channels at one pixel, every load is aligned
 * and whole, and a row of w pixels is w vectors. Loaded only through VectorOps; the rules of
 * VectorOps hold (vector values in flat loops of JDK vector methods, never across our own calls).
 */
final class VectorDw7Lanes {
    private VectorDw7Lanes() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /** {@link #tapSums}'s float chains: two sets (even and odd columns) of 7 taps (one kernel row) × L lanes, per thread. */
    private static final ThreadLocal<float[]> CHAINS = ThreadLocal.withInitial(() -> new float[14 * L]);

    /**
     * gw[(ky·7 + kx)·L + l] += Σ dy(r, c, l)·pad(r + ky, c + kx, l) over the h×w plane (dy(r, c, l) at
     * dyo + (r·ldd + c)·L + l, pad's row step (w+6)·L). Per block of flushRows rows, two float chains
     * per (tap, lane): the even and the odd columns below w4 = w − w mod 4, row by row, four pixels a
     * step (four dy and ten pad loads for 28 FMAs; two chains, so each takes two dependent FMAs a step,
     * not four: the latency had bounded one chain to 113 GFLOP/s on one core); then the columns from w4
     * on, row by row, into the even chain; then the even chain, then the odd one, added in double to gw.
     * So the order, hence the bits, is fixed by the shape.
     */
    static void tapSums(float[] dy, int dyo, int ldd, float[] pad, int h, int w, int flushRows, double[] gw) {
        int wp = w + 6, w4 = w - w % 4;
        float[] ch = CHAINS.get();
        for (int ky = 0; ky < 7; ky++)
            for (int r0 = 0; r0 < h; r0 += flushRows) {
                int rows = Math.min(flushRows, h - r0), g = dyo + r0 * ldd * L, q = (r0 + ky) * wp * L;
                java.util.Arrays.fill(ch, 0f);
                if (w4 > 0) chains4(dy, g, pad, q, ldd, wp, w4, rows, ch);
                if (w4 < w) chains1(dy, g + w4 * L, pad, q + w4 * L, ldd, wp, w - w4, rows, ch);
                for (int i = 0, e = ky * 7 * L; i < 7 * L; i++, e++) {
                    gw[e] += ch[i];
                    gw[e] += ch[7 * L + i];
                }
            }
    }

    /** The first w4 columns of rows rows, four pixels a step (even pixels into a, odd into b), one flat loop. */
    private static void chains4(float[] dy, int g, float[] pad, int q, int ldd, int wp, int w4, int rows, float[] ch) {
        FloatVector a0 = FloatVector.fromArray(S, ch, 0), a1 = FloatVector.fromArray(S, ch, L), a2 = FloatVector.fromArray(S, ch, 2 * L);
        FloatVector a3 = FloatVector.fromArray(S, ch, 3 * L), a4 = FloatVector.fromArray(S, ch, 4 * L), a5 = FloatVector.fromArray(S, ch, 5 * L);
        FloatVector a6 = FloatVector.fromArray(S, ch, 6 * L);
        FloatVector b0 = FloatVector.fromArray(S, ch, 7 * L), b1 = FloatVector.fromArray(S, ch, 8 * L), b2 = FloatVector.fromArray(S, ch, 9 * L);
        FloatVector b3 = FloatVector.fromArray(S, ch, 10 * L), b4 = FloatVector.fromArray(S, ch, 11 * L), b5 = FloatVector.fromArray(S, ch, 12 * L);
        FloatVector b6 = FloatVector.fromArray(S, ch, 13 * L);
        int c = 0, skipD = (ldd - w4 + 4) * L, skipP = (wp - w4 + 4) * L;
        for (int j = rows * (w4 / 4); j > 0; j--) {
            FloatVector d0 = FloatVector.fromArray(S, dy, g), d1 = FloatVector.fromArray(S, dy, g + L);
            FloatVector d2 = FloatVector.fromArray(S, dy, g + 2 * L), d3 = FloatVector.fromArray(S, dy, g + 3 * L);
            FloatVector p0 = FloatVector.fromArray(S, pad, q), p1 = FloatVector.fromArray(S, pad, q + L);
            FloatVector p2 = FloatVector.fromArray(S, pad, q + 2 * L), p3 = FloatVector.fromArray(S, pad, q + 3 * L);
            FloatVector p4 = FloatVector.fromArray(S, pad, q + 4 * L), p5 = FloatVector.fromArray(S, pad, q + 5 * L);
            FloatVector p6 = FloatVector.fromArray(S, pad, q + 6 * L), p7 = FloatVector.fromArray(S, pad, q + 7 * L);
            FloatVector p8 = FloatVector.fromArray(S, pad, q + 8 * L), p9 = FloatVector.fromArray(S, pad, q + 9 * L);
            a0 = d2.fma(p2, d0.fma(p0, a0));
            b0 = d3.fma(p3, d1.fma(p1, b0));
            a1 = d2.fma(p3, d0.fma(p1, a1));
            b1 = d3.fma(p4, d1.fma(p2, b1));
            a2 = d2.fma(p4, d0.fma(p2, a2));
            b2 = d3.fma(p5, d1.fma(p3, b2));
            a3 = d2.fma(p5, d0.fma(p3, a3));
            b3 = d3.fma(p6, d1.fma(p4, b3));
            a4 = d2.fma(p6, d0.fma(p4, a4));
            b4 = d3.fma(p7, d1.fma(p5, b4));
            a5 = d2.fma(p7, d0.fma(p5, a5));
            b5 = d3.fma(p8, d1.fma(p6, b5));
            a6 = d2.fma(p8, d0.fma(p6, a6));
            b6 = d3.fma(p9, d1.fma(p7, b6));
            c += 4;
            if (c == w4) { c = 0; g += skipD; q += skipP; }
            else { g += 4 * L; q += 4 * L; }
        }
        a0.intoArray(ch, 0);
        a1.intoArray(ch, L);
        a2.intoArray(ch, 2 * L);
        a3.intoArray(ch, 3 * L);
        a4.intoArray(ch, 4 * L);
        a5.intoArray(ch, 5 * L);
        a6.intoArray(ch, 6 * L);
        b0.intoArray(ch, 7 * L);
        b1.intoArray(ch, 8 * L);
        b2.intoArray(ch, 9 * L);
        b3.intoArray(ch, 10 * L);
        b4.intoArray(ch, 11 * L);
        b5.intoArray(ch, 12 * L);
        b6.intoArray(ch, 13 * L);
    }

    /** The last rest columns (from g, q) of rows rows, a pixel a step, into the even chains; one flat loop. */
    private static void chains1(float[] dy, int g, float[] pad, int q, int ldd, int wp, int rest, int rows, float[] ch) {
        FloatVector a0 = FloatVector.fromArray(S, ch, 0), a1 = FloatVector.fromArray(S, ch, L), a2 = FloatVector.fromArray(S, ch, 2 * L);
        FloatVector a3 = FloatVector.fromArray(S, ch, 3 * L), a4 = FloatVector.fromArray(S, ch, 4 * L), a5 = FloatVector.fromArray(S, ch, 5 * L);
        FloatVector a6 = FloatVector.fromArray(S, ch, 6 * L);
        int c = 0, skipD = (ldd - rest + 1) * L, skipP = (wp - rest + 1) * L;
        for (int j = rows * rest; j > 0; j--) {
            FloatVector d = FloatVector.fromArray(S, dy, g);
            a0 = d.fma(FloatVector.fromArray(S, pad, q), a0);
            a1 = d.fma(FloatVector.fromArray(S, pad, q + L), a1);
            a2 = d.fma(FloatVector.fromArray(S, pad, q + 2 * L), a2);
            a3 = d.fma(FloatVector.fromArray(S, pad, q + 3 * L), a3);
            a4 = d.fma(FloatVector.fromArray(S, pad, q + 4 * L), a4);
            a5 = d.fma(FloatVector.fromArray(S, pad, q + 5 * L), a5);
            a6 = d.fma(FloatVector.fromArray(S, pad, q + 6 * L), a6);
            c++;
            if (c == rest) { c = 0; g += skipD; q += skipP; }
            else { g += L; q += L; }
        }
        a0.intoArray(ch, 0);
        a1.intoArray(ch, L);
        a2.intoArray(ch, 2 * L);
        a3.intoArray(ch, 3 * L);
        a4.intoArray(ch, 4 * L);
        a5.intoArray(ch, 5 * L);
        a6.intoArray(ch, 6 * L);
    }

    /**
     * out(y, x, l) = Σ_t wt[t·L + l]·src(y + t/7, x + t%7, l), t = 0…48 in order from 0 (one chain per
     * output element, as {@link VectorDw7#row7} with init 0, so the same bits), for y &lt; ho,
     * x &lt; wo (wo ≥ 8); src row step lds pixels, out row step ldo. Eight pixels a call, a kernel
     * row a step: the row's fifteen source vectors are loaded once for its 7 × 8 FMAs (a table of
     * 49 tap offsets, one source and one weight load per FMA, ran at 82 GFLOP/s on one core). A
     * row's last eight pixels overlap the block before (recomputed, the same values).
     */
    static void corr(float[] src, int lds, float[] wt, float[] out, int ldo, int ho, int wo) {
        for (int y = 0; y < ho; y++)
            for (int x = 0; x < wo; x += 8) {
                int x0 = Math.min(x, wo - 8);
                corr8(src, (y * lds + x0) * L, lds * L, wt, out, (y * ldo + x0) * L);
            }
    }

    private static void corr8(float[] src, int s, int rowStep, float[] wt, float[] out, int o) {
        FloatVector z = FloatVector.zero(S), a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        for (int ky = 0, q = s, t = 0; ky < 7; ky++, q += rowStep, t += 7 * L) {
            FloatVector s0 = FloatVector.fromArray(S, src, q), s1 = FloatVector.fromArray(S, src, q + L);
            FloatVector s2 = FloatVector.fromArray(S, src, q + 2 * L), s3 = FloatVector.fromArray(S, src, q + 3 * L);
            FloatVector s4 = FloatVector.fromArray(S, src, q + 4 * L), s5 = FloatVector.fromArray(S, src, q + 5 * L);
            FloatVector s6 = FloatVector.fromArray(S, src, q + 6 * L), s7 = FloatVector.fromArray(S, src, q + 7 * L);
            FloatVector k = FloatVector.fromArray(S, wt, t);   // kx = 0
            a0 = s0.fma(k, a0); a1 = s1.fma(k, a1); a2 = s2.fma(k, a2); a3 = s3.fma(k, a3);
            a4 = s4.fma(k, a4); a5 = s5.fma(k, a5); a6 = s6.fma(k, a6); a7 = s7.fma(k, a7);
            FloatVector s8 = FloatVector.fromArray(S, src, q + 8 * L);
            k = FloatVector.fromArray(S, wt, t + L);   // kx = 1
            a0 = s1.fma(k, a0); a1 = s2.fma(k, a1); a2 = s3.fma(k, a2); a3 = s4.fma(k, a3);
            a4 = s5.fma(k, a4); a5 = s6.fma(k, a5); a6 = s7.fma(k, a6); a7 = s8.fma(k, a7);
            FloatVector s9 = FloatVector.fromArray(S, src, q + 9 * L);
            k = FloatVector.fromArray(S, wt, t + 2 * L);
            a0 = s2.fma(k, a0); a1 = s3.fma(k, a1); a2 = s4.fma(k, a2); a3 = s5.fma(k, a3);
            a4 = s6.fma(k, a4); a5 = s7.fma(k, a5); a6 = s8.fma(k, a6); a7 = s9.fma(k, a7);
            FloatVector s10 = FloatVector.fromArray(S, src, q + 10 * L);
            k = FloatVector.fromArray(S, wt, t + 3 * L);
            a0 = s3.fma(k, a0); a1 = s4.fma(k, a1); a2 = s5.fma(k, a2); a3 = s6.fma(k, a3);
            a4 = s7.fma(k, a4); a5 = s8.fma(k, a5); a6 = s9.fma(k, a6); a7 = s10.fma(k, a7);
            FloatVector s11 = FloatVector.fromArray(S, src, q + 11 * L);
            k = FloatVector.fromArray(S, wt, t + 4 * L);
            a0 = s4.fma(k, a0); a1 = s5.fma(k, a1); a2 = s6.fma(k, a2); a3 = s7.fma(k, a3);
            a4 = s8.fma(k, a4); a5 = s9.fma(k, a5); a6 = s10.fma(k, a6); a7 = s11.fma(k, a7);
            FloatVector s12 = FloatVector.fromArray(S, src, q + 12 * L);
            k = FloatVector.fromArray(S, wt, t + 5 * L);
            a0 = s5.fma(k, a0); a1 = s6.fma(k, a1); a2 = s7.fma(k, a2); a3 = s8.fma(k, a3);
            a4 = s9.fma(k, a4); a5 = s10.fma(k, a5); a6 = s11.fma(k, a6); a7 = s12.fma(k, a7);
            FloatVector s13 = FloatVector.fromArray(S, src, q + 13 * L);
            k = FloatVector.fromArray(S, wt, t + 6 * L);
            a0 = s6.fma(k, a0); a1 = s7.fma(k, a1); a2 = s8.fma(k, a2); a3 = s9.fma(k, a3);
            a4 = s10.fma(k, a4); a5 = s11.fma(k, a5); a6 = s12.fma(k, a6); a7 = s13.fma(k, a7);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        a2.intoArray(out, o + 2 * L);
        a3.intoArray(out, o + 3 * L);
        a4.intoArray(out, o + 4 * L);
        a5.intoArray(out, o + 5 * L);
        a6.intoArray(out, o + 6 * L);
        a7.intoArray(out, o + 7 * L);
    }
}
