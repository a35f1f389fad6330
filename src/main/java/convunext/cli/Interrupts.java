package convunext.cli;

import java.util.function.Supplier;

/**
 * The one line printed when Ctrl-C (SIGINT) or SIGTERM stops a running command. The JVM then
 * exits with 130 (SIGINT) or 143 (SIGTERM) as usual; {@code io.AtomicFiles}' own shutdown hook
 * deletes the temporary files being written, so no output is left half-written. A command may
 * say what the interruption leaves behind (the last checkpoint, the masks written so far).
 */
final class Interrupts {
    private Interrupts() {}

    private static volatile boolean running, stopping;
    private static volatile Supplier<String> note = () -> null;

    /** Installs the hook; only {@code main} does this (tests call {@link Main#execute} in one JVM). */
    static void install() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!running) return;
            stopping = true;
            String n;
            try {
                n = note.get();
            } catch (RuntimeException e) {
                n = null;
            }
            System.err.println("error: interrupted; temporary files removed" + (n == null ? "" : "; " + n));
            System.err.flush();
        }, "convunext-interrupt-note"));
    }

    static void started() {
        note = () -> null;
        running = true;
    }

    static void finished() {
        running = false;
        note = () -> null;
    }

    /**
     * Whether the JVM is stopping on a signal: the command's own thread may still fail meanwhile
     * (its temporary file was just deleted), and that must not add lines to the one printed here.
     */
    static boolean stopping() { return stopping; }

    /** What an interruption now would leave behind (called from the shutdown hook's thread). */
    static void note(Supplier<String> what) { note = what; }
}
