package convunext.backend.cpu;

/** Plain-Java {@link SimdOps}: GELU through the double erfc, rows through C2's auto-vectoriser. */
final class ScalarOps implements SimdOps {
    private static final double INV_SQRT_2PI = 0.3989422804014327;

    @Override public String describe() { return "scalar"; }

    @Override public void gelu(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[xo + i];
            y[yo + i] = (float) (v * CpuElementwise.phi(v));
        }
    }

    @Override public void geluBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[xo + i];
            double d = CpuElementwise.phi(v) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
            dx[dxo + i] = (float) (dy[dyo + i] * d);
        }
    }

    @Override public void row7(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int n) {
        java.util.Arrays.fill(y, yo, yo + n, init);
        for (int ky = 0; ky < 7; ky++)
            for (int kx = 0; kx < 7; kx++) {
                float t = w[wo + ky * 7 + kx];
                int s = so + ky * ld + kx;
                for (int i = 0; i < n; i++) y[yo + i] = Math.fma(t, src[s + i], y[yo + i]);
            }
    }

    @Override public void tapSums(float[] dy, int dyo, float[] pad, int h, int w, double[] gw) {
        int wp = w + 6;
        float[] lanes = new float[49 * w];
        for (int r = 0; r < h; r++) {
            int g = dyo + r * w;
            for (int ky = 0; ky < 7; ky++)
                for (int kx = 0; kx < 7; kx++) {
                    int l = (ky * 7 + kx) * w, s = (r + ky) * wp + kx;
                    for (int i = 0; i < w; i++) lanes[l + i] = Math.fma(dy[g + i], pad[s + i], lanes[l + i]);
                }
            if ((r + 1) % 16 == 0 || r == h - 1) {
                for (int t = 0; t < 49; t++) gw[t] += CpuReduce.sum(lanes, t * w, w);
                java.util.Arrays.fill(lanes, 0f);
            }
        }
    }

    private static double sigmoid(double v) { return 1 / (1 + Math.exp(-v)); }

    @Override public void gateOut(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++)
            out[oo + i] = (float) (sigmoid(a[ao + i]) * s[so + i] + sigmoid(g[g1 + i]) * Math.tanh(g[g2 + i]));
    }

    @Override public void gateOutBackward(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] d, int dOff,
                                          float[] da, int dao, float[] ds, int dso, float[] dg, int dg1, int dg2, int n) {
        for (int i = 0; i < n; i++) {
            double dv = d[dOff + i], sv = s[so + i];
            double sgA = sigmoid(a[ao + i]), sg1 = sigmoid(g[g1 + i]), th = Math.tanh(g[g2 + i]);
            da[dao + i] = (float) (dv * sv * sgA * sigmoid(-a[ao + i]));
            ds[dso + i] = (float) (dv * sgA);
            dg[dg1 + i] = (float) (dv * th * sg1 * sigmoid(-g[g1 + i]));
            dg[dg2 + i] = (float) (dv * sg1 * (1 - th * th));
        }
    }
}
