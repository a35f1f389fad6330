package convunext.train;

import convunext.io.AtomicFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The earlier run that {@code train --overwrite} replaces, kept in {@code <out>/.replaced-run}
 * until the new run has written its first checkpoint: {@link #drop} then deletes it, {@link #restore}
 * puts it back when the new run ends without one. After a kill it stays there, and the next run in
 * the folder finds it ({@link #setAside}).
 */
final class ReplacedRun {
    /** The folder inside --out that keeps the run being replaced. */
    static final String DIR = ".replaced-run";
    /** The checkpoint every epoch ends with (after best.safetensors): its presence marks a finished checkpoint. */
    static final String LAST = "last.safetensors";

    private final Path out, dir;
    private final PrintStream log;

    private ReplacedRun(Path out, PrintStream log) {
        this.out = out;
        this.dir = out.resolve(DIR);
        this.log = log;
    }

    /**
     * Settles {@code out}'s earlier run before a new one starts: with {@code overwrite}, its files
     * ({@code earlier}, names inside {@code out}) are set aside and the kept run is returned; an
     * interrupted replacement's leftovers are dropped when a newer run exists, taken over with
     * {@code overwrite}, and refused without it. Null when nothing is kept.
     */
    static ReplacedRun setAside(Path out, List<String> earlier, boolean overwrite, PrintStream log) throws IOException {
        ReplacedRun r = new ReplacedRun(out, log);
        if (Files.exists(r.dir)) {
            // last.safetensors is the first file set aside and the replacing run's checkpoint writes it
            // after best.safetensors: only with it in --out did that run finish a checkpoint. Anything
            // else beside .replaced-run (the replacing run's best.safetensors, killed before its
            // last.safetensors; the earlier run's files not yet set aside) is not a newer run.
            if (Files.exists(out.resolve(LAST))) {
                deleteTree(r.dir);   // the replacing run wrote its first checkpoint and stopped before removing them
            } else if (overwrite) {
                for (String f : earlier) {
                    if (Files.exists(r.dir.resolve(f))) Files.delete(out.resolve(f));   // the killed replacing run's
                    else AtomicFiles.rename(out.resolve(f), r.dir.resolve(f));          // the earlier run's, not yet set aside
                }
                log.println("--overwrite: " + r.dir + " keeps the run an interrupted --overwrite was replacing;"
                        + " it is removed once this run writes its first checkpoint");
                return r;
            } else {
                throw new IllegalArgumentException(out + " holds no complete run"
                        + (earlier.isEmpty() ? "" : " (only " + String.join(", ", earlier) + ")") + ", but " + r.dir
                        + " keeps the one an interrupted --overwrite was replacing: restore it (move its files back into " + out
                        + "), replace it with --overwrite, or choose another --out");
            }
        }
        if (earlier.isEmpty() || !overwrite) return null;
        Files.createDirectories(r.dir);
        List<String> order = new java.util.ArrayList<>(earlier);
        if (order.remove(LAST)) order.add(0, LAST);   // first: see above
        for (String f : order) AtomicFiles.rename(out.resolve(f), r.dir.resolve(f));
        log.println("--overwrite: moved the earlier run's " + String.join(", ", earlier) + " to " + r.dir
                + "; removed once this run writes its first checkpoint");
        return r;
    }

    Path dir() { return dir; }

    /** The new run has its first checkpoint: the replaced run goes. */
    void drop() {
        try {
            deleteTree(dir);
            log.println("--overwrite: removed the earlier run (" + dir + ")");
        } catch (IOException e) {
            log.println("--overwrite: could not remove " + dir + " (" + e.getMessage() + "); delete it by hand");
        }
    }

    /** The new run ended before its first checkpoint (it wrote none of these files): they go back. */
    void restore() {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) AtomicFiles.rename(f, out.resolve(f.getFileName()));
            Files.delete(dir);
            log.println("--overwrite: this run stopped before its first checkpoint; the earlier run is back in " + out);
        } catch (IOException e) {
            log.println("--overwrite: the earlier run stays in " + dir + " (" + e.getMessage() + ")");
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }
}
