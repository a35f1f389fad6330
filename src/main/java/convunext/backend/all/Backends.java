package convunext.backend.all;

import convunext.backend.Backend;
import convunext.backend.cpu.CpuBackend;
import convunext.backend.cpu.ref.RefBackend;
import convunext.backend.cuda.CudaBackend;
import java.io.PrintStream;

/**
 * Opens a backend by name: {@code cpu} (fast float32), {@code ref} (the float64 oracle, slow),
 * {@code emulated} (our CUDA kernels on the emulated device), {@code cuda} (a real GPU), or
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

    public static Backend open(String name, PrintStream log) {
        switch (name.toLowerCase()) {
            case "cpu": return new CpuBackend();
            case "ref": return new RefBackend();
            case "emulated": case "cuda": return openCuda(name.toLowerCase());
            case "auto": {
                try {
                    Backend b = openCuda("cuda");
                    log.println("device: " + b.describe());
                    return b;
                } catch (Unavailable e) {
                    log.println("device: CUDA unavailable (" + e.getMessage() + "); using the CPU backend");
                    return open("cpu", log);
                }
            }
            default:
                throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu, ref, emulated, cuda or auto)");
        }
    }

    /** A missing driver, library or GPU surfaces as {@link Unavailable}, never as a crash. */
    private static Backend openCuda(String kind) {
        try {
            return CudaBackend.open(kind);
        } catch (RuntimeException | LinkageError e) {
            throw new Unavailable(kind + " backend cannot start: " + (e.getMessage() != null ? e.getMessage() : e), e);
        }
    }
}
