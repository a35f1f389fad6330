package convunext.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One run per output folder; a killed run's temporary files are cleared at the next start. */
class OutputFolderTest {
    @TempDir Path dir;

    @Test void aSecondHolderIsRefusedNamingTheFirstAndTheLockIsFreedOnClose() {
        Path out = dir.resolve("run");
        try (OutputFolder a = OutputFolder.lock(out, "train --out run")) {
            OutputFolder.Busy e = assertThrows(OutputFolder.Busy.class, () -> OutputFolder.lock(out, "predict"));
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()) && e.getMessage().contains("train --out run"),
                    e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
            // the same folder under another name (a symlink) is the same lock
            Path link;
            try {
                link = Files.createSymbolicLink(dir.resolve("link"), out);
            } catch (Exception unsupported) {
                link = null;
            }
            if (link != null) {
                Path l = link;
                assertThrows(OutputFolder.Busy.class, () -> OutputFolder.lock(l, "x"));
            }
        }
        try (OutputFolder b = OutputFolder.lock(out, "again")) {
            assertEquals(out, b.dir());
        }
    }

    /** A second process holding a folder, for {@link #inUseSeesHoldersInThisJvmAndInOtherProcesses}. */
    public static final class Holder {
        public static void main(String[] a) throws Exception {
            try (OutputFolder f = OutputFolder.lock(Path.of(a[0]), "holder")) {
                System.out.println("locked");
                System.out.flush();
                System.in.read();   // until the test closes our stdin
            }
        }
    }

    /** A fresh default folder must skip one whose run has written nothing yet: the lock says it is taken. */
    @Test void inUseSeesHoldersInThisJvmAndInOtherProcesses() throws Exception {
        Path out = dir.resolve("run");
        assertFalse(OutputFolder.inUse(out));
        try (OutputFolder a = OutputFolder.lock(out, "here")) {
            assertTrue(OutputFolder.inUse(out));
            assertThrows(OutputFolder.Busy.class, () -> OutputFolder.lock(out, "again"), "probing kept the lock");
        }
        assertFalse(OutputFolder.inUse(out), "a lock file nobody holds is free");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Holder.class.getName(), out.toString()).redirectErrorStream(true).start();
        try {
            assertEquals("locked", new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine());
            assertTrue(OutputFolder.inUse(out));
            assertTrue(OutputFolder.inUse(out), "probing twice keeps the other process's lock");
        } finally {
            p.getOutputStream().close();
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        }
        assertFalse(OutputFolder.inUse(out));
    }

    @Test void staleTemporaryFilesAreRemovedAndReported() throws Exception {
        Path out = Files.createDirectories(dir.resolve("run"));
        Path stale = Files.writeString(out.resolve(".last.safetensors.convunext-4242-7.tmp"), "half");
        Path user = Files.writeString(out.resolve(".notes.tmp"), "not ours");
        try (OutputFolder f = OutputFolder.lock(out, "train")) {
            assertEquals(List.of(stale.getFileName().toString()), f.removedStale());
            assertTrue(f.staleNote().contains("interrupted run"), f.staleNote());
        }
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(user), "only files named like ours are removed");
        try (OutputFolder f = OutputFolder.lock(out, "train")) {
            assertNull(f.staleNote());
        }
    }

    @Test void aFileOrAnUnwritablePlaceIsOneLine() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OutputFolder.lock(file, "t"));
        assertTrue(e.getMessage().contains("existing file"), e.getMessage());
        UncheckedIOException u = assertThrows(UncheckedIOException.class, () -> OutputFolder.lock(file.resolve("sub"), "t"));
        assertTrue(u.getMessage().contains(file.resolve("sub").toString()), u.getMessage());
    }

    /**
     * Exactly one atomic-file writer in the code base: every rename over an output is in
     * AtomicFiles (SafeTensors, PNGs, CSV and JSON all go through it).
     */
    @Test void atomicFilesIsTheOnlyRenamingWriter() throws Exception {
        try (Stream<Path> s = Files.walk(Path.of("src/main/java"))) {
            for (Path p : s.filter(f -> f.toString().endsWith(".java")).toList()) {
                String src = Files.readString(p);
                boolean renames = src.contains("ATOMIC_MOVE") || src.contains("Files.move(");
                assertEquals(p.endsWith(Path.of("convunext/io/AtomicFiles.java")), renames, p + " renames files itself");
                if (p.toString().contains("/convunext/cli/") || p.toString().contains("/convunext/train/")
                        || p.toString().contains("/convunext/eval/") || p.toString().contains("/convunext/data/"))
                    assertFalse(java.util.regex.Pattern.compile("(?<![A-Za-z])Files\\.(write|writeString|newOutputStream)\\(").matcher(src).find(),
                            p + " writes an output without AtomicFiles");
            }
        }
    }

    @Test void aFailedWriteLeavesNeitherTargetNorTemporary() throws Exception {
        Path target = dir.resolve("x.csv");
        Files.writeString(target, "old");
        assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(target, out -> {
            out.write("half".getBytes());
            throw new java.io.IOException("disk full");
        }));
        assertEquals("old", Files.readString(target), "the earlier file is untouched");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(AtomicFiles::isTemp));
        }
        assertEquals(0, AtomicFiles.inFlight());
    }

    /** A long valid output name gets a temporary name within 255 bytes, unique and still recognised as ours (audit D5). */
    @Test void temporaryNamesStayWithinTheNameLimit() throws Exception {
        for (String name : new String[] {"x".repeat(240) + ".png", "é".repeat(125) + ".png", "🙂".repeat(62) + ".png", "a.png"}) {
            String t = AtomicFiles.tempName(name, ProcessHandle.current().pid(), 123456789L);
            assertTrue(t.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 255, t.length() + ": " + t);
            assertTrue(AtomicFiles.isTemp(Path.of(t)), t);
            assertTrue(t.startsWith("." + name.substring(0, 1)) && t.endsWith("-123456789.tmp"), t);
            assertNotEquals(t, AtomicFiles.tempName(name, ProcessHandle.current().pid(), 123456790L));
        }
        assertEquals(".a.png.convunext-7-1.tmp", AtomicFiles.tempName("a.png", 7, 1), "short names as before");
        Path target = dir.resolve("x".repeat(240) + ".png");
        AtomicFiles.writeString(target, "ok");
        assertEquals("ok", Files.readString(target));
    }

    /** A lock file that is a symlink is refused and its target left alone (audit D14). */
    @Test void aSymlinkedLockFileIsNeverFollowed() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim.txt"), "keep");
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.createSymbolicLink(out.resolve(OutputFolder.LOCK_FILE), victim);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OutputFolder.lock(out, "predict"));
        assertTrue(e.getMessage().contains("symbolic link") && e.getMessage().contains(victim.toString()), e.getMessage());
        assertEquals("keep", Files.readString(victim));
        Files.delete(out.resolve(OutputFolder.LOCK_FILE));
        try (OutputFolder f = OutputFolder.lock(out, "again")) {   // the refusal held nothing
            assertTrue(Files.isRegularFile(f.dir().resolve(OutputFolder.LOCK_FILE), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        }
    }
}
