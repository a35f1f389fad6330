package convunext.backend.cuda;

import java.util.Locale;

/**
 * Opens the device under the CUDA backend by name and summarises what this machine offers
 * (for {@code convunext info}). Probing never crashes the JVM: a missing driver or native
 * library is reported as a reason string.
 */
public final class Devices {
    private Devices() {}

    /**
     * "cuda" (GPU 0 through JCuda), "cuda:N" (GPU N), "emulated" (the g++-compiled kernels on
     * the CPU) or "auto" (the GPU when one opens, else the emulator). Throws CudaError saying why it cannot open.
     */
    public static Device open(String kind) {
        int ordinal = cudaOrdinal(kind);
        if (ordinal >= 0) return JCudaDevice.open(ordinal);
        switch (kind.toLowerCase(Locale.ROOT)) {
            case "cuda": return JCudaDevice.open();
            case "emulated": return EmulatedDevice.open();
            case "auto":
                String cuda;
                try {
                    return JCudaDevice.open();
                } catch (CudaError e) {
                    cuda = e.getMessage();
                }
                try {
                    return EmulatedDevice.open();
                } catch (CudaError e) {
                    throw new CudaError("no device: " + cuda + "; " + e.getMessage());
                }
            default: throw new IllegalArgumentException("device kind '" + kind + "': expected cuda, emulated or auto");
        }
    }

    /**
     * N for "cuda:N" (GPU N in CUDA's numbering, e.g. the address Spark's GPU scheduling hands a
     * task), -1 for any name without "cuda:"; IllegalArgumentException when N is not an ordinal.
     */
    public static int cudaOrdinal(String kind) {
        String k = kind.toLowerCase(Locale.ROOT);
        if (!k.startsWith("cuda:")) return -1;
        String n = k.substring(5);
        if (!n.matches("[0-9]{1,4}"))
            throw new IllegalArgumentException("device '" + kind + "': expected cuda:N with N a GPU ordinal (0, 1, …)");
        return Integer.parseInt(n);
    }

    /** One line per component: the GPU, the emulator, the PTX in the jar, cuBLAS, cuDNN. */
    public static String describe() {
        StringBuilder b = new StringBuilder();
        String accel;
        try (JCudaDevice d = JCudaDevice.open()) {
            b.append("cuda:     available: ").append(d.describe()).append('\n');
            accel = accelerators(d);
        } catch (CudaError e) {
            b.append("cuda:     unavailable: ").append(e.getMessage()).append('\n');
            accel = accelerators(null);
        } catch (RuntimeException | LinkageError e) {
            b.append("cuda:     unavailable: ").append(e).append('\n');
            accel = accelerators(null);
        }
        String emu = EmulatedDevice.probe();
        if (emu == null) {
            try (EmulatedDevice d = EmulatedDevice.open()) {
                b.append("emulated: available: ").append(d.describe()).append('\n');
            }
        } else {
            b.append("emulated: unavailable: ").append(emu).append('\n');
        }
        int ptx = JCudaDevice.readIndex().size();
        b.append("ptx:      ").append(ptx == 0 ? "none in the jar (built without nvcc)" : ptx + " kernels").append('\n');
        return b.append(accel).toString();
    }

    /**
     * The cuBLAS and cuDNN lines (for {@code convunext info}), probed on a freshly opened GPU;
     * "no CUDA device" when none opens. Never throws.
     */
    public static String accelerators() {
        try (JCudaDevice d = JCudaDevice.open()) {
            return accelerators(d);
        } catch (RuntimeException | LinkageError e) {
            return accelerators(null);
        }
    }

    private static String accelerators(JCudaDevice d) {
        String cublas, cudnn;
        if (d == null) {
            cublas = "not used: no CUDA device (see the cuda line)";
            cudnn = "not available: no CUDA device (see the cuda line)";
        } else {
            CublasGemm.Probe p = CublasGemm.open(d);
            cublas = p.line();
            if (p.gemm() != null) {
                try {
                    p.gemm().close();
                } catch (RuntimeException e) {
                    cublas += "; closing the probe's handle failed: " + JCudaDevice.shortReason(e);
                }
            }
            cudnn = CudnnProbe.probe(d);
        }
        return "cuBLAS:   " + cublas + "\ncuDNN:    " + cudnn + "\n";
    }
}
