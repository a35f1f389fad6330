package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * The gated skip attention of the Up block in float64, mirroring {@code Backend.gateIn/gateOut}.
 * g [N,3C,H,W] holds the three channel blocks g1,g2,g3 of Linear(C→3C); s [N,C,H,W] is the skip.
 * gateIn: u = g1 + s. gateOut: out = σ(a)⊙s + σ(g2)⊙tanh(g3), a = Linear1(u).
 */
public final class RefGate {
    private RefGate() {}

    public static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** u = g[:,0:C] + s. */
    public static D gateIn(D g, D s) {
        OpShapes.gateIn(g.shape, s.shape);
        int n = s.dim(0), c = s.dim(1), hw = s.dim(2) * s.dim(3);
        D u = new D(s.shape);
        for (int in = 0; in < n; in++)
            for (int i = 0; i < c * hw; i++)
                u.data[in * c * hw + i] = g.data[in * 3 * c * hw + i] + s.data[in * c * hw + i];
        return u;
    }

    /** dg [N,3C,H,W] = (du, 0, 0) over channel blocks (ds = du is the caller's). */
    public static D gateInBackward(D du, int threeC) {
        OpShapes.gateInBackward(du.shape, threeC);
        int n = du.dim(0), c = du.dim(1), hw = du.dim(2) * du.dim(3);
        D dg = new D(n, threeC, du.dim(2), du.dim(3));
        for (int in = 0; in < n; in++)
            System.arraycopy(du.data, in * c * hw, dg.data, in * 3 * c * hw, c * hw);
        return dg;
    }

    /** out = σ(a)⊙s + σ(g[:,C:2C])⊙tanh(g[:,2C:3C]). */
    public static D gateOut(D a, D s, D g) {
        OpShapes.gateOut(a.shape, s.shape, g.shape);
        int n = s.dim(0), c = s.dim(1), hw = s.dim(2) * s.dim(3), blk = c * hw;
        D out = new D(s.shape);
        for (int in = 0; in < n; in++)
            for (int i = 0; i < blk; i++) {
                int j = in * blk + i, gb = in * 3 * blk + i;
                out.data[j] = sigmoid(a.data[j]) * s.data[j]
                        + sigmoid(g.data[gb + blk]) * Math.tanh(g.data[gb + 2 * blk]);
            }
        return out;
    }

    /** {da, ds, dg} with dg [N,3C,H,W] whose channels 0..C−1 are zero. */
    public static D[] gateOutBackward(D a, D s, D g, D dout) {
        OpShapes.gateOutBackward(a.shape, s.shape, g.shape, dout.shape);
        int n = s.dim(0), c = s.dim(1), hw = s.dim(2) * s.dim(3), blk = c * hw;
        D da = new D(s.shape), ds = new D(s.shape), dg = new D(g.shape);
        for (int in = 0; in < n; in++)
            for (int i = 0; i < blk; i++) {
                int j = in * blk + i, gb = in * 3 * blk + i;
                double d = dout.data[j];
                double sa = sigmoid(a.data[j]);
                double s2 = sigmoid(g.data[gb + blk]), t3 = Math.tanh(g.data[gb + 2 * blk]);
                da.data[j] = d * s.data[j] * sa * (1 - sa);
                ds.data[j] = d * sa;
                dg.data[gb + blk] = d * t3 * s2 * (1 - s2);
                dg.data[gb + 2 * blk] = d * s2 * (1 - t3 * t3);
            }
        return new D[] {da, ds, dg};
    }
}
