package convunext.cli;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Java, CPU, GPU and driver; which backends and kernel paths load, and why not.")
final class InfoCommand implements Callable<Integer> {
    @Override public Integer call() {
        Runtime rt = Runtime.getRuntime();
        System.out.printf("java      %s (%s), max heap %d MiB%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), rt.maxMemory() >> 20);
        System.out.printf("cpu       %s %s, %d threads%n", System.getProperty("os.name"), System.getProperty("os.arch"),
                rt.availableProcessors());
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        System.out.println("vector    jdk.incubator.vector " + (vector ? "present (SIMD GEMM)"
                : "absent (scalar GEMM; run java with --add-modules jdk.incubator.vector)"));
        boolean jit = Relaunch.VECTOR_JIT_FLAGS.stream().allMatch(f -> Relaunch.vmOptionHas(f.substring(4)));
        System.out.println("jit       " + String.join(" ", Relaunch.VECTOR_JIT_FLAGS) + (jit ? " in effect"
                : " not in effect (a JVM may then box the vector kernels' values now and then: pass them to java)"));
        String thp = Relaunch.thpMode();
        boolean huge = Relaunch.vmOptionHas("+UseTransparentHugePages");
        System.out.println("pages     heap on transparent huge pages: " + (huge ? "yes" : "no") + " (kernel mode "
                + (thp.isEmpty() ? "unknown" : thp) + (thp.equals("madvise") && !huge ? "; pass -XX:+UseTransparentHugePages to java" : "") + ")");
        for (String name : new String[] {"cpu", "emulated", "cuda"}) {
            try (Backend b = Backends.open(name, System.out)) {
                System.out.printf("%-9s %s%n", name, b.describe());
            } catch (RuntimeException | LinkageError e) {
                System.out.printf("%-9s unavailable: %s%n", name, e.getMessage());
            }
        }
        // Optional accelerators on the GPU: cuBLAS (linear) and cuDNN (a bench baseline).
        System.out.print(convunext.backend.cuda.Devices.accelerators());
        return Main.OK;
    }
}
