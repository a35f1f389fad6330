package convunext.backend;

import java.util.ArrayList;
import java.util.List;

/**
 * The op registry: every op of {@link Backend} under one stem, and where each of its pieces lives.
 * The stem names every layer: {@code kernels/<stem>.cu} ↔ {@code backend/cuda/ops/<Stem>Ops} ↔
 * {@code backend/cpu/Cpu<Stem>} ↔ {@code backend/cpu/ref/Ref<Stem>} ↔ {@code Ref<Stem>Test} ↔
 * {@code <Stem>ParityTest} ↔ the bench rows {@code "<stem> <layer> <pass>"} ↔ {@code OpCost.<stem>…}
 * ↔ the per-op names of {@code bench.TimedBackend}. Where an op's kernels live in another op's
 * file (the GELU epilogues in gemm.cu, add+GELU in gelu.cu), it shares that op's launcher, and
 * this table says so.
 *
 * <p>{@code OpLayoutTest} fails when a listed file or class is missing, when a Backend method,
 * launcher, CPU class, float64 class or kernel file belongs to no op (or to two), or when a name
 * breaks the stem rule; the bench's row ids and TimedBackend's names are read from here; README's
 * "ops" table is generated from it ({@link OpTable}).
 *
 * <p>Adding an op: its entry here; the files {@link #files()} lists for it (kernel, launcher, CPU
 * class, float64 class, its Ref and parity tests); and the shared files of {@link #SHARED_FILES} (a Backend method,
 * one forwarder in each backend and in TimedBackend, the bench rows and their OpCost, then
 * {@code OpTable --readme README.md}).
 */
public enum Op {
    CONV2D("conv2d", "Conv2d",
            methods("conv2d", "conv2dBackward", "conv2dBackwardInto"),
            kernels("conv2d.cu"), "Conv2dOps",
            tests(),
            costs("conv2d", "conv2dBackward"),
            rows("stem 7x7 reflect fwd", "stem 7x7 reflect bwd", "down1 2x2 s2 fwd", "down1 2x2 s2 bwd")),
    LINEAR("linear", "Linear",
            methods("linear", "linearBackward", "linearBackwardInto"),
            kernels("gemm.cu", "gemm_tile.cuh", "gemm_tc.cuh"), "LinearOps",
            tests("backend.cpu.CpuGemmTest", "backend.cpu.GemmKernelTest", "backend.cpu.CpuLinearNarrowTest", "backend.cuda.LinearTilesParityTest",
                    "backend.cuda.GradIntoParityTest", "backend.cuda.BiasGradTest", "backend.cuda.TensorCoreParityTest"),
            costs("linear", "linearBackward"),
            rows("pwconv1 C→4C fwd", "pwconv1 C→4C bwd", "pwconv2 4C→C fwd", "pwconv2 4C→C bwd")),
    LINEAR_GELU("linearGelu", "LinearGelu",
            methods("linearGelu", "linearBackwardDataGelu"),
            kernels("gemm.cu", "gelu.cuh"), "LinearOps",
            tests("backend.cpu.CpuLinearGeluTest", "backend.cuda.GeluFusionTest", "autograd.MlpTest"),
            costs("linearGelu", "linearGeluBackward"),
            rows("pwconv1+GELU C→4C fwd", "pwconv1+GELU C→4C infer", "pwconv2 dx·GELU' bwd")),
    MLP("mlp", "Mlp",
            methods("mlp", "mlpAddGelu", "mlpBackward", "mlpBackwardInto"),
            kernels("gemm.cu", "gelu.cuh"), "LinearOps",
            tests("backend.cpu.CpuMlpTest", "backend.cpu.CpuMlpAddGeluTest"),
            costs("mlp", "mlpBackward"),
            rows("block C→4C→C fwd", "block C→4C→C infer", "block C→4C→C bwd")),
    LINEAR_CAT("linearCat", "LinearCat",
            methods("linearCat", "linearCatBackward", "linearCatBackwardInto"),
            kernels("gemm_cat.cu", "gemm_tile.cuh", "gemm_tc.cuh"), "LinearCatOps",
            tests("backend.cuda.LinearCatKernelsTest"),
            costs("linearCat", "linearCatBackward"),
            rows("up4 conv1x1 fwd", "up4 conv1x1 bwd")),
    DWCONV7("dwconv7", "DwConv7",
            methods("dwconv7", "dwconv7Backward", "dwconv7BackwardInto", "dwconv7Batchnorm", "dwconv7BatchnormBackwardInto"),
            kernels("dwconv7.cu"), "DwConv7Ops",
            tests("backend.cuda.DwConv7OpsTest", "backend.cuda.DwConv7TilesParityTest", "backend.cuda.DwConv7BatchnormTest",
                    "backend.parity.DwConv7BatchnormParityTest", "backend.cpu.CpuDwConv7IntoTest", "backend.cpu.CpuDwConv7LanesTest"),
            costs("dwconv7", "dwconv7Backward"),
            rows("level0 block fwd", "level0 block bwd")),
    BATCHNORM("batchnorm", "BatchNorm",
            methods("batchnormTrain", "batchnormEval", "batchnormBackward", "batchnormBackwardInto", "batchnormAddGelu",
                    "batchnormAddGeluSaved", "batchnormAddGeluBackwardInto", "batchnormAddGeluStats", "batchnormTrainStats"),
            kernels("batchnorm.cu"), "BatchNormOps",
            tests("backend.cuda.Float4PathsParityTest", "backend.cuda.BatchNormFusedParityTest", "backend.cuda.BatchNormStatsHandoffTest",
                    "backend.cpu.CpuBatchNormAddGeluTest", "backend.cpu.CpuBatchNormIntoTest"),
            costs("batchnormTrain", "batchnormEval", "batchnormBackward"),
            rows("level0 fwd", "level0 bwd", "level0 eval")),
    LAYERNORM("layernorm", "LayerNorm",
            methods("layernorm", "layernormBackward", "layernormBackwardInto"),
            kernels("layernorm.cu"), "LayerNormOps",
            tests(),
            costs("layernorm", "layernormBackward"),
            rows("level0 fwd", "level0 bwd")),
    GELU("gelu", "Gelu",
            methods("gelu", "geluBackward"),
            kernels("gelu.cu", "gelu.cuh"), "GeluOps",
            tests("backend.cpu.SimdOpsTest", "backend.cuda.Float4PathsParityTest"),
            costs("gelu", "geluBackward"),
            rows("after pwconv1 fwd", "after pwconv1 bwd")),
    ADD_GELU("addGelu", "AddGelu",
            methods("addGelu"),
            kernels("gelu.cu"), "GeluOps",
            tests("backend.cpu.CpuAddGeluTest", "backend.cuda.GeluFusionTest", "autograd.AddGeluTest"),
            costs("addGelu"),
            rows("block residual+GELU fwd", "block residual+GELU infer")),
    ADD("add", "Add",
            methods("add", "addInPlace"),
            kernels("elementwise.cu"), "AddOps",
            tests("backend.cuda.Float4PathsParityTest"),
            costs("add"),
            rows("block residual fwd")),
    GATE("gate", "Gate",
            methods("gateIn", "gateOut", "gateOutBackward", "gateInBackward", "gateInBackwardInto", "gateChain", "gateChainTrain", "gateChainCatBackward"),
            kernels("gate.cu"), "GateOps",
            tests("backend.cuda.Float4PathsParityTest", "backend.cpu.CpuGateChainTest", "backend.cpu.CpuGateChainTrainTest",
                    "backend.cpu.CpuGateChainBackwardTest", "autograd.GateChainTest"),
            costs("gateIn", "gateInBackward", "gateOut", "gateOutBackward"),
            rows("up4 gateIn fwd", "up4 gateIn bwd", "up4 gateOut fwd", "up4 gateOut bwd")),
    UPSAMPLE("upsample", "Upsample",
            methods("upsample2x", "upsample2xBackward"),
            kernels("upsample.cu"), "UpsampleOps",
            tests("backend.cuda.UpsampleAdamWPathsTest", "backend.cpu.CpuUpsampleTest"),
            costs("upsample", "upsampleBackward"),
            rows("up4 fwd", "up4 bwd")),
    LAYOUT("layout", "Layout",
            methods("pad2d", "pad2dBackward", "concat", "sliceChannels", "concatBackward"),
            kernels("layout.cu"), "LayoutOps",
            tests("backend.cuda.Float4PathsParityTest"),
            costs("layout"),
            rows("up4 concat fwd", "up4 concat bwd")),
    LOSS("loss", "Loss",
            methods("ceDiceLoss"),
            kernels("loss.cu"), "LossOps",
            tests(),
            costs("loss"),
            rows("ce+dice fwd+bwd")),
    ADAMW("adamw", "AdamW",
            methods("adamw"),
            kernels("adamw.cu"), "AdamWOps",
            tests("backend.cuda.UpsampleAdamWPathsTest"),
            costs("adamw"),
            rows("all parameters step"));

    /** Backend methods that move memory, not ops of the model: no stem. */
    public static final List<String> MEMORY_METHODS = List.of("name", "describe", "empty", "zeros", "upload", "download",
            "view", "release", "copy", "fill", "sync", "deviceMemoryPeak", "resetDeviceMemoryPeak", "eventTimer", "close",
            "precision", "step");

    /**
     * Files every op has a line in (repo-relative): the interface and its shape rules, its three
     * backends and the bench's timing wrapper (one forwarder each), the bench's rows and costs,
     * this registry, and README's generated table.
     */
    public static final List<String> SHARED_FILES = List.of(
            "src/main/java/convunext/backend/Backend.java",
            "src/main/java/convunext/backend/OpShapes.java",
            "src/main/java/convunext/backend/cpu/CpuBackend.java",
            "src/main/java/convunext/backend/cuda/CudaBackend.java",
            "src/main/java/convunext/backend/cpu/ref/RefBackend.java",
            "src/main/java/convunext/bench/TimedBackend.java",
            "src/main/java/convunext/bench/LayerBench.java",
            "src/main/java/convunext/bench/OpCost.java",
            "src/main/java/convunext/backend/Op.java",
            "README.md");

    private final String stem, javaName, cuda;
    private final List<String> methods, kernels, tests, costs, rows;   // tests: the backend-specific ones

    Op(String stem, String javaName, List<String> methods, List<String> kernels, String cuda, List<String> tests,
       List<String> costs, List<String> rows) {
        this.stem = stem;
        this.javaName = javaName;
        this.methods = methods;
        this.kernels = kernels;
        this.cuda = cuda;
        this.tests = tests;
        this.costs = costs;
        this.rows = rows;
    }

    private static List<String> methods(String... m) { return List.of(m); }
    private static List<String> kernels(String... k) { return List.of(k); }
    private static List<String> tests(String... t) { return List.of(t); }
    private static List<String> costs(String... c) { return List.of(c); }
    private static List<String> rows(String... r) { return List.of(r); }

    /** The stem: bench row ids and TimedBackend names start with it ("dwconv7"). */
    public String stem() { return stem; }

    /** The stem in Java class names ("DwConv7"): Cpu&lt;Stem&gt;, Ref&lt;Stem&gt;, &lt;Stem&gt;Ops. */
    public String javaName() { return javaName; }

    /** The {@link Backend} methods of this op. */
    public List<String> methods() { return methods; }

    /** Files under kernels/ (the first holds the kernels; the rest are headers it includes). */
    public List<String> kernels() { return kernels; }

    /** The launcher class in convunext.backend.cuda.ops. */
    public String cudaClass() { return "convunext.backend.cuda.ops." + cuda; }

    /** The CPU backend's class. */
    public String cpuClass() { return "convunext.backend.cpu.Cpu" + javaName; }

    /** The float64 oracle's class. */
    public String refClass() { return "convunext.backend.cpu.ref.Ref" + javaName; }

    /**
     * Test classes (fully qualified): the float64 oracle's {@code Ref<Stem>Test} (gradient checks),
     * the every-backend {@code parity.<Stem>ParityTest}, then the backend-specific ones.
     */
    public List<String> testClasses() {
        List<String> out = new ArrayList<>();
        out.add("convunext.backend.cpu.ref.Ref" + javaName + "Test");
        out.add("convunext.backend.parity." + javaName + "ParityTest");
        for (String t : tests) out.add("convunext." + t);
        return out;
    }

    /** Methods of {@code convunext.bench.OpCost} for this op's rows. */
    public List<String> costs() { return costs; }

    /** Bench rows as "layer pass" (the row id is "stem layer pass"). */
    public List<String> benchRows() { return rows; }

    /** The bench row ids: "stem layer pass". */
    public List<String> benchRowIds() {
        List<String> out = new ArrayList<>();
        for (String r : rows) out.add(stem + " " + r);
        return out;
    }

    /** A per-op name for timing breakdowns: the stem, then {@code detail} if not empty ("dwconv7 bwd"). */
    public String key(String detail) { return detail == null || detail.isEmpty() ? stem : stem + " " + detail; }

    /**
     * Every file of this op, repo-relative: kernels, launcher, CPU class, float64 class, tests. (The
     * sanitizer run replays the launches its CUDA parity test records: kernels/README.md; no C++
     * copy of the op's geometry.)
     */
    public List<String> files() {
        List<String> out = new ArrayList<>();
        for (String k : kernels) out.add("kernels/" + k);
        out.add(javaFile(cudaClass()));
        out.add(javaFile(cpuClass()));
        out.add(javaFile(refClass()));
        for (String t : testClasses()) out.add(javaFile(t).replace("src/main/", "src/test/"));
        return out;
    }

    private static String javaFile(String cls) { return "src/main/java/" + cls.replace('.', '/') + ".java"; }

    /** The op that owns Backend method {@code method}, or null (memory methods). */
    public static Op ofMethod(String method) {
        for (Op o : values()) if (o.methods.contains(method)) return o;
        return null;
    }

    /** Every bench row id, in registry order. */
    public static List<String> allBenchRowIds() {
        List<String> out = new ArrayList<>();
        for (Op o : values()) out.addAll(o.benchRowIds());
        return out;
    }
}
