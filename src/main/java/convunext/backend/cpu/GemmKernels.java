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
            String name = "convunext.backend.cpu.VectorGemmKernel";
            GemmKernel wide = (GemmKernel) Class.forName(name).getDeclaredConstructor().newInstance();
            // -Dconvunext.cpu.gemmRows=4|6|8 picks the tile for an A/B; all give the same bits.
            int rows = Integer.getInteger("convunext.cpu.gemmRows", sixteenRegisters(wide.dotLanes() * Float.SIZE) ? 6 : 8);
            return rows == 4 || rows == 6 ? (GemmKernel) Class.forName(name + rows).getDeclaredConstructor().newInstance() : wide;
        } catch (ReflectiveOperationException | LinkageError e) {
            return new ScalarGemmKernel();
        }
    }

    /**
     * Whether the vector register file has 16 registers: x86-64 whose preferred vectors are at most
     * 256 bits wide (AVX2, or AVX-512 turned off). AVX-512 has 32, as have AArch64's NEON and SVE.
     */
    static boolean sixteenRegisters(int vectorBits) {
        String arch = System.getProperty("os.arch", "");
        return (arch.equals("amd64") || arch.equals("x86_64")) && vectorBits <= 256;
    }
}
