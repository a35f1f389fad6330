package convunext.backend.all;

import convunext.backend.Backend;
import convunext.backend.Precision;
import convunext.backend.cpu.CpuBackend;
import convunext.backend.cpu.ref.RefBackend;
import convunext.backend.cuda.CudaBackend;
import java.io.PrintStream;

/**
 * Opens a backend by name: {@code cpu} (fast float32), {@code ref} (the float64 oracle, slow),
 * {@code emulated} (our CUDA kernels on the emulated device), {@code cuda} (a real GPU: GPU 0, or
 * GPU N as {@code cuda:N}), or
 * {@code auto} (cuda when a GPU and driver work, else cpu, saying why on {@code log}). The one
 * class that knows every backend, in a package of its own so that the backends' common package
 * ({@code convunext.backend}) depends on none of them.
 */
public final class Backends {
    private Backends() {}

    /** The requested backend cannot run here (no GPU, no driver, not built); the message says why. */
    public static final class Unavailable extends IllegalStateException {
        public Unavailable(String m, Throwable cause) { super(m, cause); }
    }

    public static Backend open(String name, PrintStream log) { return open(name, Precision.FP32, log); }

    /**
     * The backend {@code name} computing its matrix products in {@code precision}; TF32 and bf16
     * need the CUDA backend (cuda or emulated): asking a CPU backend for them, also through auto
     * without a GPU, is an IllegalArgumentException saying so.
     */
    public static Backend open(String name, Precision precision, PrintStream log) {
        String n = name.toLowerCase();
        if (precision != Precision.FP32 && (n.equals("cpu") || n.equals("ref")))
            throw new IllegalArgumentException("--precision " + precision + " needs the CUDA backend (--device cuda or "
                    + "emulated); the " + n + " backend computes in " + (n.equals("ref") ? "float64" : "fp32"));
        if (convunext.backend.cuda.Devices.cudaOrdinal(n) >= 0) return openCuda(n, precision);
        switch (n) {
            case "cpu": return new CpuBackend();
            case "ref": return new RefBackend();
            case "emulated": case "cuda": return openCuda(n, precision);
            case "auto": {
                try {
                    Backend b = openCuda("cuda", precision);
                    log.println("device: " + b.describe());
                    return b;
                } catch (Unavailable e) {
                    if (precision != Precision.FP32)
                        throw new Unavailable("--precision " + precision + " needs a CUDA device: " + e.getMessage(), e);
                    log.println("device: CUDA unavailable (" + e.getMessage() + "); using the CPU backend");
                    return open("cpu", log);
                }
            }
            default:
                throw unknown(name);
        }
    }

    /** Refuses, as {@link #open} would, a device name that is none of the known ones; opens nothing. */
    public static void checkName(String name) {
        String n = name.toLowerCase();
        if (convunext.backend.cuda.Devices.cudaOrdinal(n) < 0 && !java.util.List.of("cpu", "ref", "emulated", "cuda", "auto").contains(n))
            throw unknown(name);
    }

    private static IllegalArgumentException unknown(String name) {
        return new IllegalArgumentException("unknown device '" + name + "' (expected cpu, ref, emulated, cuda, cuda:N or auto)");
    }

    /** A missing driver, library or GPU surfaces as {@link Unavailable}, never as a crash. */
    private static Backend openCuda(String kind, Precision precision) {
        try {
            return CudaBackend.open(kind, precision);
        } catch (RuntimeException | LinkageError e) {
            throw new Unavailable(kind + " backend cannot start: " + (e.getMessage() != null ? e.getMessage() : e), e);
        }
    }
}
