package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * linear over the channel concatenation of two tensors in float64, mirroring
 * {@code Backend.linearCat}: a [N,Ca,H,W], b [N,Cb,H,W], w [Co,Ca+Cb] (or [Co,Ca+Cb,1,1]), bias [Co]
 * or null; y[n,o,p] = bias[o] + Σ_{i<Ca} w[o,i]·a[n,i,p] + Σ_{j<Cb} w[o,Ca+j]·b[n,j,p]. Written
 * from the two-part formula (not through RefLayout.concat), so the tests compare it with the
 * composition concat → RefLinear as an independent check.
 */
public final class RefLinearCat {
    private RefLinearCat() {}

    public static D linearCat(D a, D b, D w, D bias) {
        OpShapes.linearCat(a.shape, b.shape, w.shape, bias == null ? null : bias.shape);
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), ci = ca + cb, hw = a.dim(2) * a.dim(3), co = w.dim(0);
        D y = new D(n, co, a.dim(2), a.dim(3));
        for (int in = 0; in < n; in++)
            for (int o = 0; o < co; o++)
                for (int p = 0; p < hw; p++) {
                    double s = bias == null ? 0 : bias.data[o];
                    for (int i = 0; i < ca; i++) s += w.data[o * ci + i] * a.data[(in * ca + i) * hw + p];
                    for (int j = 0; j < cb; j++) s += w.data[o * ci + ca + j] * b.data[(in * cb + j) * hw + p];
                    y.data[(in * co + o) * hw + p] = s;
                }
        return y;
    }

    /** {da (null unless needDa), db (null unless needDb), dw shaped like w, dbias [Co] (null unless hasBias)}. */
    public static D[] linearCatBackward(D a, D b, D w, D dy, boolean needDa, boolean needDb, boolean hasBias) {
        OpShapes.linearCatBackward(a.shape, b.shape, w.shape, dy.shape);
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), ci = ca + cb, hw = a.dim(2) * a.dim(3), co = w.dim(0);
        D da = needDa ? new D(a.shape) : null, db = needDb ? new D(b.shape) : null;
        D dw = new D(w.shape);
        D dbias = hasBias ? new D(co) : null;
        for (int in = 0; in < n; in++)
            for (int o = 0; o < co; o++)
                for (int p = 0; p < hw; p++) {
                    double g = dy.data[(in * co + o) * hw + p];
                    if (dbias != null) dbias.data[o] += g;
                    for (int i = 0; i < ca; i++) {
                        int xi = (in * ca + i) * hw + p;
                        dw.data[o * ci + i] += g * a.data[xi];
                        if (da != null) da.data[xi] += g * w.data[o * ci + i];
                    }
                    for (int j = 0; j < cb; j++) {
                        int xi = (in * cb + j) * hw + p;
                        dw.data[o * ci + ca + j] += g * b.data[xi];
                        if (db != null) db.data[xi] += g * w.data[o * ci + ca + j];
                    }
                }
        return new D[] {da, db, dw, dbias};
    }
}
