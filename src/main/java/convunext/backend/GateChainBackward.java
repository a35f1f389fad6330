package convunext.backend;

import convunext.tensor.Tensor;

/**
 * {@link Backend#gateChainTrainBackward}'s default: the backwards of the gate chain's five ops
 * (F.gateChain's forward: g = linear(low, gw, gb), u = gateIn(g, skip), a = linear(u, w1, b1),
 * s = gateOut(a, skip, g), s2 = linear(s, w2, b2)) in reverse order, each gradient added where the
 * tape adds it when the ops are recorded one by one: the skip's gradient takes gateOut's part, then
 * gateIn's (into[1] first where held); g's is gateOut's dg with gateIn's du added to its first C
 * channels; the weights' and low's go into their held gradients through linearBackwardInto.
 */
final class GateChainBackward {
    private GateChainBackward() {}

    static Tensor[] composed(Backend be, Tensor low, Tensor skip, Tensor g, Tensor u, Tensor a, Tensor s, Tensor gw,
                             Tensor w1, Tensor w2, Tensor gy, boolean hasGb, boolean hasB1, boolean hasB2,
                             boolean needLow, boolean needSkip, Tensor[] into) {
        OpShapes.gateChainTrainBackward(OpShapes.of(low), OpShapes.of(skip), OpShapes.of(g), OpShapes.of(u), OpShapes.of(a),
                OpShapes.of(s), OpShapes.of(gw), OpShapes.of(w1), OpShapes.of(w2), OpShapes.of(gy), into);
        Tensor[] r2 = be.linearBackwardInto(s, w2, gy, true, hasB2, null, into[6], into[7]);
        Tensor[] d = be.gateOutBackward(a, skip, g, r2[0]);
        be.release(r2[0]);
        Tensor ds = null;
        if (!needSkip) be.release(d[1]);
        else if (into[1] == null) ds = d[1];
        else {
            be.addInPlace(into[1], d[1]);
            be.release(d[1]);
            ds = into[1];
        }
        Tensor[] r1 = be.linearBackwardInto(u, w1, d[0], true, hasB1, null, into[4], into[5]);
        be.release(d[0]);
        Tensor dg = ds != null ? be.gateInBackwardInto(r1[0], g.dim(1), d[2], ds) : be.gateInBackwardInto(r1[0], g.dim(1), d[2]);
        be.release(r1[0]);
        Tensor[] rg = be.linearBackwardInto(low, gw, dg, needLow, hasGb, into[0], into[2], into[3]);
        be.release(dg);
        return new Tensor[]{rg[0], ds, rg[1], rg[2], r1[1], r1[2], r2[1], r2[2]};
    }
}
