package convunext.backend;

import static org.junit.jupiter.api.Assertions.*;

import convunext.bench.OpCost;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The op registry ({@link Op}) and the tree agree: every piece an op lists exists, every op piece
 * in the tree belongs to exactly one op, names follow the stem, and README's ops table is current.
 */
class OpLayoutTest {

    /** Classes and files next to the ops that belong to no single op, each with why. */
    private static final Map<String, String> HELPERS = Map.ofEntries(
            Map.entry("MemoryOps", "Backend's fill and copy on the device (memory, not an op)"),
            Map.entry("CpuBackend", "the backend itself"),
            Map.entry("CpuArrayPool", "the CPU backend's array cache"),
            Map.entry("CpuThreads", "the CPU backend's worker pool"),
            Map.entry("CpuGemm", "the packed GEMM under CpuLinear, CpuLinearGelu and CpuConv2d"),
            Map.entry("CpuReduce", "double sums used by several ops"),
            Map.entry("CpuScratch", "per-thread growable scratch buffers of several ops"),
            Map.entry("CpuConvS2D", "CpuConv2d's 2×2 stride-2 path (no column matrix)"),
            Map.entry("CpuLinearBwd", "CpuLinear's one-pass backward at levels 0–1"),
            Map.entry("CpuGateBwd", "the Up chain's backward in one pass at levels 0–1 (Backend#gateChainCatBackward)"),
            Map.entry("CpuLinearNarrow", "CpuLinear's forward for at most 4 outputs (the last 1×1 convolution)"),
            Map.entry("CpuEmptyShapes", "CpuConv2d's, CpuLinear's and CpuMlp's results where an extent is 0"),
            Map.entry("RefBackend", "the float64 oracle as a Backend"),
            Map.entry("selftest.cu", "device-layer self-test kernels, no op"),
            Map.entry("selftest.cpp", "the emulator's own checks (kernels/checks)"),
            Map.entry("wmma.cpp", "the emulator's tensor-core checks (kernels/checks)"));

    private static Path root() { return Path.of("").toAbsolutePath(); }

    @Test void everyListedFileExists() {
        List<String> missing = new ArrayList<>();
        for (Op o : Op.values())
            for (String f : o.files()) if (!Files.isRegularFile(root().resolve(f))) missing.add(o.stem() + ": " + f);
        for (String f : Op.SHARED_FILES) if (!Files.isRegularFile(root().resolve(f))) missing.add("shared: " + f);
        assertEquals(List.of(), missing, "files the registry lists but the tree lacks");
    }

    @Test void everyListedClassLoads() {
        List<String> missing = new ArrayList<>();
        for (Op o : Op.values()) {
            List<String> classes = new ArrayList<>(List.of(o.cudaClass(), o.cpuClass(), o.refClass()));
            classes.addAll(o.testClasses());
            for (String c : classes) {
                try {
                    Class.forName(c, false, OpLayoutTest.class.getClassLoader());
                } catch (ClassNotFoundException e) {
                    missing.add(o.stem() + ": " + c);
                }
            }
        }
        assertEquals(List.of(), missing, "classes the registry lists but the build lacks");
    }

    @Test void everyBackendMethodBelongsToOneOp() {
        Set<String> backend = new TreeSet<>();
        for (Method m : Backend.class.getMethods()) backend.add(m.getName());
        Map<String, List<String>> owners = new HashMap<>();
        for (Op o : Op.values())
            for (String m : o.methods()) owners.computeIfAbsent(m, k -> new ArrayList<>()).add(o.stem());
        List<String> problems = new ArrayList<>();
        for (String m : backend) {
            List<String> own = owners.getOrDefault(m, List.of());
            boolean memory = Op.MEMORY_METHODS.contains(m);
            if (memory && !own.isEmpty()) problems.add(m + " is a memory method and claimed by " + own);
            if (!memory && own.size() != 1) problems.add("Backend." + m + " belongs to " + own.size() + " ops " + own);
        }
        for (String m : owners.keySet()) if (!backend.contains(m)) problems.add(m + " is listed but not a Backend method");
        for (String m : Op.MEMORY_METHODS) if (!backend.contains(m)) problems.add(m + " is listed as memory but not a Backend method");
        assertEquals(List.of(), problems);
    }

    @Test void costsExistAndStartWithTheStem() {
        Set<String> cost = new HashSet<>();
        for (Method m : OpCost.class.getDeclaredMethods())
            if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && m.getReturnType() == OpCost.class)
                cost.add(m.getName());
        Set<String> claimed = new HashSet<>(Set.of("copy"));   // the copy ceiling: no op
        List<String> problems = new ArrayList<>();
        for (Op o : Op.values())
            for (String c : o.costs()) {
                if (!cost.contains(c)) problems.add(o.stem() + ": no OpCost." + c);
                if (!c.startsWith(o.stem())) problems.add(o.stem() + ": OpCost." + c + " does not start with the stem");
                claimed.add(c);
            }
        for (String c : cost) if (!claimed.contains(c)) problems.add("OpCost." + c + " belongs to no op");
        assertEquals(List.of(), problems);
    }

    @Test void namesFollowTheStem() {
        List<String> problems = new ArrayList<>();
        Set<String> stems = new HashSet<>();
        for (Op o : Op.values()) {
            if (!stems.add(o.stem())) problems.add("stem " + o.stem() + " twice");
            if (!o.javaName().equalsIgnoreCase(o.stem())) problems.add(o.stem() + ": Java name " + o.javaName());
            String launcher = simple(o.cudaClass());
            boolean own = launcher.equals(o.javaName() + "Ops");
            boolean shared = false;   // another op's launcher, because the kernels are in that op's file
            for (Op x : Op.values())
                if (x != o && x.cudaClass().equals(o.cudaClass()) && x.kernels().contains(o.kernels().get(0))
                        && simple(x.cudaClass()).equals(x.javaName() + "Ops"))
                    shared = true;
            if (!own && !shared) problems.add(o.stem() + ": launcher " + launcher + " is neither " + o.javaName()
                    + "Ops nor the launcher of the op whose kernel file it uses");
            if (!o.testClasses().contains("convunext.backend.cpu.ref.Ref" + o.javaName() + "Test"))
                problems.add(o.stem() + ": no Ref" + o.javaName() + "Test");
            Set<String> rows = new HashSet<>(o.benchRows());
            if (rows.size() != o.benchRows().size()) problems.add(o.stem() + ": duplicate bench rows");
            if (o.benchRows().isEmpty()) problems.add(o.stem() + ": no bench row");
        }
        assertEquals(List.of(), problems);
    }

    /** Every launcher, CPU op class, float64 class and kernel file in the tree belongs to an op (or is a helper). */
    @Test void noPieceOutsideTheRegistry() throws IOException {
        Set<String> known = new HashSet<>(HELPERS.keySet());
        for (Op o : Op.values()) {
            known.add(simple(o.cudaClass()));
            known.add(simple(o.cpuClass()));
            known.add(simple(o.refClass()));
            known.addAll(o.kernels());
        }
        List<String> orphans = new ArrayList<>();
        orphans.addAll(unknown("src/main/java/convunext/backend/cuda/ops", n -> n.endsWith("Ops.java"), known));
        orphans.addAll(unknown("src/main/java/convunext/backend/cpu", n -> n.startsWith("Cpu") && n.endsWith(".java"), known));
        orphans.addAll(unknown("src/main/java/convunext/backend/cpu/ref", n -> n.startsWith("Ref") && n.endsWith(".java"), known));
        orphans.addAll(unknown("kernels", n -> n.endsWith(".cu"), known));
        orphans.addAll(unknown("kernels/checks", n -> n.endsWith(".cpp"), known));
        assertEquals(List.of(), orphans, "pieces of an op that the registry (Op.java) does not list");
    }

    @Test void readmeOpsTableIsCurrent() throws IOException {
        String readme = Files.readString(root().resolve("README.md"), StandardCharsets.UTF_8);
        assertEquals(OpTable.replace(readme), readme, "README's ops table is stale: run "
                + "`java -cp target/classes convunext.backend.OpTable --readme README.md`");
    }

    private static List<String> unknown(String dir, java.util.function.Predicate<String> match, Set<String> known)
            throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root().resolve(dir))) {
            s.map(p -> p.getFileName().toString()).filter(match).sorted().forEach(n -> {
                String key = n.endsWith(".java") ? n.substring(0, n.length() - 5) : n;
                if (!known.contains(key)) out.add(dir + "/" + n);
            });
        }
        return out;
    }

    private static String simple(String cls) { return cls.substring(cls.lastIndexOf('.') + 1); }
}
