package convunext.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar convunext.jar train|predict|evaluate|verify|bench|info}.
 * Exit codes: 0 success, 1 a check failed (verify above tolerance), 2 bad input or usage,
 * 3 the requested device is unavailable or failed (a CUDA error, out of device memory),
 * 4 training diverged (NaN loss).
 */
@Command(name = "convunext", mixinStandardHelpOptions = true, version = "convunext 0.1.0",
        description = "ConvUNeXt segmentation on the JVM: CPU and CUDA backends.",
        subcommands = {TrainCommand.class, PredictCommand.class, EvaluateCommand.class, VerifyCommand.class, BenchCommand.class, InfoCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:a check failed", "2:bad input or usage", "3:device unavailable or out of memory", "4:training diverged"})
public final class Main implements Runnable {
    public static final int OK = 0, CHECK_FAILED = 1, BAD_INPUT = 2, NO_DEVICE = 3, DIVERGED = 4;

    @Override public void run() {
        CommandLine.usage(this, System.out);
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Bad input is answered with one clear line, not a stack trace.
            Throwable e = ex;
            int code;
            if (e instanceof UserError u) code = u.exitCode;
            else if (e instanceof convunext.backend.Backends.Unavailable || e instanceof convunext.backend.cuda.CudaError) code = NO_DEVICE;
            else if (e instanceof java.io.UncheckedIOException || e instanceof IllegalArgumentException
                    || e instanceof convunext.data.DataException) code = BAD_INPUT;
            else throw ex;
            cmd.getErr().println("error: " + e.getMessage());
            return code;
        });
        return cl.execute(args);
    }

    public static void main(String[] args) {
        // Plain `java -jar` lacks the Vector API module: run again in a child JVM that has it.
        Relaunch.ensureFlags(java.util.List.of("--add-modules=" + Relaunch.VECTOR_MODULE), Main.class, args);
        System.exit(execute(args));
    }
}
