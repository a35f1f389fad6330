package convunext.backend.cuda.ops;

import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches gate.cu: the fused halves of the gated skip attention and their backward. */
public final class GateOps {
    private final Launcher k;

    public GateOps(Launcher k) { this.k = k; }

    /** Checks g [N,3C,H,W] against s [N,C,H,W]; returns C*H*W. */
    private static int check(String op, Tensor g, Tensor s) {
        Shapes.rank(op, "s", s, 4);
        Shapes.shape(op, "g", g, s.dim(0), 3 * s.dim(1), s.dim(2), s.dim(3));
        return imageSize(op, s);
    }

    /** C*H*W of [N,C,H,W] t (gate.cu's int CP), refused when over 2^31 - 1. */
    private static int imageSize(String op, Tensor t) {
        long cp = (long) t.dim(1) * t.dim(2) * t.dim(3);
        Shapes.require(cp <= Integer.MAX_VALUE, op, "image too large " + t.shapeString());
        return (int) cp;
    }

    /** gate.cu: CU_PIECE elements per thread (cu_piece4). */
    private static int[] grid(int cp, int n) { return new int[]{Launcher.ceilDiv(cp, (long) Kernels.CU_PIECE * Launcher.THREADS), n, 1}; }

    public Tensor gateIn(Tensor g, Tensor s) {
        int cp = check("gateIn", g, s);
        Tensor u = k.empty(s.shape());
        if (u.numel() > 0)
            Kernels.gate_forward_in(k.at("gateIn", new Tensor[]{g, s}, grid(cp, s.dim(0)), Launcher.block1D(), 0))
                    .g(k.ptr(g)).s(k.ptr(s)).u(k.ptr(u)).CP(cp).launch();
        return u;
    }

    public Tensor gateOut(Tensor a, Tensor s, Tensor g) {
        int cp = check("gateOut", g, s);
        Shapes.same("gateOut", a, s);
        Tensor out = k.empty(s.shape());
        if (out.numel() > 0)
            Kernels.gate_forward_out(k.at("gateOut", new Tensor[]{a, s, g}, grid(cp, s.dim(0)), Launcher.block1D(), 0))
                    .a(k.ptr(a)).s(k.ptr(s)).g(k.ptr(g)).out(k.ptr(out)).CP(cp).launch();
        return out;
    }

    public Tensor[] gateOutBackward(Tensor a, Tensor s, Tensor g, Tensor dout) {
        String op = "gateOutBackward";
        int cp = check(op, g, s);
        Shapes.same(op, a, s);
        Shapes.same(op, dout, s);
        Tensor da = k.empty(s.shape()), ds = k.empty(s.shape()), dg = k.empty(g.shape());
        if (s.numel() > 0)
            Kernels.gate_backward_out(k.at(op, new Tensor[]{a, s, g, dout}, grid(cp, s.dim(0)), Launcher.block1D(), 0))
                    .a(k.ptr(a)).s(k.ptr(s)).g(k.ptr(g)).dout(k.ptr(dout)).da(k.ptr(da))
                    .ds(k.ptr(ds)).dg(k.ptr(dg)).CP(cp).launch();
        return new Tensor[]{da, ds, dg};
    }

    public Tensor gateInBackward(Tensor du, int threeC) { return gateInBackwardInto(du, threeC, null); }

    /** dg = (du, 0, 0), or dgInto[:, 0:C] += du when dgInto is non-null (returned). */
    public Tensor gateInBackwardInto(Tensor du, int threeC, Tensor dgInto) { return gateInBackwardInto(du, threeC, dgInto, null); }

    /** As above, and ds += du in the same pass when dsInto (the skip's held gradient) is non-null. */
    public Tensor gateInBackwardInto(Tensor du, int threeC, Tensor dgInto, Tensor dsInto) {
        String op = "gateInBackward";
        Shapes.rank(op, "du", du, 4);
        Shapes.require(threeC == 3 * du.dim(1), op, "threeC " + threeC + " is not 3 x channels of du " + du.shapeString());
        if (dgInto != null) Shapes.shape(op, "dg", dgInto, du.dim(0), threeC, du.dim(2), du.dim(3));
        if (dsInto != null) Shapes.same(op, du, dsInto);
        int cp = imageSize(op, du);   // as check(): Tensor.spatial would wrap a C*H*W over 2^31 - 1
        Tensor dg = dgInto != null ? dgInto : k.empty(du.dim(0), threeC, du.dim(2), du.dim(3));
        if (du.numel() > 0)
            Kernels.gate_backward_in(k.at(op, new Tensor[]{du, dg, dsInto}, grid(cp, du.dim(0)), Launcher.block1D(), 0))
                    .du(k.ptr(du)).dg(k.ptr(dg)).ds(k.ptrOrNull(dsInto)).CP(cp).accumulate(dgInto != null ? 1 : 0).launch();
        return dg;
    }
}
