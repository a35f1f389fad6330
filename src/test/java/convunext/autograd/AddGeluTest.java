package convunext.autograd;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.cpu.ref.RefBackend;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** F.addGelu (residual add and GELU in one pass) against the unfused chain F.gelu(F.add(a, b)). */
class AddGeluTest {
    private final Backend be = new RefBackend();

    private Tensor rand(Random r, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 6 - 3);
        return be.upload(a, shape);
    }

    /**
     * {y, da, db, dw} for one forward/backward of gelu(a + s) with the given gradient of y; a and b
     * need gradients as asked. With {@code chain}, s = b + linear(a, w): a is then used twice (by
     * this op and by the Linear), as x is in a block (residual and dwconv), and dw flows through s;
     * without, s = b and dw is null.
     */
    private float[][] run(boolean fused, boolean chain, boolean gradA, boolean gradB, Tensor a0, Tensor b0, Tensor w0,
                          Tensor gy0) {
        try (Tape t = new Tape(be, true)) {
            Var a = gradA ? Var.parameter("a", a0, be.zeros(a0.shape())) : Var.constant(a0);
            Var b = gradB ? Var.parameter("b", b0, be.zeros(b0.shape())) : Var.constant(b0);
            Var w = Var.parameter("w", w0, be.zeros(w0.shape()));
            Var s = chain ? F.add(t, b, F.linear(t, a, w, null)) : b;
            Var y = fused ? F.addGelu(t, a, s) : F.gelu(t, F.add(t, a, s));
            float[] yv = be.download(y.value);
            Tensor g = be.empty(gy0.shape());
            be.copy(gy0, g);
            t.backward(y, g);
            return new float[][] {yv, gradA ? be.download(a.grad()) : null, gradB ? be.download(b.grad()) : null,
                    chain ? be.download(w.grad()) : null};
        }
    }

    @Test void fusedEqualsUnfused() {
        Random r = new Random(9);
        int n = 2, c = 3, h = 5, w = 7;
        Tensor a = rand(r, n, c, h, w), b = rand(r, n, c, h, w), wt = rand(r, c, c), gy = rand(r, n, c, h, w);
        String[] names = {"y", "da", "db", "dw"};
        for (boolean chain : new boolean[] {false, true})
            for (boolean[] need : new boolean[][] {{true, true}, {true, false}, {false, true}}) {
                String tag = " (chain " + chain + ", grad a " + need[0] + ", b " + need[1] + ")";
                float[][] f = run(true, chain, need[0], need[1], a, b, wt, gy), u = run(false, chain, need[0], need[1], a, b, wt, gy);
                for (int k = 0; k < f.length; k++) {
                    if (u[k] == null) { assertNull(f[k], names[k] + tag); continue; }
                    for (int i = 0; i < f[k].length; i++)
                        assertEquals(u[k][i], f[k][i], 1e-5f * Math.max(1f, Math.abs(u[k][i])), names[k] + "[" + i + "]" + tag);
                }
            }
    }

    @Test void inferenceKeepsOnlyTheOutput() {
        Random r = new Random(10);
        Tensor a = rand(r, 1, 2, 3, 4), b = rand(r, 1, 2, 3, 4);
        try (Tape t = new Tape(be, false)) {
            Var y = F.addGelu(t, Var.constant(a), Var.constant(b));
            assertEquals(1, t.mark(), "only the output is owned in inference");
            assertArrayEquals(new int[] {1, 2, 3, 4}, y.value.shape());
            assertFalse(y.requiresGrad);
        }
        try (Tape t = new Tape(be, true)) {   // recording, but no input needs a gradient: no pre either
            F.addGelu(t, Var.constant(a), Var.constant(b));
            assertEquals(1, t.mark(), "nothing saved when no gradient flows");
        }
    }
}
