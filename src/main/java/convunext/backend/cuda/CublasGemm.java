package convunext.backend.cuda;

import static jcuda.jcublas.JCublas2.*;

import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;

/**
 * cuBLAS (through JCublas2) for the GEMMs of linear and 1x1 convolutions, an optional
 * accelerator next to gemm.cu: only on a real {@link JCudaDevice}, in its context (made current
 * before every call) and on the default stream, like our launches. The row-major → column-major
 * argument mapping is {@link SgemmCall}. {@link #open} probes it once (load the natives, create a
 * handle, run a small GEMM and check it) and never throws: any failure means "not used" with a
 * one-line reason. Disabled by {@code CONVUNEXT_CUBLAS=0} or {@code -Dconvunext.cublas=false}.
 */
public final class CublasGemm implements AutoCloseable {
    private static final Pointer ONE = Pointer.to(new float[] {1f});
    private static final Pointer ZERO = Pointer.to(new float[] {0f});

    /** {@code gemm} when cuBLAS is usable (else null) and the line {@code convunext info} prints. */
    public record Probe(CublasGemm gemm, String line) {}

    private static volatile String linkFailure;

    private final JCudaDevice device;
    private final cublasHandle handle;
    private final String version;
    private boolean closed;

    private CublasGemm(JCudaDevice device, cublasHandle handle, String version) {
        this.device = device;
        this.handle = handle;
        this.version = version;
    }

    /** Why cuBLAS is switched off by the user, or null. */
    static String disabledBy() {
        if ("0".equals(System.getenv("CONVUNEXT_CUBLAS"))) return "CONVUNEXT_CUBLAS=0";
        if ("false".equalsIgnoreCase(System.getProperty("convunext.cublas", "true"))) return "-Dconvunext.cublas=false";
        return null;
    }

    /** cuBLAS for {@code device} if it works there, else the reason; never throws. */
    public static Probe open(Device device) {
        String off = disabledBy();
        if (off != null) return new Probe(null, "not used: disabled by " + off);
        if (!(device instanceof JCudaDevice)) return new Probe(null, "not used: the " + device.kind() + " device has no cuBLAS (a GPU is needed)");
        JCudaDevice d = (JCudaDevice) device;
        JCudaNatives.prepare(JCudaNatives.CUBLAS);   // before JCublas2 loads its library
        cublasHandle h = null;
        try {
            d.makeCurrent("cublasCreate");
            setExceptionsEnabled(true);
            cublasHandle created = new cublasHandle();
            check("cublasCreate", cublasCreate(created));
            h = created;
            int[] v = {0};
            check("cublasGetVersion", cublasGetVersion(h, v));
            // Plain FP32 (no TF32 tensor cores): the parity tests compare at 1e-5.
            check("cublasSetMathMode", cublasSetMathMode(h, cublasMath.CUBLAS_DEFAULT_MATH));
            CublasGemm g = new CublasGemm(d, h, v[0] / 10000 + "." + v[0] % 10000 / 100 + "." + v[0] % 100);
            g.selfCheck();
            return new Probe(g, "used for linear (version " + g.version + ")");
        } catch (RuntimeException e) {  // CudaError, CudaException (a failing cuBLAS call)
            destroyQuietly(h);
            return new Probe(null, "not used: " + JCudaDevice.shortReason(e));
        } catch (LinkageError e) {  // no libcublas.so.12 (UnsatisfiedLinkError), or no jcublas classes
            // Only the first attempt says why; later ones get "Could not initialize class".
            if (linkFailure == null) linkFailure = JCudaDevice.shortReason(e);
            return new Probe(null, "not used: JCublas cannot load (" + linkFailure + ")");
        }
    }

    private static void destroyQuietly(cublasHandle h) {
        if (h == null) return;
        try {
            cublasDestroy(h);
        } catch (RuntimeException | LinkageError ignored) {
            // the probe's reason is what matters
        }
    }

    public String version() { return version; }

    /** y[i] (M×P) = w (M×K) · x[i] (K×P), i < N (no bias: the caller adds it). */
    public void forward(long w, long x, long y, int n, int m, int k, int p) {
        run("cuBLAS linear forward", SgemmCall.forward(n, m, k, p), Map.of("w", w, "x", x), y);
    }

    /** dx[i] (Ci×P) = wᵀ · dy[i], w [Co×Ci]. */
    public void backwardData(long w, long dy, long dx, int n, int ci, int co, int p) {
        run("cuBLAS linear backward data", SgemmCall.backwardData(n, ci, co, p), Map.of("w", w, "dy", dy), dx);
    }

    /** dw (Co×Ci) = Σ_i dy[i] (Co×P) · x[i]ᵀ. */
    public void backwardWeight(long dy, long x, long dw, int n, int co, int ci, int p) {
        run("cuBLAS linear backward weight", SgemmCall.backwardWeight(n, co, ci, p), Map.of("dy", dy, "x", x), dw);
    }

    private void run(String what, SgemmCall c, Map<String, Long> operands, long out) {
        if (closed) throw new CudaError(what + ": cuBLAS handle is closed");
        if (!c.valid()) throw new CudaError(what + ": invalid arguments " + c);
        long outFloats = (long) c.m() * c.n() * (c.accumulate() ? 1 : c.batch());
        if (outFloats == 0) return;
        if (c.k() == 0 || c.batch() == 0) {  // an empty sum: zeros, without relying on cuBLAS's k = 0 rules
            device.memsetZero(out, 4L * outFloats);
            return;
        }
        device.makeCurrent(what);
        long a = operands.get(c.a()), b = operands.get(c.b());
        int ta = c.transA() ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int tb = c.transB() ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        try {
            if (c.accumulate()) {
                for (int i = 0; i < c.batch(); i++)
                    check(what + " cublasSgemm " + c, cublasSgemm(handle, ta, tb, c.m(), c.n(), c.k(), ONE,
                            at(a + 4 * i * c.strideA()), c.lda(), at(b + 4 * i * c.strideB()), c.ldb(),
                            i == 0 ? ZERO : ONE, at(out), c.ldc()));
            } else {
                check(what + " cublasSgemmStridedBatched " + c, cublasSgemmStridedBatched(handle, ta, tb, c.m(), c.n(),
                        c.k(), ONE, at(a), c.lda(), c.strideA(), at(b), c.ldb(), c.strideB(), ZERO, at(out), c.ldc(),
                        c.strideC(), c.batch()));
            }
        } catch (CudaException e) {
            throw new CudaError(what + " " + c + ": " + e.getMessage(), e);
        }
    }

    /**
     * A small forward GEMM at the probe, checked on the host: proves that cuBLAS works in our
     * context with our raw device pointers before any training step depends on it.
     */
    private void selfCheck() {
        int n = 2, m = 3, k = 5, p = 7;
        float[] w = new float[m * k], x = new float[n * k * p], y = new float[n * m * p];
        for (int i = 0; i < w.length; i++) w[i] = (i % 7 - 3) * 0.25f;
        for (int i = 0; i < x.length; i++) x[i] = (i % 5 - 2) * 0.5f + 0.125f;
        long dw = device.malloc(4L * w.length), dx = device.malloc(4L * x.length), dy = device.malloc(4L * y.length);
        try {
            device.copyHtoD(dw, w, 0, w.length);
            device.copyHtoD(dx, x, 0, x.length);
            forward(dw, dx, dy, n, m, k, p);
            device.synchronize();
            device.copyDtoH(y, 0, dy, y.length);
        } finally {
            device.free(dw);
            device.free(dx);
            device.free(dy);
        }
        for (int i = 0; i < n; i++)
            for (int r = 0; r < m; r++)
                for (int q = 0; q < p; q++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) s += (double) w[r * k + l] * x[(i * k + l) * p + q];
                    float got = y[(i * m + r) * p + q];
                    if (!(Math.abs(got - s) <= 1e-4 * (1 + Math.abs(s))))
                        throw new CudaError("cuBLAS self-check: y[" + i + "," + r + "," + q + "] = " + got + ", expected " + s);
                }
    }

    private static CUdeviceptr at(long address) { return new CUdeviceptr().withByteOffset(address); }

    private static void check(String what, int status) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) throw new CudaError(what + ": " + cublasStatus.stringFor(status));
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent("cublasDestroy");
        check("cublasDestroy", cublasDestroy(handle));
    }
}
