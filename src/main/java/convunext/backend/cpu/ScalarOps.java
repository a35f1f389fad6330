package convunext.backend.cpu;

/**
 * Plain-Java {@link SimdOps}: GELU and the gate through {@link FloatMath} (the same bits as
 * {@link VectorOps}), rows through C2's auto-vectoriser.
 */
final class ScalarOps implements SimdOps {
    @Override public String describe() { return "scalar"; }

    @Override public void gelu(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = FloatMath.gelu(x[xo + i]);
    }

    @Override public void geluBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        for (int i = 0; i < n; i++) dx[dxo + i] = FloatMath.geluGrad(x[xo + i]) * dy[dyo + i];
    }

    @Override public void geluWithGrad(float[] x, int xo, float[] y, int yo, float[] d, int dOff, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            d[dOff + i] = FloatMath.geluGrad(v);
            y[yo + i] = FloatMath.gelu(v);
        }
    }

    @Override public void upsampleAdjointHalves(float[] ev, int eo, float[] od, int oo, float[] wt, int stride, float h0, float h1,
                                                float[] da, int r0, int r1, int c0, int c1) {
        for (int c = c0; c < c1; c++) {
            float a0 = da[r0 + c], a1 = da[r1 + c];
            float g = od[oo + c - 1], w = wt[c];
            a0 += h0 * w * g;
            a1 += h1 * w * g;
            g = ev[eo + c];
            w = wt[stride + c];
            a0 += h0 * w * g;
            a1 += h1 * w * g;
            g = od[oo + c];
            w = wt[2 * stride + c];
            a0 += h0 * w * g;
            a1 += h1 * w * g;
            g = ev[eo + c + 1];
            w = wt[3 * stride + c];
            a0 += h0 * w * g;
            a1 += h1 * w * g;
            da[r0 + c] = a0;
            da[r1 + c] = a1;
        }
    }

    @Override public void upsampleAdjointRows(float[] row, int[] idx, float[] wt, int slots, int stride, float h0, float h1,
                                              float[] da, int r0, int r1, int c0, int c1) {
        for (int c = c0; c < c1; c++) {
            float a0 = da[r0 + c], a1 = da[r1 + c];
            for (int s = 0; s < slots; s++) {
                float g = row[idx[s * stride + c]], w = wt[s * stride + c];
                a0 += h0 * w * g;
                a1 += h1 * w * g;
            }
            da[r0 + c] = a0;
            da[r1 + c] = a1;
        }
    }

    @Override public void adamw(CpuAdamW.Coeffs k, float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n) {
        float beta1 = k.beta1(), beta2 = k.beta2(), ob1 = k.ob1(), ob2 = k.ob2(), bc2Sqrt = k.bc2Sqrt(), eps = k.eps();
        float decay = k.decay(), stepSize = k.stepSize();
        for (int i = 0; i < n; i++) {
            float gi = g[go + i];
            float mi = m[mo + i] * beta1 + ob1 * gi;
            float vi = v[vo + i] * beta2 + ob2 * gi * gi;
            m[mo + i] = mi;
            v[vo + i] = vi;
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            p[po + i] = p[po + i] * decay - stepSize * (mi / denom);
        }
    }

    @Override public void add(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = a[ao + i] + b[bo + i];
    }

    @Override public void mul(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = a[ao + i] * b[bo + i];
    }

    @Override public void mulInPlace(float[] a, int ao, float[] b, int bo, int n) {
        for (int i = 0; i < n; i++) a[ao + i] *= b[bo + i];
    }

    @Override public void blend(float[] a, int ao, float wa, float[] b, int bo, float wb, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = wa * a[ao + i] + wb * b[bo + i];
    }

    @Override public void blendEach(float[] wa, int wao, float[] a, int ao, float[] wb, int wbo, float[] b, int bo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = wa[wao + i] * a[ao + i] + wb[wbo + i] * b[bo + i];
    }

    @Override public void row7(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int n, int[] taps) {
        SimdOps.checkTaps(taps, ld);
        java.util.Arrays.fill(y, yo, yo + n, init);
        for (int ky = 0; ky < 7; ky++)
            for (int kx = 0; kx < 7; kx++) {
                float t = w[wo + ky * 7 + kx];
                int s = so + ky * ld + kx;
                for (int i = 0; i < n; i++) y[yo + i] = Math.fma(t, src[s + i], y[yo + i]);
            }
    }

    @Override public void row7x2(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int ldy, int n, int[] taps) {
        row7(src, so, ld, w, wo, init, y, yo, n, taps);
        row7(src, so + ld, ld, w, wo, init, y, yo + ldy, n, taps);
    }

    /** One lane: the order of VectorDw7Lanes (per block: even columns below w − w mod 4 and the rest, odd columns; two chains). */
    @Override public void dw7TapSumsLanes(float[] dy, int dyo, int ldd, float[] pad, int h, int w, int flushRows, double[] gw) {
        int wp = w + 6, w4 = w - w % 4;
        for (int ky = 0; ky < 7; ky++)
            for (int r0 = 0; r0 < h; r0 += flushRows) {
                int r1 = Math.min(h, r0 + flushRows);
                for (int kx = 0; kx < 7; kx++) {
                    float a = 0f, b = 0f;
                    for (int r = r0; r < r1; r++)
                        for (int c = 0; c < w4; c += 2) {
                            a = Math.fma(dy[dyo + r * ldd + c], pad[(r + ky) * wp + c + kx], a);
                            b = Math.fma(dy[dyo + r * ldd + c + 1], pad[(r + ky) * wp + c + 1 + kx], b);
                        }
                    for (int r = r0; r < r1; r++)
                        for (int c = w4; c < w; c++) a = Math.fma(dy[dyo + r * ldd + c], pad[(r + ky) * wp + c + kx], a);
                    gw[ky * 7 + kx] += a;
                    gw[ky * 7 + kx] += b;
                }
            }
    }

    @Override public void linearNarrow(float[] x, int xo, int ldx, int ci, float[] w4, float[] b4, float[] y, int yo, int ldy, int co, int len) {
        for (int m = 0; m < co; m++)
            for (int q = 0; q < len; q++) {
                float a = b4[m];
                for (int k = 0; k < ci; k++) a = Math.fma(x[xo + k * ldx + q], w4[k * 4 + m], a);
                y[yo + m * ldy + q] = a;
            }
    }

    @Override public void dw7CorrLanes(float[] src, int lds, float[] wt, float[] out, int ldo, int ho, int wo) {
        for (int y = 0; y < ho; y++)
            for (int x = 0; x < wo; x++) {
                float a = 0f;
                for (int t = 0; t < 49; t++) a = Math.fma(src[(y + t / 7) * lds + x + t % 7], wt[t], a);
                out[y * ldo + x] = a;
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

    @Override public void gateOut(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] out, int oo, int n) {
        for (int i = 0; i < n; i++)
            out[oo + i] = Math.fma(FloatMath.sigmoid(a[ao + i]), s[so + i],
                    FloatMath.sigmoid(g[g1 + i]) * FloatMath.tanh(g[g2 + i]));
    }

    @Override public void gateOutBackward(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] d, int dOff,
                                          float[] da, int dao, float[] ds, int dso, float[] dg, int dg1, int dg2, int n) {
        for (int i = 0; i < n; i++) {
            float av = a[ao + i], dsa = d[dOff + i] * FloatMath.sigmoid(av);
            ds[dso + i] = dsa;
            da[dao + i] = dsa * s[so + i] * FloatMath.sigmoidNeg(av);
        }
        for (int i = 0; i < n; i++) {
            float g1v = g[g1 + i], g2v = g[g2 + i], ds1 = d[dOff + i] * FloatMath.sigmoid(g1v);
            dg[dg1 + i] = ds1 * FloatMath.tanh(g2v) * FloatMath.sigmoidNeg(g1v);
            dg[dg2 + i] = ds1 * FloatMath.sech2(g2v);
        }
    }

    @Override public void bnSums(float[] x, int xo, int n, double shift, double[] acc) {
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            double d = x[xo + i] - shift;
            s += d;
            ss = Math.fma(d, d, ss);
        }
        acc[0] += s;
        acc[1] += ss;
    }

    @Override public void bnGradSums(float[] dy, int dyo, float[] x, int xo, int n, double m, double[] acc) {
        double s = 0, sx = 0;
        for (int i = 0; i < n; i++) {
            double g = dy[dyo + i];
            s += g;
            sx = Math.fma(g, x[xo + i] - m, sx);
        }
        acc[0] += s;
        acc[1] += sx;
    }

    @Override public void bnApply(float[] x, int xo, float[] y, int yo, int n, float m, float a, float b) {
        for (int i = 0; i < n; i++) y[yo + i] = Math.fma(x[xo + i] - m, a, b);
    }

    @Override public void bnBackwardApply(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float m,
                                          float k1, float k2, float k3) {
        for (int i = 0; i < n; i++) dx[dxo + i] = Math.fma(k1, dy[dyo + i], Math.fma(k2, x[xo + i] - m, k3));
    }
}
