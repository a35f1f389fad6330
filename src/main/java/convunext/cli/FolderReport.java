package convunext.cli;

import java.util.List;

/** The end of a folder command (predict, evaluate): the files that could not be used, one line each. */
final class FolderReport {
    private FolderReport() {}

    /** Prints the failures (if any) on stderr and returns the exit code: 0, or 2 when any file failed. */
    static int finish(List<String> failed, int total, String what, String noneNote) {
        if (failed.isEmpty()) return Main.OK;
        if (Interrupts.stopping()) return Main.BAD_INPUT;
        System.err.println("error: " + (failed.size() == total
                ? "none of the " + total + " " + what + " could be used (" + noneNote + "):"
                : failed.size() + " of " + total + " " + what + " could not be used (the others are done):"));
        for (String f : failed) System.err.println("  " + f);
        System.err.flush();
        return Main.BAD_INPUT;
    }
}
