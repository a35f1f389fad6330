package convunext.cli;

import convunext.backend.all.Backends;
import convunext.backend.cuda.CudaError;
import convunext.data.DataException;
import convunext.io.OutputFolder;
import convunext.train.Trainer;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar convunext.jar train|predict|evaluate|verify|bench|info}.
 * Exit codes: 0 success, 1 a check failed (verify above tolerance), 2 bad input or usage (one
 * line naming the file, flag or value), 3 the requested device is unavailable or failed (a CUDA
 * error, out of device or heap memory), 4 training diverged (NaN loss), 5 an internal error (a bug:
 * one line; {@code -Dconvunext.trace=true} prints the stack trace). Ctrl-C: 130, SIGTERM: 143.
 */
@Command(name = "convunext", mixinStandardHelpOptions = true, version = "convunext 0.1.0",
        description = "ConvUNeXt segmentation on the JVM: CPU and CUDA backends.",
        subcommands = {TrainCommand.class, PredictCommand.class, EvaluateCommand.class, VerifyCommand.class, BenchCommand.class, InfoCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:a check failed", "2:bad input or usage", "3:device unavailable or out of memory",
                "4:training diverged", "5:internal error (please report)", "130:interrupted (Ctrl-C)", "143:terminated (SIGTERM)"})
public final class Main implements java.util.concurrent.Callable<Integer> {
    public static final int OK = 0, CHECK_FAILED = 1, BAD_INPUT = 2, NO_DEVICE = 3, DIVERGED = 4, INTERNAL = 5;

    /** No command given: a usage error (exit 2), with the usage to choose one from. */
    @Override public Integer call() {
        CommandLine.usage(this, System.out);
        System.err.println("error: no command given: expected one of train, predict, evaluate, verify, bench, info (see `convunext --help`)");
        System.err.flush();
        return BAD_INPUT;
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> report(cmd.getErr(), ex));
        cl.setParameterExceptionHandler((ex, a) -> {
            // A usage error: one line and where to look, not the whole usage text.
            ex.getCommandLine().getErr().println("error: " + oneLine(ex.getMessage()) + " (see `convunext "
                    + (ex.getCommandLine().getParent() == null ? "" : ex.getCommandLine().getCommandName() + " ") + "--help`)");
            return BAD_INPUT;
        });
        Interrupts.started();
        try {
            return cl.execute(args);
        } catch (Error e) {   // out of memory (exit 3), or a bug such as a stack overflow (exit 5): one line too
            return report(cl.getErr(), e);
        } finally {
            Interrupts.finished();
        }
    }

    /** One line on {@code err} for anything a command throws, and its exit code. */
    static int report(PrintWriter err, Throwable e) {
        int code = exitCode(e);
        String m = oneLine(e.getMessage());
        if (e instanceof OutOfMemoryError) {
            long max = Runtime.getRuntime().maxMemory() >> 20;
            m = "out of memory (" + (m.isEmpty() ? "Java heap" : m) + ", max heap " + max + " MiB): try a smaller --tile "
                    + "(predict, evaluate, train's validation) or smaller --batch/--crop (train), or give Java more memory, "
                    + "e.g. java -Xmx" + Math.max(2, 2 * ((max + 1023) >> 10)) + "g -jar convunext.jar ...";
        } else if (code == INTERNAL) {
            StackTraceElement[] at = e.getStackTrace();
            m = "internal error " + e.getClass().getName() + (m.isEmpty() ? "" : ": " + m)
                    + (at.length > 0 ? " at " + at[0] : "") + " (please report it; -Dconvunext.trace=true prints the stack trace)";
        } else if (code == DIVERGED) {
            m = "training diverged: " + m;
        }
        if (Interrupts.stopping()) return code;   // the interrupt's own line says it all
        err.println("error: " + m);
        if (Boolean.getBoolean("convunext.trace")) e.printStackTrace(err);
        err.flush();
        return code;
    }

    static int exitCode(Throwable e) {
        if (e instanceof UserError u) return u.exitCode;
        if (e instanceof OutOfMemoryError) return NO_DEVICE;
        if (e instanceof Backends.Unavailable || e instanceof CudaError) return NO_DEVICE;
        if (e instanceof Trainer.Diverged) return DIVERGED;
        if (e instanceof UncheckedIOException || e instanceof IllegalArgumentException || e instanceof DataException
                || e instanceof OutputFolder.Busy) return BAD_INPUT;
        return INTERNAL;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    public static void main(String[] args) {
        // Plain `java -jar` lacks the Vector API module (and the JIT flags that keep its kernels
        // compiled): run again in a child JVM that has them, the heap on huge pages where the
        // kernel gives them on request, and, where nobody chose the heap's size, room for the
        // reference recipe's training step (Relaunch.heapFlags).
        java.util.List<String> flags = new java.util.ArrayList<>(Relaunch.VECTOR_JIT_FLAGS);
        flags.add("--add-modules=" + Relaunch.VECTOR_MODULE);
        java.util.List<String> alsoInChild = new java.util.ArrayList<>(Relaunch.pageFlags());
        alsoInChild.addAll(Relaunch.heapFlags());
        args = Relaunch.ensureFlags(flags, alsoInChild, Main.class, args);
        byte[] misread = misreadArgument(args, OriginalArgs.misread(args));
        if (misread != null) {
            System.err.write(misread, 0, misread.length);   // the argument's bytes as typed: this JVM's charset would print '?'
            System.err.flush();
            System.exit(BAD_INPUT);
        }
        Interrupts.install();
        System.exit(execute(args));
    }

    /**
     * The error line for the first argument this JVM read with '?' for non-ASCII characters (see
     * {@link OriginalArgs#misread(String[], byte[][])}: a C/POSIX locale and no UTF-8 child), with
     * its bytes as typed; null where there is none. Without it, {@code -i /data/bilder-ä} failed as
     * "input not found: /data/bilder-??", naming no cause.
     */
    static byte[] misreadArgument(String[] args, byte[][] misread) {
        for (int i = 0; i < args.length; i++) {
            if (misread[i] == null) continue;
            byte[] typed = misread[i];
            String name = argumentName(args, i);
            int eq = args[i].indexOf('=');
            if (args[i].startsWith("-") && eq > 0 && args[i].substring(0, eq).chars().allMatch(c -> c < 128 && c != '?')) {
                name = args[i].substring(0, eq);   // --input=/data/bilder-ä: the value alone, after the option named as typed
                typed = java.util.Arrays.copyOfRange(typed, eq + 1, typed.length);
            }
            java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
            line.writeBytes(("error: " + name + ": \"").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            line.writeBytes(typed);
            line.writeBytes(("\" has non-ASCII characters, which this JVM cannot use under the C/POSIX locale (file names and"
                    + " arguments are read as ASCII); run with LC_ALL=C.UTF-8\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return line.toByteArray();
        }
        return null;
    }

    /** The option argument {@code i} is the value of (its longest name), as picocli parses them; else as typed. */
    static String argumentName(String[] args, int i) {
        try {
            CommandLine cl = new CommandLine(new Main());
            cl.registerConverter(java.nio.file.Path.class, s -> null);   // such a value is no Path in this JVM: parsing stops there
            for (CommandLine.ParseResult r = cl.parseArgs(args); r != null; r = r.subcommand()) {
                for (CommandLine.Model.OptionSpec o : r.matchedOptions())
                    if (o.originalStringValues().contains(args[i])) return o.longestName();
                for (CommandLine.Model.PositionalParamSpec p : r.matchedPositionals())
                    if (p.originalStringValues().contains(args[i])) return p.paramLabel();
            }
        } catch (RuntimeException unparsed) {
            // named as typed below
        }
        return i > 0 && args[i - 1].startsWith("-") ? args[i - 1] : "argument " + (i + 1);
    }
}
