package convunext.backend;

import convunext.tensor.Tensor;

/**
 * The Up block's 1×1 chain as the single ops, the defaults of {@link Backend#gateChain},
 * {@link Backend#gateChainTrain} and {@link Backend#gateChainCatBackward} (a backend may fuse them:
 * the CPU runs each per block of pixels).
 *
 * <p>The backward: the backwards of the Up block's six ops
 * (g = linear(low, gw, gb), u = gateIn(g, skip), a = linear(u, w1, b1), s = gateOut(a, skip, g),
 * s2 = linear(s, w2, b2), y = linearCat(s2, low, wc, bc)) in reverse order, each gradient added
 * where the tape adds it when the ops are recorded one by one: low's takes linearCat's part, then
 * the gate linear's (into[0] first where held); the skip's gateOut's part, then gateIn's; g's is
 * gateOut's dg with gateIn's du added to its first C channels; the weights' go into their held
 * gradients through linearBackwardInto / linearCatBackwardInto.
 */
final class GateChainComposed {
    private GateChainComposed() {}

    static Tensor inference(Backend be, Tensor low, Tensor skip, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2,
                            Tensor b2, Tensor wc, Tensor bc) {
        OpShapes.gateChain(OpShapes.of(low), OpShapes.of(skip), OpShapes.of(gw), OpShapes.of(gb), OpShapes.of(w1),
                OpShapes.of(b1), OpShapes.of(w2), OpShapes.of(b2), OpShapes.of(wc), OpShapes.of(bc));
        Tensor g = be.linear(low, gw, gb);
        Tensor u = be.gateIn(g, skip);
        Tensor a = be.linear(u, w1, b1);
        be.release(u);
        Tensor s = be.gateOut(a, skip, g);
        be.release(a);
        be.release(g);
        Tensor s2 = w2 == null ? s : be.linear(s, w2, b2);
        if (w2 != null) be.release(s);
        try {
            return be.linearCat(s2, low, wc, bc);
        } finally {
            be.release(s2);
        }
    }

    static Tensor[] train(Backend be, Tensor low, Tensor skip, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2,
                          Tensor b2, Tensor wc, Tensor bc) {
        OpShapes.gateChainTrain(OpShapes.of(low), OpShapes.of(skip), OpShapes.of(gw), OpShapes.of(gb), OpShapes.of(w1),
                OpShapes.of(b1), OpShapes.of(w2), OpShapes.of(b2), OpShapes.of(wc), OpShapes.of(bc));
        Tensor g = be.linear(low, gw, gb), u = be.gateIn(g, skip), a = be.linear(u, w1, b1), s = be.gateOut(a, skip, g);
        Tensor s2 = be.linear(s, w2, b2);
        return new Tensor[]{g, u, a, s, s2, wc == null ? null : be.linearCat(s2, low, wc, bc)};
    }

    static Tensor[] backward(Backend be, Tensor low, Tensor skip, Tensor[] saved, Tensor[] w, Tensor gy, boolean[] bias,
                             boolean needLow, boolean needSkip, Tensor[] into) {
        OpShapes.gateChainCatBackward(OpShapes.of(low), OpShapes.of(skip), saved, w, OpShapes.of(gy), bias, into);
        Tensor g = saved[0], u = saved[1], a = saved[2], s = saved[3], s2 = saved[4];
        Tensor[] rc = be.linearCatBackwardInto(s2, low, w[3], gy, true, needLow, bias[3], null, into[0], into[8], into[9]);
        Tensor[] r2 = be.linearBackwardInto(s, w[2], rc[0], true, bias[2], null, into[6], into[7]);
        be.release(rc[0]);
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
        Tensor[] r1 = be.linearBackwardInto(u, w[1], d[0], true, bias[1], null, into[4], into[5]);
        be.release(d[0]);
        Tensor dg = ds != null ? be.gateInBackwardInto(r1[0], g.dim(1), d[2], ds) : be.gateInBackwardInto(r1[0], g.dim(1), d[2]);
        be.release(r1[0]);
        Tensor[] rg = be.linearBackwardInto(low, w[0], dg, needLow, bias[0], rc[1], into[2], into[3]);
        be.release(dg);
        return new Tensor[]{rg[0], ds, rg[1], rg[2], r1[1], r1[2], r2[1], r2[2], rc[2], rc[3]};
    }
}
