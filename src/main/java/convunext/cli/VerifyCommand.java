package convunext.cli;

import convunext.backend.Backend;
import convunext.train.GoldenCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Reproduces a PyTorch reference fixture and reports the errors.",
                "Fixtures come from reference/make_golden.py (any config; see reference/README.md): logits,",
                "loss, every gradient, BN running stats, AdamW losses and weights, eval logits.",
                "Prints ||ours - ref|| / ||ref|| per quantity beside its tolerance and where that comes from:",
                "--tol for well-conditioned quantities, --tol plus a spread measured in the same run for the",
                "ones float32 makes ill-conditioned (explained under the table); exits 1 above a tolerance.",
                "With --precision tf32 or bf16 (cuda or emulated only) every row gets --tol plus that format's floor,",
                "measured in the same run on the float64 oracle with the products' operands rounded to the format",
                "(its distance to the unrounded oracle + its spread to twin roundings), printed in units of u."})
final class VerifyCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FIXTURE", description = "fixture .safetensors file(s)")
    List<Path> fixtures;

    @Mixin DeviceOption device;

    @Option(names = "--tol", defaultValue = "1e-4", description = "relative-error tolerance of the well-conditioned quantities, the base of every other row (default: ${DEFAULT-VALUE})")
    double tol;

    @Override public Integer call() {
        // NaN, 0 or below fail every row and infinity passes any: neither checks anything
        if (!(tol > 0) || Double.isInfinite(tol))
            throw new UserError("--tol must be a finite number > 0, got " + tol, Main.BAD_INPUT);
        for (Path f : fixtures)   // every file checked before any work starts
            if (!Files.isRegularFile(f))
                throw new UserError(Files.isDirectory(f) ? "fixture " + f + " is a folder; give its .safetensors files" : "fixture not found: " + f,
                        Main.BAD_INPUT);
        for (Path f : fixtures) GoldenCheck.readChecked(f);   // every key, shape and value of every file
        boolean ok = true;
        try (Backend be = device.open(System.err)) {
            for (Path f : fixtures) {
                long t0 = System.nanoTime();
                GoldenCheck.Report r = GoldenCheck.run(f, be, tol);
                System.out.print(GoldenCheck.format(r));
                System.out.printf("time %.1f s%n%n", (System.nanoTime() - t0) / 1e9);
                ok &= r.ok();
            }
        }
        return ok ? Main.OK : Main.CHECK_FAILED;
    }
}
