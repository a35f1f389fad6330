package convunext.bench;

import convunext.backend.Backend;
import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.baseline.CudnnDwConv7;
import convunext.backend.cuda.ops.LinearOps;
import convunext.tensor.Tensor;
import java.util.function.Supplier;

/**
 * The baseline column of `bench --layers`: the same op through a vendor library, on the row's
 * inputs, timed by {@link Timing} right after the row (at least one warm-up call: cuDNN picks its
 * algorithms on the first call of a shape).
 * <ul>
 * <li>dwconv7 fwd / bwd: cuDNN's grouped convolution ({@link CudnnDwConv7}). cuDNN has no reflect
 *     padding: the pad (fwd) and the reflect-adjoint fold (bwd) run our kernels, are left out of
 *     the baseline's time and timed on their own ({@link Baseline#extraMs}, shown in the note).
 * <li>linear fwd / bwd: cuBLAS, where the CUDA backend has it. The backend then runs linear
 *     through cuBLAS itself, so these rows time our gemm.cu ({@link LinearOps} without cuBLAS) and
 *     the baseline is the backend's linear: a row is always ours, a baseline always the library.
 * </ul>
 * Elsewhere (the CPU, the emulated device, a GPU without the libraries) nothing runs and
 * {@link #status} says why in one line. A library that fails mid-run is switched off with its
 * reason and the bench goes on.
 */
final class Baselines implements AutoCloseable {
    private final Backend be;
    private final CudaBackend cuda;   // null off the CUDA backend
    private final LinearOps ourGemm;    // gemm.cu alone, only where the backend's linear is cuBLAS
    private final String cublasLine;
    private CudnnDwConv7 cudnn;
    private String cudnnLine;         // "cuDNN 9.1.0" or "cuDNN not available: …" / "cuDNN failed at …"
    private String cudnnAlgos = "";
    private boolean ran;

    private Baselines(Backend be, CudaBackend cuda, CudnnDwConv7 cudnn, String cudnnLine, LinearOps ourGemm, String cublasLine) {
        this.be = be;
        this.cuda = cuda;
        this.cudnn = cudnn;
        this.cudnnLine = cudnnLine;
        this.ourGemm = ourGemm;
        this.cublasLine = cublasLine;
    }

    /** The libraries usable on {@code be}; never throws for a missing library. */
    static Baselines open(Backend be) {
        if (!(be instanceof CudaBackend cb))
            return new Baselines(be, null, null, "cuDNN and cuBLAS need the cuda backend on a GPU (this is " + be.name() + ")",
                    null, null);
        CudnnDwConv7.Opened o = CudnnDwConv7.open(cb);
        String dnn = o.conv() != null ? o.line() : "cuDNN " + o.line();
        String blas;
        LinearOps ours = null;
        if (cb.cublas() != null) {
            ours = new LinearOps(cb.launcher(), null);
            blas = "cuBLAS " + cb.cublas().version() + " for linear (the backend's own linear here, so those rows time gemm.cu)";
        } else {
            blas = "cuBLAS " + cb.cublasLine();
        }
        return new Baselines(be, cb, o.conv(), dnn, ours, blas);
    }

    /** Whether any library is usable (the table gets the baseline columns). */
    boolean any() { return cudnn != null || ourGemm != null; }

    /**
     * One line: which library ran for which rows and how, or "none ran: " and why (the probes'
     * reasons, e.g. "cuDNN not available: …").
     */
    String status() {
        if (cuda == null) return "none ran: " + cudnnLine;
        String dnn = cudnnLine.startsWith("cuDNN not") || cudnnLine.startsWith("cuDNN failed") ? cudnnLine
                : cudnnLine + " grouped convolution (groups = C, FMA math" + (cudnnAlgos.isEmpty() ? "" : ", " + cudnnAlgos)
                        + ") for dwconv7; its times exclude the reflect pad / fold, which run our conv2d.cu and are timed apart";
        return (ran ? "ours/base = our median / the library's (below 1: ours is faster); " : "none ran: ") + dnn + "; "
                + cublasLine;
    }

    // ------------------------------------------------------------------ rows' own ops

    /** Our linear: gemm.cu, also where the backend's linear is cuBLAS. */
    Tensor linear(Tensor x, Tensor w, Tensor b) { return ourGemm != null ? ourGemm.linear(x, w, b) : be.linear(x, w, b); }

    Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy) {
        return ourGemm != null ? ourGemm.linearBackward(x, w, dy, true, true) : be.linearBackward(x, w, dy, true, true);
    }

    // ------------------------------------------------------------------ baselines

    Baseline linear(Tensor x, Tensor w, Tensor b, int warm, int reps) {
        if (ourGemm == null) return null;
        return library("cuBLAS " + cuda.cublas().version(), "GEMM + our bias kernel (the backend's linear)", warm, reps,
                () -> be.linear(x, w, b));
    }

    Baseline linearBackward(Tensor x, Tensor w, Tensor dy, int warm, int reps) {
        if (ourGemm == null) return null;
        return library("cuBLAS " + cuda.cublas().version(), "2 GEMMs + our bias-grad kernel (the backend's)", warm, reps,
                () -> be.linearBackward(x, w, dy, true, true));
    }

    private Baseline library(String name, String note, int warm, int reps, Supplier<?> op) {
        double[] ms = Timing.run(be, Math.max(1, warm), reps, op);
        ran = true;
        return new Baseline(name, Timing.median(ms), ms[0], Double.NaN, note);
    }

    /** cuDNN conv + bias add on reflectPad(x); the pad (ours) is timed apart. */
    Baseline dwconv7(Tensor x, Tensor w, Tensor b, int warm, int reps) {
        if (cudnn == null) return null;
        Tensor xp = null;
        try {
            int wu = Math.max(1, warm);
            double pad = Timing.median(Timing.run(be, wu, reps, () -> cudnn.reflectPad(x)));
            xp = cudnn.reflectPad(x);
            Tensor p = xp;
            double[] ms = Timing.run(be, wu, reps, () -> cudnn.forward(p, w, b));
            ran = true;
            return new Baseline(cudnnLine, Timing.median(ms), ms[0], pad,
                    String.format("conv + bias add; excl. reflect pad %.3f ms (ours)", pad));
        } catch (RuntimeException | LinkageError e) {
            fail("dwconv7 fwd", e);
            return null;
        } finally {
            releaseQuietly(xp);
        }
    }

    /** cuDNN backward data + filter + bias on the padded input; the fold of dx (ours) is timed apart. */
    Baseline dwconv7Backward(Tensor x, Tensor w, Tensor dy, int warm, int reps) {
        if (cudnn == null) return null;
        Tensor xp = null;
        Tensor[] g = null;
        try {
            int wu = Math.max(1, warm);
            xp = cudnn.reflectPad(x);   // kept from the forward in training: not part of the backward
            Tensor p = xp;
            double[] ms = Timing.run(be, wu, reps, () -> cudnn.backward(p, w, dy));
            g = cudnn.backward(p, w, dy);
            Tensor dxp = g[0];
            double fold = Timing.median(Timing.run(be, wu, reps, () -> cudnn.foldReflect(dxp)));
            ran = true;
            cudnnAlgos = cudnn.algorithms();
            return new Baseline(cudnnLine, Timing.median(ms), ms[0], fold,
                    String.format("data + filter + bias; excl. reflect fold %.3f ms (ours)", fold));
        } catch (RuntimeException | LinkageError e) {
            fail("dwconv7 bwd", e);
            return null;
        } finally {
            releaseQuietly(xp);
            if (g != null) for (Tensor t : g) releaseQuietly(t);
        }
    }

    private void fail(String row, Throwable e) {
        String m = String.valueOf(e.getMessage()).split("\n")[0];
        cudnnLine = "cuDNN failed at " + row + " (switched off): " + e.getClass().getSimpleName() + ": " + m;
        try {
            cudnn.close();
        } catch (RuntimeException | LinkageError ignored) {
            // already failing; the reason above is what the report shows
        }
        cudnn = null;
    }

    private void releaseQuietly(Tensor t) {
        if (t == null) return;
        try {
            be.release(t);
        } catch (RuntimeException ignored) {
            // a failed library call may leave its outputs released already
        }
    }

    /** Before the backend closes (the workspace goes back to its pool). */
    @Override public void close() {
        if (cudnn != null) cudnn.close();
        cudnn = null;
    }
}
