package convunext.backend.cuda;

import convunext.backend.cuda.baseline.CudnnDwConv7;
import convunext.backend.cuda.baseline.ReflectPad3;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import convunext.backend.cpu.CpuBackend;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * cuDNN's grouped convolution as the depthwise 7×7 (the bench baseline, {@link CudnnDwConv7}):
 * without cuDNN it is refused with a one-line reason (here and in CI); where cuDNN loads (a GPU
 * with -Dconvunext.test.device=cuda) the pad + cuDNN + fold path matches the float64 oracle and
 * the CPU backend on odd sizes, the smallest legal plane and several tiles. Tolerance 1e-4
 * relative: cuDNN picks its own algorithms and summation orders.
 */
class CudnnDwConv7Test {
    static final double TOL = 1e-4;

    @Test void refusedOnTheEmulatorWithAReason() {
        Parity.requireEmulator();
        try (CudaBackend be = CudaBackend.open("emulated")) {
            CudnnDwConv7.Opened o = CudnnDwConv7.open(be);
            assertNull(o.conv());
            CublasGemmTest.oneLine(o.line());
            assertEquals("not available: the emulated device has no cuDNN (a GPU is needed)", o.line());
        }
    }

    @Test void matchesTheOracleAndTheCpuBackendWhereCudnnLoads() {
        try (Parity p = new Parity(57)) {
            CudnnDwConv7.Opened o = CudnnDwConv7.open(p.cuda);
            assumeTrue(o.conv() != null, () -> "cuDNN " + o.line() + " (run with -Dconvunext.test.device=cuda on a GPU)");
            try (CudnnDwConv7 dnn = o.conv()) {
                CpuBackend cpu = new CpuBackend();
                for (int[] s : new int[][]{{2, 5, 13, 17}, {2, 3, 4, 4}, {1, 2, 37, 35}, {3, 7, 9, 6}})
                    check(p, cpu, dnn, s[0], s[1], s[2], s[3]);
                assertTrue(dnn.algorithms().startsWith("algorithms fwd "), dnn.algorithms());
            }
        }
    }

    private static void check(Parity p, CpuBackend cpu, CudnnDwConv7 dnn, int n, int c, int h, int w) {
        String tag = "cuDNN dwconv7 " + n + "x" + c + "x" + h + "x" + w;
        float[] xs = p.gauss(n * c * h * w), ws = p.gauss(c * 49), bs = p.gauss(c, 1, 0.5), dys = p.gauss(n * c * h * w);
        Tensor[] x = p.up(xs, n, c, h, w), wt = p.up(ws, c, 1, 7, 7), b = p.up(bs, c), dy = p.up(dys, n, c, h, w);
        Tensor y = dnn.dwconv7(x[0], wt[0], b[0]);
        p.check(tag + " y", y, p.ref.dwconv7(x[1], wt[1], b[1]), TOL);
        Tensor[] g = dnn.dwconv7Backward(x[0], wt[0], dy[0]);
        Tensor[] gr = p.ref.dwconv7Backward(x[1], wt[1], dy[1]);
        String[] names = {"dx", "dw", "db"};
        for (int i = 0; i < 3; i++) p.check(tag + " " + names[i], g[i], gr[i], TOL);
        // The CPU backend (float32) on the same data.
        Tensor xc = cpu.upload(xs, n, c, h, w), wc = cpu.upload(ws, c, 1, 7, 7), bc = cpu.upload(bs, c), dyc = cpu.upload(dys, n, c, h, w);
        close(tag + " y vs cpu", p.cuda.download(y), cpu.download(cpu.dwconv7(xc, wc, bc)));
        Tensor[] gc = cpu.dwconv7Backward(xc, wc, dyc);
        for (int i = 0; i < 3; i++) close(tag + " " + names[i] + " vs cpu", p.cuda.download(g[i]), cpu.download(gc[i]));
        // The timed pieces compose to the same result: pad (ours), cuDNN forward, cuDNN backward, fold (ours).
        Tensor xp = dnn.reflectPad(x[0]);
        assertArrayEquals(new int[]{n, c, h + 6, w + 6}, xp.shape());
        // Close, not equal: some of cuDNN's backward algorithms accumulate with atomics.
        close(tag + " forward on the pad", p.cuda.download(dnn.forward(xp, wt[0], b[0])), p.cuda.download(y));
        Tensor[] parts = dnn.backward(xp, wt[0], dy[0]);
        close(tag + " fold of backward data", p.cuda.download(dnn.foldReflect(parts[0])), p.cuda.download(g[0]));
    }

    static void close(String what, float[] got, float[] want) {
        assertEquals(want.length, got.length, what);
        double d = 0, m = 0;
        for (int i = 0; i < want.length; i++) {
            d = Math.max(d, Math.abs((double) got[i] - want[i]));
            m = Math.max(m, Math.abs((double) want[i]));
        }
        assertTrue(m > 0, what + ": all zeros");
        assertTrue(d <= TOL * m, what + ": max diff " + d + " vs max " + m);
    }
}
