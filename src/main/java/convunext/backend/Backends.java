package convunext.backend;

import java.io.PrintStream;

/**
 * Opens a backend by name: {@code cpu} (fast float32), {@code ref} (the float64 oracle, slow),
 * {@code emulated} (our CUDA kernels on the emulated device), {@code cuda} (a real GPU), or
 * {@code auto} (cuda when a GPU and driver work, else cpu, saying why on {@code log}).
 * Backends are looked up by class name so that a build without one still runs the others.
 */
public final class Backends {
    private Backends() {}

    /** The requested backend cannot run here (no GPU, no driver, not built); the message says why. */
    public static final class Unavailable extends IllegalStateException {
        public Unavailable(String m, Throwable cause) { super(m, cause); }
    }

    public static Backend open(String name, PrintStream log) {
        switch (name.toLowerCase()) {
            case "cpu": return instantiate("convunext.backend.cpu.CpuBackend", "cpu");
            case "ref": return instantiate("convunext.backend.cpu.ref.RefBackend", "ref");
            case "emulated": case "cuda": return openCuda(name.toLowerCase());
            case "auto": {
                try {
                    Backend b = openCuda("cuda");
                    log.println("device: " + b.describe());
                    return b;
                } catch (RuntimeException | LinkageError e) {
                    log.println("device: CUDA unavailable (" + e.getMessage() + "); using the CPU backend");
                    return open("cpu", log);
                }
            }
            default:
                throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu, ref, emulated, cuda or auto)");
        }
    }

    private static Backend openCuda(String kind) {
        try {
            Class<?> c = Class.forName("convunext.backend.cuda.CudaBackend");
            return (Backend) c.getMethod("open", String.class).invoke(null, kind);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw new Unavailable(kind + " backend cannot start: " + (cause.getMessage() != null ? cause.getMessage() : cause), cause);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new Unavailable(kind + " backend is not part of this build (" + e + ")", e);
        }
    }

    private static Backend instantiate(String cls, String name) {
        try {
            return (Backend) Class.forName(cls).getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new Unavailable(name + " backend is not part of this build (" + e + ")", e);
        }
    }
}
