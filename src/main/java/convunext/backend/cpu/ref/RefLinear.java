package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * nn.Linear over the channel axis of NCHW in float64, mirroring {@code Backend.linear}:
 * x [N,Ci,H,W], w [Co,Ci], b [Co] or null; y[n,o,p] = b[o] + Σ_i w[o,i]·x[n,i,p].
 * A 1×1 conv weight [Co,Ci,1,1] (same memory layout) is accepted too, as the model runs 1×1
 * convolutions through linear; dw then has that shape.
 */
public final class RefLinear {
    private RefLinear() {}

    public static D linear(D x, D w, D b) {
        OpShapes.linear(x.shape, w.shape, b == null ? null : b.shape);
        int n = x.dim(0), ci = x.dim(1), hw = x.dim(2) * x.dim(3), co = w.dim(0);
        D y = new D(n, co, x.dim(2), x.dim(3));
        for (int in = 0; in < n; in++)
            for (int o = 0; o < co; o++)
                for (int p = 0; p < hw; p++) {
                    double s = b == null ? 0 : b.data[o];
                    for (int i = 0; i < ci; i++) s += w.data[o * ci + i] * x.data[(in * ci + i) * hw + p];
                    y.data[(in * co + o) * hw + p] = s;
                }
        return y;
    }

    /** {dx (null unless needDx), dw shaped like w, db [Co] (null unless hasBias)}. */
    public static D[] linearBackward(D x, D w, D dy, boolean needDx, boolean hasBias) {
        OpShapes.linearBackward(x.shape, w.shape, dy.shape);
        int n = x.dim(0), ci = x.dim(1), hw = x.dim(2) * x.dim(3), co = w.dim(0);
        D dx = needDx ? new D(x.shape) : null;
        D dw = new D(w.shape);
        D db = hasBias ? new D(co) : null;
        for (int in = 0; in < n; in++)
            for (int o = 0; o < co; o++)
                for (int p = 0; p < hw; p++) {
                    double g = dy.data[(in * co + o) * hw + p];
                    if (db != null) db.data[o] += g;
                    for (int i = 0; i < ci; i++) {
                        int xi = (in * ci + i) * hw + p;
                        dw.data[o * ci + i] += g * x.data[xi];
                        if (dx != null) dx.data[xi] += g * w.data[o * ci + i];
                    }
                }
        return new D[] {dx, dw, db};
    }
}
