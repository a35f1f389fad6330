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
     * "cuda" (a GPU through JCuda), "emulated" (the g++-compiled kernels on the CPU) or "auto"
     * (the GPU when one opens, else the emulator). Throws CudaError saying why it cannot open.
     */
    public static Device open(String kind) {
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

    /** One line per component: the GPU, the emulator, the PTX in the jar, cuBLAS, cuDNN. */
    public static String describe() {
        StringBuilder b = new StringBuilder();
        try (JCudaDevice d = JCudaDevice.open()) {
            b.append("cuda:     available: ").append(d.describe()).append('\n');
        } catch (CudaError e) {
            b.append("cuda:     unavailable: ").append(e.getMessage()).append('\n');
        } catch (RuntimeException | LinkageError e) {
            b.append("cuda:     unavailable: ").append(e).append('\n');
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
        b.append("cuBLAS:   ").append(library("jcuda.jcublas.JCublas2", "org.jcuda:jcublas")).append('\n');
        b.append("cuDNN:    ").append(library("jcuda.jcudnn.JCudnn", "org.jcuda:jcudnn")).append('\n');
        return b.toString();
    }

    /** Whether a JCuda library's classes are present and its natives load; never throws. */
    static String library(String className, String artifact) {
        Class<?> c;
        try {
            c = Class.forName(className, false, Devices.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return "not bundled (" + artifact + " is not a dependency)";
        }
        try {
            Class.forName(c.getName(), true, c.getClassLoader());  // its static initialiser loads the natives
            return "classes and natives load";
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return "classes present, natives do not load: " + e;
        }
    }
}
