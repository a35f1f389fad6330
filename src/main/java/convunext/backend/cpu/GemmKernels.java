package convunext.backend.cpu;

/**
 * Picks the micro-kernel once: the Vector API one when the jdk.incubator.vector module is in the
 * boot layer (the JVM was started with --add-modules jdk.incubator.vector), else the scalar one.
 * The vector class is loaded by name so that nothing here links against the incubator module.
 */
final class GemmKernels {
    private GemmKernels() {}

    static final GemmKernel BEST = pick();

    static boolean vectorAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    private static GemmKernel pick() {
        if (Boolean.getBoolean("convunext.cpu.scalar") || !vectorAvailable()) return new ScalarGemmKernel();
        try {
            return (GemmKernel) Class.forName("convunext.backend.cpu.VectorGemmKernel")
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return new ScalarGemmKernel();
        }
    }
}
