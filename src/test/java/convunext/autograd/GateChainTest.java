package convunext.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Backend;
import convunext.backend.cpu.CpuBackend;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * F.gateChainCat (one tape node: Backend.gateChainTrain and linearCat forward,
 * gateChainCatBackward backward) gives the gradients of the six ops recorded one by one (F.linear,
 * F.gateIn, F.linear, F.gateOut, F.linear, F.linearCat) bit for bit, as the Up block uses it: the
 * skip read again after the chain (its gradient held when the chain's backward runs) or not. On the CPU backend at 32 channels the chain's backward is one pass over
 * pixel blocks (CpuGateBwd) where the pool has at most 2 threads (one per image; CI's 2 cores), at 8
 * channels and 6×7 pixels the composition; CpuGateChainBackwardTest pins the one pass at any pool.
 */
class GateChainTest {
    private final Backend be = new CpuBackend();

    private Tensor rand(Random r, double scale, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return be.upload(a, shape);
    }

    private Var param(String name, Tensor v) { return Var.parameter(name, v, be.zeros(v.shape())); }

    /** Every parameter's gradient after one forward and backward. */
    private float[][] run(boolean chain, boolean skipAgain, Tensor[] v, Tensor gz) {
        try (Tape t = new Tape(be, true)) {
            Var lowP = param("low", v[0]), skipP = param("skip", v[1]);
            Var gw = param("gw", v[2]), gb = param("gb", v[3]), w1 = param("w1", v[4]), b1 = param("b1", v[5]);
            Var w2 = param("w2", v[6]), b2 = param("b2", v[7]), wc = param("wc", v[8]), bc = param("bc", v[9]);
            // intermediates (no gradient held until their first backward), as the Up block's low and skip
            Var low = F.add(t, lowP, lowP), skip = F.add(t, skipP, skipP);
            Var y;
            if (chain) y = F.gateChainCat(t, low, skip, gw, gb, w1, b1, w2, b2, wc, bc);
            else {
                Var g = F.linear(t, low, gw, gb);
                Var a = F.linear(t, F.gateIn(t, g, skip), w1, b1);
                Var s2 = F.linear(t, F.gateOut(t, a, skip, g), w2, b2);
                y = F.linearCat(t, s2, low, wc, bc);
            }
            Var z = skipAgain ? F.add(t, y, skip) : y;
            Tensor g = be.empty(gz.shape());
            be.copy(gz, g);
            t.backward(z, g);
            Var[] ps = {lowP, skipP, gw, gb, w1, b1, w2, b2, wc, bc};
            float[][] out = new float[ps.length][];
            for (int i = 0; i < ps.length; i++) out[i] = be.download(ps[i].grad());
            return out;
        }
    }

    @Test void levelZeroWidthOnePass() { check(2, 32, 19, 29, 1); }

    @Test void narrowComposition() { check(1, 8, 6, 7, 2); }

    private void check(int n, int c, int h, int w, long seed) {
        Random r = new Random(seed);
        double sc = 1 / Math.sqrt(c);
        Tensor[] v = {rand(r, 1, n, c, h, w), rand(r, 1, n, c, h, w), rand(r, sc, 3 * c, c), rand(r, 0.1, 3 * c), rand(r, sc, c, c),
                rand(r, 0.1, c), rand(r, sc, c, c), rand(r, 0.1, c), rand(r, sc, c, 2 * c), rand(r, 0.1, c)};
        Tensor gz = rand(r, 1, n, c, h, w);
        String[] names = {"low", "skip", "gw", "gb", "w1", "b1", "w2", "b2", "wc", "bc"};
        for (boolean skipAgain : new boolean[] {true, false}) {
            float[][] want = run(false, skipAgain, v, gz), got = run(true, skipAgain, v, gz);
            for (int i = 0; i < names.length; i++) {
                double m = 0;
                for (float x : want[i]) m = Math.max(m, Math.abs(x));
                assertTrue(m > 1e-3, names[i] + ": the gradient is not trivial");
                assertArrayEquals(want[i], got[i], names[i] + (skipAgain ? ", skip read again" : "") + ", " + n + "x" + c + "x" + h + "x" + w);
            }
        }
    }
}
