package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import convunext.backend.cpu.ref.RefBackend;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The optional accelerators: the probes give one-line reasons and never throw where there is no
 * GPU (or no cuBLAS/cuDNN); the bias kernel the cuBLAS path relies on (on the emulator); and, only
 * where a GPU with a working cuBLAS exists, the cuBLAS linear against the float64 oracle.
 */
class CublasGemmTest {

    static void oneLine(String s) {
        assertNotNull(s);
        assertFalse(s.isBlank() || s.contains("\n"), "not a one-line reason: " + s);
    }

    @Test void probesOnTheEmulatorGiveReasons() {
        Parity.requireEmulator();
        try (EmulatedDevice d = EmulatedDevice.open()) {
            CublasGemm.Probe p = CublasGemm.open(d);
            assertNull(p.gemm());
            oneLine(p.line());
            assertTrue(p.line().startsWith("not used: "), p.line());
            String dnn = CudnnProbe.probe(d);
            oneLine(dnn);
            assertTrue(dnn.startsWith("not available: "), dnn);
        }
    }

    @Test void acceleratorLinesNeverThrow() {
        String s = Devices.accelerators();
        String[] lines = s.split("\n");
        assertEquals(2, lines.length, s);
        assertTrue(lines[0].startsWith("cuBLAS:   used for linear (version ") || lines[0].startsWith("cuBLAS:   not used: "), s);
        assertTrue(lines[1].startsWith("cuDNN:    available as a bench baseline (version ")
                || lines[1].startsWith("cuDNN:    not available: "), s);
        if (JCudaDevice.probe() != null) assertTrue(lines[0].contains("no CUDA device"), s);
    }

    @Test void systemPropertyDisablesCublas() {
        Parity.requireEmulator();
        String old = System.getProperty("convunext.cublas");
        System.setProperty("convunext.cublas", "false");
        try (EmulatedDevice d = EmulatedDevice.open()) {
            assertEquals("not used: disabled by -Dconvunext.cublas=false", CublasGemm.open(d).line());
        } finally {
            if (old == null) System.clearProperty("convunext.cublas");
            else System.setProperty("convunext.cublas", old);
        }
    }

    @Test void cudnnVersionEncodings() {
        assertEquals("9.1.0", CudnnProbe.version(90100));
        assertEquals("9.10.2", CudnnProbe.version(91002));
        assertEquals("8.9.7", CudnnProbe.version(8907));
    }

    /** elementwise.cu's bias_add_channels on the emulator: y[n,c,p] += b[c]. */
    @Test void biasAddChannelsKernel() {
        Random r = new Random(77);
        int n = 3, c = 5, p = 37;
        float[] y = new float[n * c * p], b = new float[c];
        for (int i = 0; i < y.length; i++) y[i] = (float) r.nextGaussian();
        for (int i = 0; i < c; i++) b[i] = (float) r.nextGaussian() + 2f;
        Parity.requireEmulator();
        try (EmulatedDevice d = EmulatedDevice.open()) {
            long dy = d.malloc(4L * y.length), db = d.malloc(4L * c);
            d.copyHtoD(dy, y, 0, y.length);
            d.copyHtoD(db, b, 0, c);
            d.launch("bias_add_channels", new int[] {2}, new int[] {64}, 0,
                    new KernelArgs().ptr(dy).ptr(db).i32(c).i32(p).i64(y.length));
            float[] got = new float[y.length];
            d.copyDtoH(got, 0, dy, got.length);
            for (int i = 0; i < y.length; i++)
                assertEquals(y[i] + b[(i / p) % c], got[i], 1e-6f, "element " + i);
            d.free(dy);
            d.free(db);
        }
    }

    /** On a GPU whose cuBLAS loads: linear and its gradients through cuBLAS vs the oracle. */
    @Test void cublasLinearMatchesTheOracle() {
        String why = JCudaDevice.probe();
        assumeTrue(why == null, () -> "no GPU: " + why);
        try (CudaBackend be = new CudaBackend(JCudaDevice.open())) {
            assumeTrue(be.cublas() != null, () -> "no cuBLAS: " + be.describe());
            RefBackend ref = new RefBackend();
            Random r = new Random(3);
            int n = 2, ci = 37, co = 70, h = 9, w = 11;
            float[] x = gauss(r, n * ci * h * w), wt = gauss(r, co * ci), b = gauss(r, co), dy = gauss(r, n * co * h * w);
            Tensor y = be.linear(be.upload(x, n, ci, h, w), be.upload(wt, co, ci), be.upload(b, co));
            Tensor yr = ref.linear(ref.upload(x, n, ci, h, w), ref.upload(wt, co, ci), ref.upload(b, co));
            close("y", be.download(y), ref.download(yr));
            Tensor[] g = be.linearBackward(be.upload(x, n, ci, h, w), be.upload(wt, co, ci), be.upload(dy, n, co, h, w), true, true);
            Tensor[] gr = ref.linearBackward(ref.upload(x, n, ci, h, w), ref.upload(wt, co, ci), ref.upload(dy, n, co, h, w), true, true);
            for (int i = 0; i < 3; i++) close("grad " + i, be.download(g[i]), ref.download(gr[i]));
        }
    }

    static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static void close(String what, float[] got, float[] want) {
        double d = 0, m = 0;
        for (int i = 0; i < want.length; i++) {
            d = Math.max(d, Math.abs(got[i] - want[i]));
            m = Math.max(m, Math.abs(want[i]));
        }
        assertTrue(d <= 1e-5 * m, what + ": max diff " + d + " vs max " + m);
    }
}
