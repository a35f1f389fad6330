package convunext.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * An output folder held by one run: created if needed, locked for the run's lifetime, and cleared
 * of temporary files an earlier killed run left behind.
 *
 * <p>The lock is an OS file lock ({@link FileChannel#tryLock}) on {@code <folder>/.convunext.lock}:
 * a second run into the same folder is refused with the holder's pid and command, and because the
 * OS drops the lock when its process dies (Ctrl-C, kill -9, a crash) a stale lock never blocks. The
 * lock file stays in the folder (deleting it on exit would let two later runs lock two different
 * files under one name).
 */
public final class OutputFolder implements AutoCloseable {
    public static final String LOCK_FILE = ".convunext.lock";

    /**
     * Another run holds the folder: a state that passes (an IllegalStateException, as the API's
     * {@code Trainer.run} documents), not a bad argument.
     */
    public static final class Busy extends IllegalStateException {
        Busy(String m) { super(m); }
    }

    /** Folders locked by this JVM (real path → holder): a second channel must not even be opened,
     *  because closing it would drop the first one's POSIX lock. */
    private static final java.util.Map<Path, String> HELD = new java.util.concurrent.ConcurrentHashMap<>();

    private final Path dir, key;
    private final FileChannel channel;
    private final FileLock lock;
    private final List<String> removedStale;

    private OutputFolder(Path dir, Path key, FileChannel channel, FileLock lock, List<String> removedStale) {
        this.dir = dir;
        this.key = key;
        this.channel = channel;
        this.lock = lock;
        this.removedStale = removedStale;
    }

    /**
     * Creates {@code dir} if needed and locks it for {@code command} (a short description such as
     * "train" shown to a second run). Throws {@link Busy} if another run holds it, and an
     * {@link UncheckedIOException} naming the folder if it cannot be created or written.
     */
    public static OutputFolder lock(Path dir, String command) {
        if (Files.exists(dir) && !Files.isDirectory(dir))
            throw new IllegalArgumentException("output folder " + dir + " is an existing file, not a folder");
        FileChannel ch = null;
        Path key = null;
        try {
            Files.createDirectories(dir);
            Path lockFile = dir.resolve(LOCK_FILE);
            String who = "pid " + ProcessHandle.current().pid() + ", " + command + ", since "
                    + Instant.now().truncatedTo(ChronoUnit.SECONDS);
            Path real = dir.toRealPath();
            String other = HELD.putIfAbsent(real, who);
            if (other != null) throw busy(dir, other);
            key = real;
            // The lock file is truncated and written: never through a symlink, which could name any file.
            if (Files.isSymbolicLink(lockFile))
                throw new IllegalArgumentException("output folder " + dir + ": its lock file " + lockFile + " is a symbolic link (to "
                        + Files.readSymbolicLink(lockFile) + "); remove the link or choose another output folder");
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException sameJvm) {
                l = null;
            }
            if (l == null) throw busy(dir, holder(lockFile));
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((who + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            List<String> stale = AtomicFiles.removeStale(dir);
            OutputFolder f = new OutputFolder(dir, real, ch, l, stale);
            ch = null;
            key = null;
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to output folder " + dir + ": " + AtomicFiles.describe(e), e);
        } finally {
            if (ch != null) try { ch.close(); } catch (IOException ignored) { /* nothing held */ }
            if (key != null) HELD.remove(key);
        }
    }

    /**
     * Whether a run holds {@code dir} now (this JVM or another process): for picking a fresh default
     * folder, which must skip one whose run has not written its first result yet. Probes the lock
     * without creating anything; never opens a second channel on a lock this JVM holds (closing it
     * would drop that lock).
     */
    public static boolean inUse(Path dir) {
        Path lockFile = dir.resolve(LOCK_FILE);
        if (!Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) return false;
        try {
            if (HELD.containsKey(dir.toRealPath())) return true;
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                FileLock l = ch.tryLock();
                if (l == null) return true;
                l.release();
                return false;
            }
        } catch (OverlappingFileLockException sameJvm) {
            return true;
        } catch (IOException e) {
            return false;   // unreadable: lock() will say why, naming the folder
        }
    }

    private static Busy busy(Path dir, String holder) {
        return new Busy("output folder " + dir + " is in use by another run" + (holder.isEmpty() ? "" : " (" + holder + ")")
                + "; wait for it to finish or choose another output folder");
    }

    private static String holder(Path lockFile) {
        try {
            return Files.readString(lockFile, StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    public Path dir() { return dir; }

    /** Names of the temporary files of an interrupted earlier run that were deleted when locking. */
    public List<String> removedStale() { return removedStale; }

    /** One line for the log when stale temporary files were removed, else null. */
    public String staleNote() {
        if (removedStale.isEmpty()) return null;
        return "removed " + removedStale.size() + " temporary file(s) an interrupted run left in " + dir + ": "
                + String.join(", ", removedStale.size() > 3 ? removedStale.subList(0, 3) : removedStale)
                + (removedStale.size() > 3 ? ", …" : "");
    }

    private boolean closed;

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            if (lock.isValid()) lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the OS drops the lock with the process anyway
        } finally {
            HELD.remove(key);
        }
    }
}
