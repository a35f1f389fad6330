package convunext.cli;

import convunext.backend.Backend;
import convunext.bench.Anchors;
import convunext.bench.Bench;
import convunext.bench.BenchConfig;
import convunext.bench.BenchReport;
import convunext.bench.TorchRunner;
import convunext.io.AtomicFiles;
import convunext.io.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmarks every layer and the whole training step.",
                "Roofline ceilings measured in the same run (a large copy,",
                "a large linear), every op forward and backward at the model's shapes (--layers), a whole",
                "training step and inference; optionally PyTorch side by side (--torch).",
                "Shapes: batch 4, 3×480×480, base_c 32 on cuda; batch 2, 3×256×256, base_c 32 elsewhere."},
        footer = {"", "Example: bench --device cpu --layers --torch --json bench/results/cpu.json",
                "then python3 bench/perf_table.py bench/results/cpu.json --readme README.md"})
final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin DeviceOption device;
    @Option(names = "--layers", description = "also time every op (forward and backward) at the model's shapes")
    boolean layers;
    @Option(names = "--json", paramLabel = "FILE", description = "write the results as JSON")
    Path json;
    @Option(names = "--tiny", description = "batch 1, 64×64, base_c 4, few repeats: every row in seconds (CI smoke test)")
    boolean tiny;
    @Option(names = "--batch", description = "batch size (overrides the preset)")
    Integer batch;
    @Option(names = "--size", description = "image side in pixels (overrides the preset)")
    Integer size;
    @Option(names = "--base-c", description = "channels of the first stage (overrides the preset)")
    Integer baseC;
    @Option(names = "--warmup", description = "untimed calls before timing each row (the whole model: at least 3 steps and inferences)")
    Integer warmup;
    @Option(names = "--reps", description = "timed calls per op row (median reported)")
    Integer reps;
    @Option(names = "--steps", description = "timed training steps and inferences (median reported)")
    Integer steps;
    @Option(names = "--breakdown", description = "time per op over one training step and over one inference of the folded model")
    boolean breakdown;
    @Option(names = "--torch", description = "also run bench/torch_bench.py (same shapes) and print our time / PyTorch's")
    boolean torch;
    @Option(names = "--torch-compile", description = "with --torch: also time torch.compile (PyTorch 2.x)")
    boolean torchCompile;
    @Option(names = "--python", description = "interpreter for --torch (default: $CONVUNEXT_PYTHON, else /usr/bin/python3 if present, else python3)")
    String python;
    @Option(names = "--torch-script", defaultValue = "bench/torch_bench.py", description = "default: ${DEFAULT-VALUE}")
    Path torchScript;
    @Option(names = "--torch-threads", defaultValue = "2", description = "PyTorch CPU threads (default: ${DEFAULT-VALUE})")
    int torchThreads;
    @Option(names = "--anchors", description = {"CPU: our step and inference alternated with libtorch through DJL (bench/anchor, built",
            "apart: mvn -B -q -f bench/anchor/pom.xml package) and PyTorch + OpenBLAS, --rounds times"})
    boolean anchors;
    @Option(names = "--rounds", defaultValue = "3", description = "with --anchors: alternated rounds (default: ${DEFAULT-VALUE})")
    int rounds;
    @Option(names = "--weak-anchor", description = "with --anchors: also PyTorch on the netlib reference BLAS, once (≈15 s a step)")
    boolean weakAnchor;
    @Option(names = "--openblas-dir", defaultValue = "/usr/lib/x86_64-linux-gnu/openblas-pthread",
            description = "directory with OpenBLAS's libblas.so.3 for the torch-openblas anchor (default: ${DEFAULT-VALUE}, Debian's libopenblas0-pthread)")
    String openblasDir;
    @Option(names = "--anchor-dir", defaultValue = "bench/anchor", description = "default: ${DEFAULT-VALUE}")
    Path anchorDir;

    @Override public Integer call() throws IOException {
        // every value checked, naming its flag, before the device opens and the benchmarks run (minutes)
        atLeast("--batch", batch, 1);
        atLeast("--size", size, convunext.nn.ConvUNeXt.MIN_SIDE);
        atLeast("--base-c", baseC, 1);
        atLeast("--warmup", warmup, 0);
        atLeast("--reps", reps, 1);
        atLeast("--steps", steps, 1);
        atLeast("--rounds", rounds, 1);
        atLeast("--torch-threads", torchThreads, 1);
        if (json != null && java.nio.file.Files.isDirectory(json))   // refused before the benchmarks run, not after
            throw new UserError("--json " + json + " is a folder; give a file name", Main.BAD_INPUT);
        try (Backend be = device.open(System.out)) {
            BenchConfig base = tiny ? BenchConfig.tiny() : BenchConfig.forBackend(be.name());
            BenchConfig cfg = base.with(batch, size, baseC, warmup, reps, steps);
            String command = String.join(" ", spec.commandLine().getParseResult().originalArgs());
            BenchReport r = Bench.run(be, cfg, layers, breakdown, command, System.out);
            if (torch) {
                String dev = "cuda".equals(be.name()) ? "cuda" : "cpu";
                try {
                    Map<String, Object> t = TorchRunner.run(python != null ? python : TorchRunner.defaultPython(), torchScript,
                            dev, cfg, torchThreads, torchCompile);
                    r = Bench.withTorch(r, t, null);
                } catch (IOException e) {
                    r = Bench.withTorch(r, null, e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    r = Bench.withTorch(r, null, "interrupted");
                }
            }
            if (anchors) {
                r = r.withAnchors(Anchors.run(be, cfg, new Anchors.Options(rounds, weakAnchor,
                        python != null ? python : TorchRunner.defaultPython(), torchScript, anchorDir, Path.of("target/anchor"),
                        openblasDir, torchThreads), System.out));
            }
            r.print(System.out);
            if (json != null) {
                AtomicFiles.writeString(json, Json.write(r.toJson()) + "\n");
                System.out.println("wrote " + json);
            }
            // Our measurements are complete even when the PyTorch side failed: that is reported in
            // the output and the JSON ("torch_error"), not as a failed exit status.
            return Main.OK;
        }
    }

    private static void atLeast(String flag, Integer value, int min) {
        if (value != null && value < min) throw new UserError(flag + " must be ≥ " + min + ", got " + value, Main.BAD_INPUT);
    }
}
