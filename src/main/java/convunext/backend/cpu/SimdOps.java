package convunext.backend.cpu;

/**
 * Inner loops that gain most from explicit SIMD: GELU (vector exp), the gate (σ, tanh), one output
 * row and the weight gradient of the depthwise 7×7, BatchNorm's double sums and float maps, AdamW's
 * update (a square root and two quotients per element), the bilinear adjoint's rows (gathers).
 * {@link #BEST} is the Vector API implementation when the jdk.incubator.vector module is present
 * (loaded by name, as in {@link GemmKernels}), else {@link ScalarOps}.
 */
interface SimdOps {
    SimdOps BEST = pick();

    /** y[i] = x[i]·Φ(x[i]) for i &lt; n. */
    void gelu(float[] x, int xo, float[] y, int yo, int n);

    /** dx[i] = dy[i]·(Φ(x) + x·φ(x)) for i &lt; n. */
    void geluBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n);

    /**
     * y[i] = gelu(x[i]) and d[i] = gelu'(x[i]) for i &lt; n, in one pass (Φ and φ computed once): the
     * bits of {@link #gelu} and of {@link #geluBackward} with dy = 1. y may be x.
     */
    void geluWithGrad(float[] x, int xo, float[] y, int yo, float[] d, int dOff, int n);

    /**
     * y[yo + i] = a[ao + i] + b[bo + i] for i &lt; n (one IEEE sum per element: the same bits in any
     * lane or tail). y may be a or b at the same offset, or apart from both; no other overlap.
     */
    void add(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n);

    /** y[yo + i] = a[ao + i]·b[bo + i] for i &lt; n (y may be a or b; one IEEE product per element, as mulInPlace). */
    void mul(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n);

    /** a[ao + i] ·= b[bo + i] for i &lt; n (one IEEE product per element: the same bits in any lane or tail). */
    void mulInPlace(float[] a, int ao, float[] b, int bo, int n);

    /** Floats per vector of these loops (1: scalar), for callers that pick a loop by row width. */
    default int lanes() { return 1; }

    /**
     * y[yo + i] = wa·a[ao + i] + wb·b[bo + i] for i &lt; n, two IEEE products then their sum (no
     * fused multiply-add: the same bits in any lane or tail). y apart from a and b. The bilinear
     * upsampling's blend of two interpolated rows.
     */
    void blend(float[] a, int ao, float wa, float[] b, int bo, float wb, float[] y, int yo, int n);

    /**
     * y[yo + i] = wa[wao + i]·a[ao + i] + wb[wbo + i]·b[bo + i] for i &lt; n: {@link #blend} with a
     * weight per element (two IEEE products, then their sum). y apart from the others.
     */
    void blendEach(float[] wa, int wao, float[] a, int ao, float[] wb, int wbo, float[] b, int bo, float[] y, int yo, int n);

    /**
     * One row of a 7×7 correlation over a padded plane: y[yo + i] = init + Σ_{ky,kx}
     * w[wo + ky·7 + kx]·src[so + ky·ld + kx + i] for i &lt; n. {@code taps} is {@link #taps7}(ld).
     */
    void row7(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int n, int[] taps);

    /**
     * {@link #row7} for two consecutive output rows: y[yo + i] over src rows so … so + 6·ld and
     * y[yo + ldy + i] over src rows so + ld … so + 7·ld, with the bits of two row7 calls.
     */
    void row7x2(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int ldy, int n, int[] taps);

    /**
     * {@link #row7} for four consecutive output rows, y[yo + j·ldy + i] over src rows so + j·ld …
     * so + (j + 6)·ld (ten source rows), with the bits of four row7 calls.
     */
    default void row7x4(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int ldy, int n, int[] taps) {
        row7x2(src, so, ld, w, wo, init, y, yo, ldy, n, taps);
        row7x2(src, so + 2 * ld, ld, w, wo, init, y, yo + 2 * ldy, ldy, n, taps);
    }

    /**
     * The offsets of the 7×7 kernel's source elements in a plane with row step ld, kernel rows 0–7
     * (the eighth for {@link #row7x2}'s second output): taps[ky·7 + kx] = ky·ld + kx. Made once per
     * op by the caller, so the vector loops run the taps as one loop over a table (see VectorDw7).
     */
    static int[] taps7(int ld) {
        int[] t = new int[56];
        for (int k = 0; k < 56; k++) t[k] = k / 7 * ld + k % 7;
        return t;
    }

    /** Refuses a tap table made for another row step (a wrong table would read the wrong elements). */
    static void checkTaps(int[] taps, int ld) {
        if (taps.length != 56 || taps[7] != ld || taps[55] != 7 * ld + 6)
            throw new IllegalArgumentException("row7: tap table for row step " + taps[7] + ", called with " + ld);
    }

    /**
     * Weight gradient of the depthwise 7×7 over one plane: gw[ky·7 + kx] += Σ_{y,x}
     * dy[dyo + y·w + x]·pad[(y+ky)·(w+6) + x + kx], float partial sums added in double.
     */
    void tapSums(float[] dy, int dyo, float[] pad, int h, int w, double[] gw);

    /*
     * dwconv7's backward with the channels in the lanes (CpuDwConv7's narrow planes): a "lanes
     * plane" holds lanes() channels, element (r, c, l) at (r·ld + c)·lanes() + l.
     */

    /**
     * gw[(ky·7 + kx)·L + l] += Σ dy(r, c, l)·pad(r + ky, c + kx, l) over the h×w lanes plane dy (from
     * dyo, row step ldd) and the (h+6)×(w+6) lanes plane pad: float chains per (tap, lane) over
     * blocks of flushRows rows, each block added in double (the order fixed by the shape).
     */
    void dw7TapSumsLanes(float[] dy, int dyo, int ldd, float[] pad, int h, int w, int flushRows, double[] gw);

    /**
     * out(y, x, l) = Σ_t wt[t·L + l]·src(y + t/7, x + t%7, l) for y &lt; ho, x &lt; wo (wo ≥ 8), t in
     * order from 0 (one FMA chain per element from 0: {@link #row7}'s bits with init 0); lanes
     * planes, src row step lds, out row step ldo.
     */
    void dw7CorrLanes(float[] src, int lds, float[] wt, float[] out, int ldo, int ho, int wo);

    /**
     * A linear with at most 4 outputs over len pixels: y[yo + m·ldy + q] = b4[m] + Σ_k w4[k·4 + m]·x[xo + k·ldx + q]
     * for m &lt; co, q &lt; len, one FMA chain per element from b4[m] over k = 0 … ci − 1 in order (the
     * GEMM's chain: its accumulators start at the bias); w4: the weights k-major, 4 per input, zero
     * past co; b4: 4 biases, zero past co or without a bias.
     */
    void linearNarrow(float[] x, int xo, int ldx, int ci, float[] w4, float[] b4, float[] y, int yo, int ldy, int co, int len);

    /** out[oo+i] = σ(a[ao+i])·s[so+i] + σ(g[g1+i])·tanh(g[g2+i]) for i &lt; n. */
    void gateOut(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] out, int oo, int n);

    /**
     * Gradients of {@link #gateOut} given d = dout[do+i]: da = d·s·σ'(a), ds = d·σ(a),
     * dg1 = d·tanh(g2)·σ'(g1), dg2 = d·σ(g1)·(1 − tanh²(g2)), for i &lt; n.
     */
    void gateOutBackward(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] d, int dOff,
                         float[] da, int dao, float[] ds, int dso, float[] dg, int dg1, int dg2, int n);

    /**
     * BatchNorm's statistics over one plane: acc[0] += Σ d and acc[1] += Σ d² with d = x[xo+i] − shift
     * (in double: the difference of two floats is exact there) for i &lt; n. The order of the sums is
     * fixed by n and the implementation (vector lanes, then the lanes in order, then the tail).
     */
    void bnSums(float[] x, int xo, int n, double shift, double[] acc);

    /** BatchNorm backward's sums over one plane: acc[0] += Σ dy, acc[1] += Σ dy·(x − m), in double. */
    void bnGradSums(float[] dy, int dyo, float[] x, int xo, int n, double m, double[] acc);

    /** y[yo+i] = fma(x[xo+i] − m, a, b) for i &lt; n (float; the same bits in any lane or tail). */
    void bnApply(float[] x, int xo, float[] y, int yo, int n, float m, float a, float b);

    /** dx[i] = fma(k1, dy[i], fma(k2, x[i] − m, k3)) for i &lt; n (float; the same bits in any lane or tail). */
    void bnBackwardApply(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float m, float k1, float k2, float k3);

    /**
     * Two rows of the bilinear ×2 adjoint ({@link CpuUpsample}), r0 ≠ r1: for c0 ≤ c &lt; c1, in slot order
     * s &lt; slots, da[r0 + c] += (h0·wt[s·stride + c])·row[idx[s·stride + c]] and the same into
     * da[r1 + c] with h1. Slots list each input column's terms in the scatter's order; an unused
     * slot points at a zero of row with weight 0 (adds +0: da, summed from +0, is never −0).
     */
    void upsampleAdjointRows(float[] row, int[] idx, float[] wt, int slots, int stride, float h0, float h1,
                             float[] da, int r0, int r1, int c0, int c1);

    /**
     * {@link #upsampleAdjointRows} for the ×2 adjoint's interior columns with dy's row split by
     * output parity (ev[eo + j] = output 2j, od[oo + j] = output 2j + 1): column c's terms are
     * outputs 2c − 1, 2c, 2c + 1, 2c + 2, so slot s &lt; 4 reads od[oo + c − 1], ev[eo + c], od[oo + c],
     * ev[eo + c + 1] with weight wt[s·stride + c], in that order; its other slots are unused (they
     * add +0, which leaves da as it is). The gather loop's products and sums, so the same bits.
     */
    void upsampleAdjointHalves(float[] ev, int eo, float[] od, int oo, float[] wt, int stride, float h0, float h1,
                               float[] da, int r0, int r1, int c0, int c1);

    /** {@link CpuAdamW}'s update of p, m and v from g over n elements, with k's scalars (see {@link CpuAdamW.Coeffs}). */
    void adamw(CpuAdamW.Coeffs k, float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n);

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
