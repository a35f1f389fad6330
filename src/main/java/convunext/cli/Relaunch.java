package convunext.cli;

import java.io.File;
import java.io.IOException;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Gives a program started with plain {@code java -jar convunext.jar …} the JVM flags it needs
 * (the Vector API module for the fast CPU path; Spark's {@code --add-opens} list for the Spark
 * job) by running it again in a child JVM with those flags added.
 *
 * <p>A jar manifest cannot do this: it honours {@code Add-Opens}/{@code Add-Exports} and
 * {@code Launcher-Agent-Class}, but has no attribute that adds a module to the boot layer (an
 * {@code Add-Modules} line is ignored, checked on JDK 17), and an incubator module is never
 * resolved for the class path unless asked for.
 *
 * <p>The child is the same {@code java} binary, with this JVM's own options
 * ({@code RuntimeMXBean.getInputArguments()}, which already hold what JDK_JAVA_OPTIONS,
 * JAVA_TOOL_OPTIONS and _JAVA_OPTIONS added, so those variables are cleared for it), the added
 * flags, the same jar or class path and main class, and the same arguments. It shares stdin,
 * stdout and stderr. The launcher waits and exits with the child's status (128 + signal when
 * the child was killed). SIGINT, SIGTERM or SIGHUP sent to the launcher are passed on as a
 * SIGTERM to the child unless it ends by itself within {@value #SIGNAL_GRACE_MS} ms, and the
 * launcher waits for its exit (Ctrl-C in a terminal reaches both: the child's own SIGINT decides,
 * so the status is 130). If the launcher itself is killed with SIGKILL, the child notices within
 * seconds and exits, also when that happens before the child has started watching. A system
 * property marker ({@value #MARKER}, the launcher's pid) makes the child never re-execute itself;
 * {@code -Dconvunext.relaunch=false} turns the mechanism off.
 *
 * <p>Under a C/POSIX locale the child runs with {@value #UTF8_LOCALE} and gets, besides the
 * arguments this JVM read with '?' for non-ASCII bytes, their bytes as typed (Linux:
 * /proc/self/cmdline; {@link OriginalArgs}), which it reads as UTF-8 before parsing them.
 *
 * <p>It stays in the current JVM when the flags are already in effect, the runtime lacks the
 * module (a jlink'd image without it: the scalar path runs), the program was started as a module
 * ({@code -m}), java.management is absent, an agent or a flight recording is attached (a note
 * says to pass the flags), or the child cannot be started.
 */
public final class Relaunch {
    /** System property set on the child: the launcher's pid. */
    public static final String MARKER = "convunext.relaunched";
    /** The Vector API module, for {@link convunext.backend.cpu.GemmKernels}' SIMD path. */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";
    /**
     * C2's trap limits raised, so that a JVM keeps compiling the Vector API kernels to vector
     * instructions. At the defaults (4 traps per bytecode, 100 per method) a few class-check traps
     * in the JDK's shared vector methods make C2 compile later call sites as virtual calls. The
     * stores then miss a constant species, and every vector of the loop is boxed: 2–4 GiB of
     * garbage a step, 1.5× the step time. With JDK 17 this happened in 2 of 76 JVMs on the
     * development host, and in 15 of 20 with {@code -XX:-TieredCompilation}. With both limits
     * raised, it happened in 0 of 16 of the latter; with either one alone, still in 5 or 6 of 6.
     * Cost: none measured (ratio 1.000 over 12 alternated pairs, 1.01 over 40). bench/NOTES.md,
     * CPU rounds 18, 19 and 22.
     */
    public static final List<String> VECTOR_JIT_FLAGS = List.of("-XX:PerBytecodeTrapLimit=100", "-XX:PerMethodTrapLimit=10000");
    /**
     * The Java heap on 2 MiB pages where the kernel gives transparent huge pages only on request
     * ({@code madvise}, Debian's and Ubuntu's default; with {@code always} the heap gets them
     * anyway, with {@code never} the JVM would only warn). Every activation plane here is tens of
     * KiB to MiBs and the MLP's pixel blocks read 128 of them at once, so 4 KiB pages miss the
     * TLB. Measured on the development host (2 vCPUs, 15 alternated pairs of JVMs): training step
     * 0.957, inference 0.942 of the time without (bench/NOTES.md, CPU round 23). Added only to a
     * child started anyway ({@link #ensureFlags(List, List, Class, String[])}), never on its own.
     */
    public static List<String> pageFlags() { return pageFlags(thpMode()); }

    /** The share of the machine's (or container's) memory a child's heap may grow to: see {@link #heapFlags()}. */
    public static final String HEAP_FLAG = "-XX:MaxRAMPercentage=75";

    /**
     * A larger heap limit where nobody chose one. Java's default is a quarter of the memory
     * (MaxRAMPercentage 25): 6 GiB on a 24 GiB machine, less than the reference recipe's training
     * step on the CPU (batch 4 of 480² crops at base_c 32: a heap high-water of 13 GiB in
     * {@code bench --batch 4 --size 480}), which so stopped with an out-of-memory error after the
     * data check. Three quarters leaves the rest to the system, the JIT and native buffers; the heap
     * still grows only as a run needs it. None where this JVM's heap size was set (-Xmx,
     * -XX:MaxHeapSize, -XX:MaxRAM, -XX:MaxRAMPercentage or -XX:MaxRAMFraction, also through
     * JAVA_TOOL_OPTIONS / JDK_JAVA_OPTIONS): the child inherits that choice. Like
     * {@link #pageFlags()}, added only to a child started anyway.
     */
    public static List<String> heapFlags() {
        return heapFlags(name -> {
            com.sun.management.VMOption o = vmOption(name);
            return o != null && o.getOrigin() != com.sun.management.VMOption.Origin.DEFAULT
                    && o.getOrigin() != com.sun.management.VMOption.Origin.ERGONOMIC;
        });
    }

    /** {@link #heapFlags()} given which options someone set ({@code chosen}, by HotSpot option name). */
    static List<String> heapFlags(java.util.function.Predicate<String> chosen) {
        for (String name : List.of("MaxHeapSize", "MaxRAM", "MaxRAMPercentage", "MaxRAMFraction"))
            if (chosen.test(name)) return List.of();
        return List.of(HEAP_FLAG);
    }

    /** {@link #pageFlags()} for a kernel THP mode ("madvise", "always", "never"; "" unknown). */
    static List<String> pageFlags(String thpMode) {
        return "madvise".equals(thpMode) ? List.of("-XX:+UseTransparentHugePages") : List.of();
    }

    /** The kernel's transparent-huge-page mode, the bracketed word of its sysfs setting; "" where unreadable. */
    static String thpMode() {
        try {
            return thpMode(java.nio.file.Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")));
        } catch (IOException | RuntimeException unreadable) {
            return "";
        }
    }

    /** The bracketed word of "always [madvise] never"; "" where there is none. */
    static String thpMode(String setting) {
        int a = setting.indexOf('['), b = setting.indexOf(']', a + 1);
        return a < 0 || b < 0 ? "" : setting.substring(a + 1, b).strip();
    }

    /**
     * The locale a child gets where this JVM reads file names as ASCII: under a C/POSIX locale (a
     * container's or a cron job's default) Java turns every non-ASCII byte of a name into '?', so
     * a folder holding {@code bild ü.png} failed as a whole ("Malformed input or input contains
     * unmappable characters") and two such names were refused as writing one output. C.UTF-8 reads
     * ASCII names as before; where a system lacks it, the JVM falls back to C, as without it. Any
     * other charset is left alone (its names may be in that charset's bytes).
     */
    static final String UTF8_LOCALE = "C.UTF-8";

    /** Whether {@code jnuEncoding} (sun.jnu.encoding) is plain ASCII, the C/POSIX locale's, on a Unix. */
    static boolean asciiFileNames(String jnuEncoding) {
        return jnuEncoding != null && !System.getProperty("os.name", "").startsWith("Windows")
                && (jnuEncoding.equals("ANSI_X3.4-1968") || jnuEncoding.equalsIgnoreCase("US-ASCII") || jnuEncoding.equalsIgnoreCase("ASCII"));
    }

    private static final List<String> OPTION_VARIABLES = List.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS");

    private Relaunch() {}

    /**
     * Returns the arguments to run the program with when this JVM should run it itself (in a
     * relaunched child, those its launcher read as ASCII as typed); otherwise runs it in a child
     * JVM with {@code flags} added and exits with the child's status (never returns).
     *
     * @param flags JVM options in one-token form: {@code --add-modules=M}, {@code --add-opens=M/P=T},
     *              {@code -Dk=v}, {@code -XX:Name=value} (missing where it still has its default value)
     */
    public static String[] ensureFlags(List<String> flags, Class<?> mainClass, String[] args) {
        return ensureFlags(flags, List.of(), mainClass, args);
    }

    /**
     * As {@link #ensureFlags(List, Class, String[])}, and a child, where one is started anyway, also
     * gets those of {@code alsoInChild} not yet in effect. For programs that must not start a child
     * for them alone (a Spark driver under spark-submit: a child would be a second driver).
     */
    public static String[] ensureFlags(List<String> flags, List<String> alsoInChild, Class<?> mainClass, String[] args) {
        String launcher = System.getProperty(MARKER);
        if (launcher != null) {
            exitWhenGone(launcher);
            // under C.UTF-8 (where the system has it): the arguments as typed, before anything parses them
            return "UTF-8".equalsIgnoreCase(System.getProperty("sun.jnu.encoding"))
                    ? OriginalArgs.recovered(args, OriginalArgs.fromProperties(args, System.getProperties())) : args;
        }
        if ("false".equalsIgnoreCase(System.getProperty("convunext.relaunch"))) return args;
        List<String> missing = missing(flags);
        if (missing.isEmpty()) return args;
        missing = new ArrayList<>(missing);
        missing.addAll(0, missing(alsoInChild));
        List<String> cmd = command(missing, mainClass, args);
        if (cmd == null) return args;
        Integer code = run(cmd);
        if (code != null) System.exit(code);
        return args;
    }

    /** The flags not yet in effect in this JVM that a child could apply (modules it has). */
    static List<String> missing(List<String> flags) {
        List<String> out = new ArrayList<>();
        Module unnamed = Relaunch.class.getClassLoader().getUnnamedModule();
        for (String f : flags) {
            boolean inEffect;
            if (f.startsWith("--add-modules=")) {
                String m = f.substring("--add-modules=".length());
                if (ModuleFinder.ofSystem().find(m).isEmpty()) continue;   // a child could not have it either
                inEffect = ModuleLayer.boot().findModule(m).isPresent();
            } else if (f.startsWith("--add-opens=")) {
                String[] mp = f.substring("--add-opens=".length()).split("[/=]");
                Optional<Module> m = ModuleLayer.boot().findModule(mp[0]);
                if (m.isEmpty()) continue;
                inEffect = m.get().isOpen(mp[1], unnamed);
            } else if (f.startsWith("-D")) {
                int eq = f.indexOf('=');
                String k = f.substring(2, eq < 0 ? f.length() : eq), v = eq < 0 ? "" : f.substring(eq + 1);
                inEffect = v.equals(System.getProperty(k));
            } else if (f.startsWith("-XX:")) {
                inEffect = vmOptionInEffect(f.substring(4));
            } else {
                inEffect = true;
            }
            if (!inEffect) out.add(f);
        }
        return out;
    }

    /** Spark's JVM options ({@code JavaModuleOptions}) that start a child when missing: all but its -XX ones. */
    public static List<String> sparkOptions(String... spark) {
        return java.util.Arrays.stream(spark).filter(f -> !f.startsWith("-XX:")).toList();
    }

    /**
     * What a child started for {@link #sparkOptions} also gets: Spark's -XX options
     * (-XX:+IgnoreUnrecognizedVMOptions), {@link #VECTOR_JIT_FLAGS}, {@link #pageFlags()} and {@link #heapFlags()}. None starts a child on its own,
     * so a driver under spark-submit, which has Spark's options, never starts one.
     */
    public static List<String> sparkChildOptions(String... spark) {
        List<String> out = new ArrayList<>();
        for (String f : spark) if (f.startsWith("-XX:")) out.add(f);
        out.addAll(VECTOR_JIT_FLAGS);
        out.addAll(pageFlags());
        out.addAll(heapFlags());
        return out;
    }

    /**
     * Whether {@code Name=value}, {@code +Name} or {@code -Name} (an -XX option without its prefix)
     * needs no child: the option has that value, or it was set on this
     * JVM's command line or by its ergonomics (someone chose it; a child would override the choice),
     * or it cannot be read (no jdk.management, an option this JVM lacks: a child could not apply it).
     */
    static boolean vmOptionInEffect(String option) {
        String[] nv = nameValue(option);
        com.sun.management.VMOption o = nv == null ? null : vmOption(nv[0]);
        return o == null || o.getValue().equals(nv[1]) || o.getOrigin() != com.sun.management.VMOption.Origin.DEFAULT;
    }

    /** Whether this JVM runs with that option value (false where it cannot be read), for {@code info}. */
    static boolean vmOptionHas(String option) {
        String[] nv = nameValue(option);
        com.sun.management.VMOption o = nv == null ? null : vmOption(nv[0]);
        return o != null && o.getValue().equals(nv[1]);
    }

    /** {name, value} of {@code Name=value}, {@code +Name} ("true") or {@code -Name} ("false"); null for another form. */
    private static String[] nameValue(String option) {
        int eq = option.indexOf('=');
        if (eq >= 0) return new String[] {option.substring(0, eq), option.substring(eq + 1)};
        if (option.startsWith("+") || option.startsWith("-")) return new String[] {option.substring(1), String.valueOf(option.startsWith("+"))};
        return null;
    }

    /** The HotSpot option, or null where it cannot be read (no jdk.management, an option this JVM lacks). */
    private static com.sun.management.VMOption vmOption(String name) {
        try {
            return java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class).getVMOption(name);
        } catch (RuntimeException | LinkageError unknown) {
            return null;
        }
    }

    /** The child's command line, or null where this JVM should stay (see the class comment). */
    static List<String> command(List<String> flags, Class<?> mainClass, String[] args) {
        if (System.getProperty("jdk.module.main") != null) return null;
        List<String> jvmArgs;
        try {
            jvmArgs = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        } catch (LinkageError noManagement) {
            return null;
        }
        for (String a : jvmArgs) {
            // A debugger, profiler agent or flight recording belongs to this JVM: a child would
            // compete for its port or overwrite its recording with an empty one at exit.
            if (a.startsWith("-agentlib") || a.startsWith("-agentpath") || a.startsWith("-javaagent") || a.startsWith("-Xrun")
                    || a.startsWith("-XX:StartFlightRecording") || a.startsWith("-XX:+FlightRecorder")) {
                System.err.println("note: " + a.split("[:=]")[0] + " is attached to this JVM, so it runs without " + flags
                        + "; pass them to java yourself");
                return null;
            }
        }
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmArgs);
        cmd.addAll(flags);
        cmd.add("-D" + MARKER + "=" + ProcessHandle.current().pid());
        // the child reads UTF-8 (run()), but gets the arguments as this JVM read them: add their bytes
        if (asciiFileNames(System.getProperty("sun.jnu.encoding"))) cmd.addAll(OriginalArgs.childOptions(OriginalArgs.ofThisProcess(args)));
        String cp = System.getProperty("java.class.path", ""), started = System.getProperty("sun.java.command", "");
        if (!cp.isEmpty() && !cp.contains(File.pathSeparator) && (started.equals(cp) || started.startsWith(cp + " "))) {
            cmd.add("-jar");   // keeps the manifest's Add-Opens
            cmd.add(cp);
        } else {
            cmd.add("-cp");
            cmd.add(cp);
            cmd.add(mainClass.getName());
        }
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * How long a signalled launcher lets the child end on its own before passing SIGTERM on. Ctrl-C
     * reaches the whole process group, so the child has its own SIGINT already: a SIGTERM on its
     * heels would race it inside the child (each signal gets its own handler thread, and the first
     * to start the shutdown sets the status), and Ctrl-C would exit 143 instead of 130 now and
     * then. A signal sent to the launcher alone reaches the child this much later.
     */
    static final long SIGNAL_GRACE_MS = 500;

    /** Runs the child to its end; its exit status, or null when it could not be started. */
    static Integer run(List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        OPTION_VARIABLES.forEach(pb.environment()::remove);   // already in the child's options
        if (asciiFileNames(System.getProperty("sun.jnu.encoding"))) pb.environment().put("LC_ALL", UTF8_LOCALE);
        // A signal to this launcher: pass it on, wait for the child, leave with its status. The
        // hook is in place before the child starts, so no signal falls between the two; one that
        // comes before the child is known leaves the child to notice its launcher is gone.
        AtomicReference<Process> started = new AtomicReference<>();
        Thread hook = new Thread(() -> {
            Process c = started.get();
            if (c == null) return;
            try {
                if (!c.waitFor(SIGNAL_GRACE_MS, TimeUnit.MILLISECONDS)) c.destroy();
            } catch (InterruptedException e) {
                c.destroy();
            }
            Runtime.getRuntime().halt(waitFor(c));
        }, "convunext-relaunch-signal");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return 143;   // a signal came first: start nothing
        }
        Process child;
        try {
            child = pb.start();
        } catch (IOException | RuntimeException e) {
            removeHook(hook);
            System.err.println("note: could not restart java with " + cmd.subList(1, cmd.size()) + " (" + e.getMessage()
                    + "); continuing without those flags");
            return null;
        }
        started.set(child);
        int code = waitFor(child);
        removeHook(hook);
        return code;
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // a signal came as the child ended: the hook exits with the same status
        }
    }

    private static int waitFor(Process p) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return p.waitFor();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** In the child: exit when the launcher is gone (it was SIGKILLed and could not pass a signal on). */
    private static void exitWhenGone(String launcherPid) {
        long pid;
        try {
            pid = Long.parseLong(launcherPid);
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        if (parent.isPresent() && parent.get().pid() == pid) {
            parent.get().onExit().thenRun(() -> launcherGone(pid));
            return;
        }
        // Not (or no longer) that launcher's child. If the launcher is gone it died between starting
        // this JVM and this check (this JVM now belongs to init): stop, as if watching had begun.
        // A live process of that pid that is not the parent means the marker was given by hand.
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) launcherGone(pid);
    }

    private static void launcherGone(long pid) {
        System.err.println("convunext: launcher process " + pid + " ended; stopping");
        System.exit(143);
    }
}
