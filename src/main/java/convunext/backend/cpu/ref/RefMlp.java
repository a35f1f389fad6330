package convunext.backend.cpu.ref;

/**
 * ConvNeXt's MLP in float64, mirroring {@code Backend.mlp} / {@code Backend.mlpBackward}:
 * y = linear(gelu(linear(x, w1, b1)), w2, b2), defined as the composition of {@link RefLinear}
 * and {@link RefGelu}, so a fused backend is tested against the unfused math. Its saved state s
 * is pre = linear(x, w1, b1) (as Backend's default composition keeps it).
 */
public final class RefMlp {
    private RefMlp() {}

    /** {y, h = gelu(pre), s = pre} (h and s null unless keep). */
    public static D[] mlp(D x, D w1, D b1, D w2, D b2, boolean keep) {
        convunext.backend.OpShapes.mlp(x.shape, w1.shape, b1 == null ? null : b1.shape, w2.shape, b2 == null ? null : b2.shape);
        D pre = RefLinear.linear(x, w1, b1), h = RefGelu.gelu(pre);
        D y = RefLinear.linear(h, w2, b2);
        return keep ? new D[] {y, h, pre} : new D[] {y, null, null};
    }

    /** {dx (null unless needDx), dw1, db1 (null unless hasB1), dw2, db2 (null unless hasB2)}; s = pre. */
    public static D[] mlpBackward(D x, D w1, D w2, D gy, D h, D s, boolean needDx, boolean hasB1, boolean hasB2) {
        convunext.backend.OpShapes.mlpBackward(x.shape, w1.shape, w2.shape, gy.shape, h.shape, s.shape);
        D[] r2 = RefLinear.linearBackward(h, w2, gy, false, hasB2);
        D dpre = RefLinearGelu.linearBackwardDataGelu(w2, gy, s);
        D[] r1 = RefLinear.linearBackward(x, w1, dpre, needDx, hasB1);
        return new D[] {r1[0], r1[1], r1[2], r2[1], r2[2]};
    }
}
