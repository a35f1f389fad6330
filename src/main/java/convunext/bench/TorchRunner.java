package convunext.bench;

import convunext.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs bench/torch_bench.py (the same model, loss and AdamW in PyTorch, same shapes) in a child
 * process and returns the JSON object it prints as its last stdout line. Its stderr passes through.
 */
public final class TorchRunner {
    private TorchRunner() {}

    /** The interpreter to use when none is given: Debian's python3 (which has PyTorch here) if present. */
    public static String defaultPython() {
        String env = System.getenv("CONVUNEXT_PYTHON");
        if (env != null && !env.isBlank()) return env;
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> run(String python, Path script, String device, BenchConfig cfg, int threads,
                                          boolean compile) throws IOException, InterruptedException {
        if (!Files.isRegularFile(script))
            throw new IOException("PyTorch benchmark script not found: " + script + " (run from the project root or pass --torch-script)");
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--device", device,
                "--batch", String.valueOf(cfg.batch()), "--size", String.valueOf(cfg.size()),
                "--base-c", String.valueOf(cfg.baseC()), "--classes", String.valueOf(cfg.classes()),
                "--warmup", String.valueOf(Math.max(1, cfg.warmup())), "--steps", String.valueOf(cfg.steps()),
                "--threads", String.valueOf(threads)));
        if (compile) cmd.add("--compile");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int rc = p.waitFor();
        String json = null;
        for (String line : out.split("\n")) if (line.startsWith("{")) json = line;
        if (rc != 0 || json == null)
            throw new IOException(String.join(" ", cmd) + " exited with " + rc + (json == null ? " and printed no JSON" : ""));
        return (Map<String, Object>) Json.parse(json);
    }
}
