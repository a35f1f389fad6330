package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * linearCat (linear over cat(a, b) without the concat) forward and backward on every backend
 * against the float64 oracle, on odd channel splits (3 + 5, 1 + 6, ...), odd H·W and sizes that
 * reach gemm_cat.cu's tiles (BM 32 / 64 / 128, the weight tiles); a 1×1 conv weight [Co,Ci,1,1]
 * like the model's. Tolerance 1e-5 normwise, LinearParityTest's (float32 sums of at most a few
 * hundred products: the same GEMMs).
 */
class LinearCatParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();
    static final double TOL = 1e-5;

    @OnEveryBackend void oddSplit(String b) throws Exception { cat(b, 1, 2, 3, 5, 7, 7, 9, true, true, true, true); }

    @OnEveryBackend void oneChannelFirst(String b) throws Exception { cat(b, 2, 1, 1, 6, 13, 11, 5, false, true, true, false); }

    @OnEveryBackend void onlyDa(String b) throws Exception { cat(b, 3, 2, 9, 4, 37, 5, 7, true, true, false, true); }

    @OnEveryBackend void onlyDb(String b) throws Exception { cat(b, 4, 2, 11, 2, 19, 3, 9, true, false, true, true); }

    @OnEveryBackend void largeTiles(String b) throws Exception { cat(b, 5, 2, 61, 67, 100, 6, 5, true, true, true, true); }

    @OnEveryBackend void longSpatial(String b) throws Exception { cat(b, 6, 3, 5, 3, 29, 23, 25, true, true, true, true); }

    private static void cat(String backend, long seed, int n, int ca, int cb, int co, int h, int w, boolean bias,
                            boolean needDa, boolean needDb, boolean conv4d) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "linearCat " + n + "x(" + ca + "+" + cb + ")→" + co + " @" + h + "x" + w + (bias ? " bias" : "");
            Tensor[] a = p.normalT(1, 0.2, n, ca, h, w), bb = p.normalT(1, -0.1, n, cb, h, w);
            Tensor[] wt = conv4d ? p.gaussT(co, ca + cb, 1, 1) : p.gaussT(co, ca + cb);
            Tensor[] bs = bias ? p.gaussT(co) : new Tensor[] {null, null};
            p.check(tag + " y", p.be.linearCat(a[0], bb[0], wt[0], bs[0]), p.ref.linearCat(a[1], bb[1], wt[1], bs[1]), TOL);
            Tensor[] dy = p.normalT(1, 0.1, n, co, h, w);
            Tensor[] got = p.be.linearCatBackward(a[0], bb[0], wt[0], dy[0], needDa, needDb, bias);
            Tensor[] ref = p.ref.linearCatBackward(a[1], bb[1], wt[1], dy[1], needDa, needDb, bias);
            if (needDa) p.check(tag + " da", got, ref, 0, TOL); else assertNull(got[0], tag + ": da not requested");
            if (needDb) p.check(tag + " db", got, ref, 1, TOL); else assertNull(got[1], tag + ": db not requested");
            p.check(tag + " dw", got, ref, 2, TOL);
            if (bias) p.check(tag + " dbias", got, ref, 3, TOL); else assertNull(got[3], tag + ": no bias");
            // added into gradients already held (the tape's sinks): held + fresh
            Tensor[] da0 = p.gaussT(n, ca, h, w), db0 = p.gaussT(n, cb, h, w), dw0 = p.gaussT(wt[0].shape());
            Tensor[] into = p.be.linearCatBackwardInto(a[0], bb[0], wt[0], dy[0], false, false, bias, da0[0], db0[0], dw0[0], null);
            Tensor[] refInto = p.ref.linearCatBackwardInto(a[1], bb[1], wt[1], dy[1], false, false, bias, da0[1], db0[1], dw0[1], null);
            p.check(tag + " da += ", into, refInto, 0, TOL);
            p.check(tag + " db += ", into, refInto, 1, TOL);
            p.check(tag + " dw += ", into, refInto, 2, TOL);
            if (bias) p.check(tag + " dbias (fresh)", into, refInto, 3, TOL);
            Tensor[] da1 = p.gaussT(n, ca, h, w);   // one half held, the other fresh
            Tensor[] half = p.be.linearCatBackwardInto(a[0], bb[0], wt[0], dy[0], false, true, false, da1[0], null, null, null);
            Tensor[] refHalf = p.ref.linearCatBackwardInto(a[1], bb[1], wt[1], dy[1], false, true, false, da1[1], null, null, null);
            p.check(tag + " da += (db fresh)", half, refHalf, 0, TOL);
            p.check(tag + " db fresh (da +=)", half, refHalf, 1, TOL);
        }
    }
}
