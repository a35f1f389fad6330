package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.LossResult;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** RefBackend's float32 ops equal the D ops on the widened inputs, rounded once (smoke). */
class RefBackendTest {
    private final RefBackend be = new RefBackend();
    private final Random rnd = new Random(101);

    /** A random tensor living as a view 3 elements into a larger buffer, to exercise offsets. */
    private Tensor rand(double lo, double hi, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] buf = new float[n + 7];
        for (int i = 0; i < buf.length; i++) buf[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return be.view(be.upload(buf, buf.length), 3, shape);
    }

    private static D d(Tensor t) { return RefBackend.toD(t); }

    private void same(D expected, Tensor actual) {
        assertArrayEquals(expected.shape, actual.shape());
        assertArrayEquals(expected.toFloats(), be.download(actual));
    }

    private void same(D[] expected, Tensor[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == null) assertNull(actual[i]);
            else same(expected[i], actual[i]);
        }
    }

    @Test void convolutionsAndLinear() {
        Tensor x = rand(-1, 1, 2, 3, 9, 11), w = rand(-1, 1, 4, 3, 7, 7), b = rand(-1, 1, 4);
        Tensor y = be.conv2d(x, w, b, 1, 3, true);
        same(RefConv2d.conv2d(d(x), d(w), d(b), 1, 3, true), y);
        Tensor dy = rand(-1, 1, y.shape());
        same(RefConv2d.conv2dBackward(d(x), d(w), d(dy), 1, 3, true, true, true),
                be.conv2dBackward(x, w, dy, 1, 3, true, true, true));
        Tensor lw = rand(-1, 1, 5, 3), ly = be.linear(x, lw, null);
        same(RefLinear.linear(d(x), d(lw), null), ly);
        Tensor ldy = rand(-1, 1, ly.shape());
        same(RefLinear.linearBackward(d(x), d(lw), d(ldy), false, false), be.linearBackward(x, lw, ldy, false, false));
        Tensor dw = rand(-1, 1, 3, 1, 7, 7), db = rand(-1, 1, 3);
        same(RefDwConv7.dwconv7(d(x), d(dw), d(db)), be.dwconv7(x, dw, db));
        Tensor ddy = rand(-1, 1, x.shape());
        same(RefDwConv7.dwconv7Backward(d(x), d(dw), d(ddy)), be.dwconv7Backward(x, dw, ddy));
    }

    @Test void normsUpdateRunningStatsInPlace() {
        Tensor x = rand(-2, 2, 2, 3, 5, 7), g = rand(0.5, 1.5, 3), bt = rand(-1, 1, 3);
        Tensor rm = rand(-1, 1, 3), rv = rand(0.5, 2, 3);
        D erm = d(rm), erv = d(rv);
        D[] e = RefBatchNorm.batchnormTrain(d(x), d(g), d(bt), erm, erv, 0.1f, 1e-5f);
        Tensor[] r = be.batchnormTrain(x, g, bt, rm, rv, 0.1f, 1e-5f);
        same(e, r);
        same(erm, rm);
        same(erv, rv);
        Tensor dy = rand(-1, 1, x.shape());
        same(RefBatchNorm.batchnormBackward(d(x), d(dy), d(g), d(r[1]), d(r[2])),
                be.batchnormBackward(x, dy, g, r[1], r[2]));
        same(RefBatchNorm.batchnormEval(d(x), d(g), d(bt), d(rm), d(rv), 1e-5f), be.batchnormEval(x, g, bt, rm, rv, 1e-5f));
        Tensor[] ln = be.layernorm(x, g, bt, 1e-6f);
        same(RefLayerNorm.layernorm(d(x), d(g), d(bt), 1e-6f), ln);
        same(RefLayerNorm.layernormBackward(d(x), d(dy), d(g), d(ln[1]), d(ln[2])),
                be.layernormBackward(x, dy, g, ln[1], ln[2]));
    }

    @Test void elementwiseGateAndLayout() {
        Tensor a = rand(-3, 3, 2, 3, 5, 7), s = rand(-2, 2, 2, 3, 5, 7), g = rand(-3, 3, 2, 9, 5, 7);
        same(RefGelu.gelu(d(a)), be.gelu(a));
        same(RefGelu.geluBackward(d(a), d(s)), be.geluBackward(a, s));
        same(RefAdd.add(d(a), d(s)), be.add(a, s));
        same(RefGate.gateIn(d(g), d(s)), be.gateIn(g, s));
        same(RefGate.gateInBackward(d(a), 9), be.gateInBackward(a, 9));
        same(RefGate.gateOut(d(a), d(s), d(g)), be.gateOut(a, s, g));
        same(RefGate.gateOutBackward(d(a), d(s), d(g), d(s)), be.gateOutBackward(a, s, g, s));
        same(RefUpsample.upsample2x(d(a)), be.upsample2x(a));
        Tensor up = rand(-1, 1, 2, 3, 10, 14);
        same(RefUpsample.upsample2xBackward(d(up)), be.upsample2xBackward(up));
        same(RefLayout.pad2d(d(a), 1, 2, 0, 3), be.pad2d(a, 1, 2, 0, 3));
        same(RefLayout.pad2dBackward(d(up), 1, 2, 5, 7), be.pad2dBackward(up, 1, 2, 5, 7));
        same(RefLayout.concat(d(a), d(g)), be.concat(a, g));
        same(RefLayout.sliceChannels(d(g), 2, 7), be.sliceChannels(g, 2, 7));
    }

    @Test void lossAndAdamW() {
        Tensor logits = rand(-3, 3, 2, 3, 5, 7);
        float[] t = new float[2 * 5 * 7];
        for (int i = 0; i < t.length; i++) t[i] = rnd.nextInt(8) == 0 ? 255 : rnd.nextInt(3);
        Tensor target = be.upload(t, 2, 5, 7);
        RefLoss.Result e = RefLoss.ceDiceLoss(d(logits), d(target));
        LossResult r = be.ceDiceLoss(logits, target);
        assertEquals(e.loss(), r.loss(), 0);
        assertEquals(e.ce(), r.ce(), 0);
        assertEquals(e.dice(), r.dice(), 0);
        same(e.dlogits(), r.dlogits());

        // AdamW in place on views of one flat buffer; the elements around them stay untouched.
        Tensor flat = be.upload(new float[] {9, 1, 2, 3, 4, 9}, 6);
        Tensor p = be.view(flat, 1, 2, 2), gr = rand(-1, 1, 4), m = rand(-1, 1, 4), v = rand(0, 1, 4);
        D ep = d(p), em = d(m), ev = d(v);
        RefAdamW.adamw(ep, d(gr), em, ev, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, 3);
        be.adamw(p, gr, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, 3);
        same(ep, p);
        same(em, m);
        same(ev, v);
        float[] all = be.download(flat);
        assertEquals(9, all[0], 0);
        assertEquals(9, all[5], 0);
    }

    @Test void memoryOps() {
        assertEquals("ref", be.name());
        Tensor z = be.zeros(2, 3);
        assertArrayEquals(new float[6], be.download(z));
        Tensor u = be.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor v = be.view(u, 2, 4);
        assertArrayEquals(new float[] {3, 4, 5, 6}, be.download(v));
        be.fill(v, 0.5f);
        assertArrayEquals(new float[] {1, 2, 0.5f, 0.5f, 0.5f, 0.5f}, be.download(u));
        be.addInPlace(v, be.upload(new float[] {1, 2, 3, 4}, 4));
        assertArrayEquals(new float[] {1, 2, 1.5f, 2.5f, 3.5f, 4.5f}, be.download(u));
        be.copy(be.upload(new float[] {7, 8}, 2), be.view(u, 0, 2));
        assertArrayEquals(new float[] {7, 8, 1.5f, 2.5f, 3.5f, 4.5f}, be.download(u));
        assertThrows(IllegalArgumentException.class, () -> be.view(u, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> be.upload(new float[3], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> be.copy(z, v));
        float[] src = {1, 2};
        Tensor up = be.upload(src, 2);
        src[0] = 99;
        assertEquals(1, be.download(up)[0], 0, "upload must copy");
    }
}
