package convunext.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The project's one way to write an output file (masks, CSV, JSON, PNG curves, checkpoints): into
 * a temporary sibling {@code .<name>.convunext-<pid>-<n>.tmp}, flushed to disk, then renamed over
 * the target. A reader, a crash or a kill -9 therefore never sees a half-written file.
 *
 * <p>Temporary files in flight are registered; a JVM shutdown hook (Ctrl-C = SIGINT, SIGTERM)
 * deletes them. A kill -9 leaves one behind: {@link #removeStale} deletes them at the next start
 * in that folder (under the folder's lock, see {@link OutputFolder}, so none belongs to a live run).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Body of a write: fills the stream. */
    @FunctionalInterface
    public interface Writer { void write(OutputStream out) throws IOException; }

    private static final String MARK = ".convunext-";
    private static final Pattern TEMP = Pattern.compile("^\\..+\\.convunext-\\d+-\\d+\\.tmp$");
    private static final AtomicLong SEQ = new AtomicLong();
    private static final Set<Path> IN_FLIGHT = ConcurrentHashMap.newKeySet();
    private static boolean shuttingDown;   // guarded by IN_FLIGHT

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::deleteInFlight, "convunext-temp-cleanup"));
    }

    /**
     * Test hook, off by default: milliseconds to pause after the body is written and before the
     * rename, so a test can interrupt or kill a process while its temporary file exists.
     */
    private static final long PAUSE_MS = Long.getLong("convunext.test.atomicWritePauseMs", 0L);

    public static void write(Path target, Writer body) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            if (Files.isDirectory(abs)) throw new IOException("it is a folder");
            if (dir != null) Files.createDirectories(dir);
            tmp = abs.resolveSibling(tempName(abs.getFileName().toString(), ProcessHandle.current().pid(), SEQ.incrementAndGet()));
            try (FileChannel ch = create(tmp)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                body.write(out);
                out.flush();
                ch.force(true);
            }
            if (PAUSE_MS > 0) pause();
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = forget(tmp);
            syncFolder(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + describe(e), e);
        } finally {
            if (tmp != null) {
                try { Files.deleteIfExists(tmp); } catch (IOException ignored) { /* best effort */ }
                forget(tmp);
            }
        }
    }

    /** Longest file name (bytes) the usual file systems take (ext4, XFS, btrfs, APFS, NTFS in UTF-16 units). */
    static final int NAME_MAX = 255;

    /**
     * {@code .<name>.convunext-<pid>-<n>.tmp}, with {@code name} cut (whole code points) so the whole
     * stays within {@link #NAME_MAX} UTF-8 bytes: a valid long target name must not fail for its
     * temporary one. pid and n keep it unique; it still matches {@link #isTemp}.
     */
    static String tempName(String name, long pid, long n) {
        String tail = MARK + pid + "-" + n + ".tmp";
        int room = NAME_MAX - 1 - tail.length();   // tail is ASCII: one byte a char
        int end = name.length(), bytes = name.getBytes(StandardCharsets.UTF_8).length;
        while (bytes > room && end > 0) {
            int cp = name.codePointBefore(end);
            end -= Character.charCount(cp);
            bytes -= new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
        }
        return "." + (end == 0 ? "_" : name.substring(0, end)) + tail;   // never empty: isTemp needs one char
    }

    /**
     * Makes {@code target} hold exactly {@code bytes}: left alone when it does (a reader that has
     * it open or mapped keeps it), else {@link #write}n. A file shared by concurrent processes (a
     * native library in java.io.tmpdir) is then never seen half-written. IOException when it cannot
     * be written, unless another process put the same bytes there meanwhile.
     */
    public static void writeUnlessHeld(Path target, byte[] bytes) throws IOException {
        if (holds(target, bytes)) return;
        try {
            write(target, out -> out.write(bytes));
        } catch (UncheckedIOException e) {
            if (!holds(target, bytes)) throw e.getCause();
        }
    }

    /** Whether path is a regular file with exactly these bytes. */
    public static boolean holds(Path path, byte[] bytes) {
        try {
            return Files.isRegularFile(path) && Files.size(path) == bytes.length && Arrays.equals(Files.readAllBytes(path), bytes);
        } catch (IOException e) {
            return false;
        }
    }

    public static void writeString(Path target, String text) {
        write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Moves a finished file to {@code target} on the same file system in one rename (never a copy),
     * refusing to replace an existing target: {@code train --overwrite} sets an earlier run aside
     * this way and puts it back if the new run fails before its first checkpoint.
     */
    public static void rename(Path source, Path target) throws IOException {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        if (Files.exists(source)) throw new IOException("moving " + source + " to " + target + " left the source in place");
    }

    /** Whether {@code p} is named like one of our temporary files. */
    public static boolean isTemp(Path p) {
        return p.getFileName() != null && TEMP.matcher(p.getFileName().toString()).matches();
    }

    /**
     * Deletes the temporary files a killed run left in {@code dir} (not in subfolders) and returns
     * their names. Call only while holding the folder's lock ({@link OutputFolder}): then no live
     * run of ours is writing there.
     */
    public static List<String> removeStale(Path dir) {
        return remove(dir, p -> false);
    }

    /**
     * {@link #removeStale} for a folder no lock guards (the built-in data set, which concurrent
     * runs may write at once): only files whose writer's pid (in the name, which {@link #isTemp}
     * checked) is no longer alive.
     */
    public static List<String> removeOrphans(Path dir) {
        return remove(dir, p -> {
            String n = p.getFileName().toString();
            int at = n.lastIndexOf(MARK) + MARK.length();
            try {
                return ProcessHandle.of(Long.parseLong(n.substring(at, n.indexOf('-', at)))).map(ProcessHandle::isAlive).orElse(false);
            } catch (NumberFormatException noSuchPid) {
                return false;
            }
        });
    }

    /** Deletes dir's temporary files but this JVM's in-flight ones and those {@code keep} names; returns their names. */
    private static List<String> remove(Path dir, java.util.function.Predicate<Path> keep) {
        List<String> removed = new ArrayList<>();
        if (!Files.isDirectory(dir)) return removed;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(AtomicFiles::isTemp).sorted().toList()) {
                if (IN_FLIGHT.contains(p.toAbsolutePath()) || keep.test(p)) continue;
                Files.deleteIfExists(p);
                removed.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean temporary files in " + dir + ": " + describe(e), e);
        }
        return removed;
    }

    /** Temporary files being written right now (for tests). */
    static int inFlight() { return IN_FLIGHT.size(); }

    /**
     * Creates and registers a temporary file, unless the JVM is shutting down: then the cleanup
     * hook may already have run, and a file made now would be left behind.
     */
    private static FileChannel create(Path tmp) throws IOException {
        synchronized (IN_FLIGHT) {
            if (shuttingDown) throw new IOException("the program is stopping");
            IN_FLIGHT.add(tmp);
            return FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
    }

    private static Path forget(Path tmp) {
        IN_FLIGHT.remove(tmp);
        return null;
    }

    private static void deleteInFlight() {
        synchronized (IN_FLIGHT) {
            shuttingDown = true;   // every file created before this point is in IN_FLIGHT; none is created after
        }
        for (Path p : IN_FLIGHT) {
            try { Files.deleteIfExists(p); } catch (IOException | RuntimeException ignored) { /* exiting anyway */ }
        }
    }

    /** Makes the rename itself durable (Linux; elsewhere opening a folder may fail: then skip). */
    private static void syncFolder(Path dir) {
        if (dir == null) return;
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException ignored) {
            // not supported on this platform: the data itself was forced before the rename
        }
    }

    private static void pause() {
        try {
            Thread.sleep(PAUSE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** "No space left on device" rather than the exception's class name alone. */
    static String describe(IOException e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.AccessDeniedException a) return "permission denied" + (a.getFile() != null ? " (" + a.getFile() + ")" : "");
        if (e instanceof java.nio.file.NoSuchFileException n) return "no such file or folder " + n.getFile();
        if (e instanceof java.nio.file.FileAlreadyExistsException x) return x.getFile() + " exists and is not a folder";
        if (e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) return fs.getReason();
        return m != null ? m : e.getClass().getSimpleName();
    }
}
