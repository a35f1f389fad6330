package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JCuda's native libraries are put where JCuda loads them whole, never half-written (JCudaNatives). */
class JCudaNativesTest {
    @TempDir Path dir;

    private static byte[] resource(String file) throws IOException {
        try (InputStream in = JCudaNativesTest.class.getResourceAsStream("/lib/" + file)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    /** Our file name is the one JCuda's LibUtils loads (checked against the platform's naming and the jar's resource). */
    @Test void fileNameIsJCudas() throws IOException {
        String name = JCudaNatives.fileName("JCudaDriver");
        Assumptions.assumeTrue(resource(name) != null, "no JCuda natives for this platform in the build");
        if ("Linux".equals(System.getProperty("os.name")) && "amd64".equals(System.getProperty("os.arch")))
            assertEquals("libJCudaDriver-" + jcuda.JCudaVersion.get() + "-linux-x86_64.so", name);
        assertTrue(name.startsWith(System.mapLibraryName("JCudaDriver-" + jcuda.JCudaVersion.get()).replaceFirst("\\.[a-z]+$", "")), name);
    }

    @Test void everyLibraryInTheJarIsWrittenWhole() throws IOException {
        List<Path> written = new ArrayList<>();
        for (String name : JCudaNatives.LIBRARIES) {
            Path p = JCudaNatives.place(dir, name);
            if (p != null) written.add(p);
        }
        Assumptions.assumeFalse(written.isEmpty(), "no JCuda natives for this platform in the build");
        assertTrue(written.contains(dir.resolve(JCudaNatives.fileName("JCudaDriver"))), written.toString());
        for (Path p : written) assertArrayEquals(resource(p.getFileName().toString()), Files.readAllBytes(p), p.toString());
        try (var s = Files.list(dir)) {
            assertEquals(written.size(), s.count(), "no part files left beside the libraries");
        }
        for (String[] group : new String[][] {JCudaNatives.DRIVER, JCudaNatives.CUBLAS, JCudaNatives.CUDNN})
            for (String name : group) assertTrue(JCudaNatives.LIBRARIES.contains(name), name);
    }

    /** A library file of the right size but other bytes (the size-and-CRC check) is replaced; a whole one is kept. */
    @Test void aCorruptLibraryOfTheRightSizeIsReplaced() throws IOException {
        String file = JCudaNatives.fileName("JCudaDriver");
        byte[] lib = resource(file);
        Assumptions.assumeTrue(lib != null, "no JCuda natives for this platform in the build");
        Path target = dir.resolve(file);
        byte[] bad = lib.clone();
        bad[bad.length / 2] ^= 1;
        Files.write(target, bad);
        assertEquals(target, JCudaNatives.place(dir, "JCudaDriver"));
        assertArrayEquals(lib, Files.readAllBytes(target));
        Object key = Files.readAttributes(target, BasicFileAttributes.class).fileKey();
        JCudaNatives.place(dir, "JCudaDriver");
        assertEquals(key, Files.readAttributes(target, BasicFileAttributes.class).fileKey(), "a whole file is not rewritten");
    }

    /** A file cut short (a JCuda write killed halfway, or another process's write still going) is replaced. */
    @Test void aTruncatedFileIsReplaced() throws IOException {
        byte[] bytes = random(1 << 20, 1);
        Path target = dir.resolve("libX.so");
        Files.write(target, Arrays.copyOf(bytes, bytes.length / 2));
        AtomicFiles.writeUnlessHeld(target, bytes);
        assertArrayEquals(bytes, Files.readAllBytes(target));
        Files.write(target, random(bytes.length, 2));   // same size, other bytes
        AtomicFiles.writeUnlessHeld(target, bytes);
        assertArrayEquals(bytes, Files.readAllBytes(target));
    }

    /** A whole file is left as it is (the same file, not rewritten). */
    @Test void aWholeFileIsLeftAlone() throws IOException {
        byte[] bytes = random(1 << 16, 3);
        Path target = dir.resolve("libY.so");
        AtomicFiles.writeUnlessHeld(target, bytes);
        Object key = Files.readAttributes(target, BasicFileAttributes.class).fileKey();
        AtomicFiles.writeUnlessHeld(target, bytes);
        assertEquals(key, Files.readAttributes(target, BasicFileAttributes.class).fileKey());
        assertArrayEquals(bytes, Files.readAllBytes(target));
    }

    /**
     * Writers racing to create the file (each deleting it first, as on a fresh tmp) while a reader
     * looks at the name: the reader only ever finds no file or the whole one. JCuda's own in-place
     * write shows a partial file in this test's first milliseconds.
     */
    @Test void racingWritersNeverShowAPartialFile() throws Exception {
        byte[] bytes = random(4 << 20, 4);
        Path target = dir.resolve("libZ.so");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 3; w++)
            threads.add(new Thread(() -> {
                try {
                    while (!stop.get()) {
                        Files.deleteIfExists(target);
                        AtomicFiles.writeUnlessHeld(target, bytes);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        int[] seen = new int[1];
        threads.add(new Thread(() -> {
            while (!stop.get()) {
                try {
                    byte[] got = Files.readAllBytes(target);
                    seen[0]++;
                    if (!Arrays.equals(bytes, got))
                        failure.compareAndSet(null, new AssertionError("a reader found " + got.length + " bytes of " + bytes.length));
                } catch (java.nio.file.NoSuchFileException absent) {
                    // no file: fine
                } catch (IOException e) {
                    failure.compareAndSet(null, e);
                }
            }
        }));
        threads.forEach(Thread::start);
        Thread.sleep(1500);
        stop.set(true);
        for (Thread t : threads) t.join(30_000);
        if (failure.get() != null) throw new AssertionError(failure.get());
        assertTrue(seen[0] > 0, "the reader never found the file");
        try (var s = Files.list(dir)) {
            assertEquals(List.of(target), s.toList(), "no part files left");
        }
    }

    /**
     * JVMs started together on a fresh tmp folder all open (or fail to open) the CUDA device and
     * exit normally: before JCudaNatives two such JVMs could crash in the dynamic loader (SIGBUS)
     * on JCuda's half-written library.
     */
    @Test void jvmsStartedTogetherDoNotCrash() throws Exception {
        Assumptions.assumeTrue(resource(JCudaNatives.fileName("JCudaDriver")) != null, "no JCuda natives for this platform in the build");
        String java = ProcessHandle.current().info().command().orElse("java");
        for (int round = 0; round < 2; round++) {
            Path tmp = Files.createDirectory(dir.resolve("tmp" + round));
            List<Process> ps = new ArrayList<>();
            for (int i = 0; i < 4; i++)
                ps.add(new ProcessBuilder(java, "-Xmx128m", "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"),
                        Child.class.getName()).redirectErrorStream(true).start());
            for (Process p : ps) {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(2, TimeUnit.MINUTES), "a JVM did not finish");
                assertEquals(0, p.exitValue(), out);
                assertTrue(out.contains("probed: "), out);
                assertFalse(out.contains("fatal error"), out);
            }
            byte[] lib = resource(JCudaNatives.fileName("JCudaDriver"));
            assertNotNull(lib);
            assertArrayEquals(lib, Files.readAllBytes(tmp.resolve(JCudaNatives.fileName("JCudaDriver"))));
        }
    }

    /** Opens the CUDA device once (a GPU, or the reason there is none) and says so. */
    static final class Child {
        public static void main(String[] args) {
            String why = JCudaDevice.probe();
            System.out.println("probed: " + (why == null ? "a GPU" : why.lines().findFirst().orElse("")));
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
