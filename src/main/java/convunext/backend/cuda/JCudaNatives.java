package convunext.backend.cuda;

import convunext.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;

/**
 * JCuda's native libraries put in place, whole, before JCuda loads one.
 *
 * <p>JCuda (jcuda.LibUtils, 12.6) loads a native library it cannot find on java.library.path
 * from the jar: it writes the resource {@code /lib/libJCudaDriver-12.6.0-linux-x86_64.so} to
 * {@code java.io.tmpdir} under that fixed name when no file of that name exists, in place and
 * piece by piece, then {@code System.load}s the file. A second JVM starting meanwhile sees the
 * name, loads the half-written file, and dies in the dynamic loader (SIGBUS: seen here with two
 * {@code train} runs started together on a machine whose tmp was fresh; every command opens the
 * CUDA backend first under the default device {@code auto}). A file cut short by a kill in the
 * middle of that write stays behind and breaks every later start the same way.
 *
 * <p>So before the first JCuda class loads, each of JCuda's libraries in the jar is checked at
 * the path JCuda will use and, unless a file with exactly the resource's bytes is there, written
 * to a fresh file in the same folder and renamed onto the name in one atomic step
 * ({@link AtomicFiles}). Whoever looks
 * at the name then sees no file or a whole one; a JVM that already mapped an older file keeps it.
 * Any failure here (no such resource, a read-only or foreign file, no atomic rename) leaves JCuda
 * to its own way, as before: this only narrows what can go wrong.
 */
public final class JCudaNatives {
    private JCudaNatives() {}

    /** The libraries of JCuda, jcublas and jcudnn (file names as JCuda's LibUtils makes them). */
    static final List<String> LIBRARIES = List.of("JCudaDriver", "JCudaRuntime", "JCublas2", "JCublas", "JCudnn", "JNvrtc");
    /** What the driver API needs (JCudaDriver), cuBLAS (JCublas2 and the runtime it initialises), cuDNN. */
    public static final String[] DRIVER = {"JCudaDriver"}, CUBLAS = {"JCudaRuntime", "JCublas2", "JCublas"},
            CUDNN = {"JCudaRuntime", "JCudnn"};

    private static final Set<String> DONE = new HashSet<>();

    /**
     * Puts these of JCuda's libraries in place under java.io.tmpdir, each once per JVM, before the
     * JCuda class that loads it is first used. Never throws.
     */
    public static void prepare(String... libraries) {
        for (String name : libraries) {
            synchronized (DONE) {
                if (!DONE.add(name)) continue;
            }
            try {
                place(Path.of(System.getProperty("java.io.tmpdir")), name);
            } catch (RuntimeException | LinkageError | IOException ignored) {
                // JCuda extracts (or fails) by itself, as without this class
            }
        }
    }

    /**
     * Library {@code name} of the jar checked in dir and, where needed, written whole there; its
     * path, or null when the jar has none for this platform. A file of the jar entry's size and
     * CRC-32 is taken as whole without inflating the entry (a CUDA start reads 1.2 MB, not the jar's
     * 4.5 MB of libraries); otherwise the bytes themselves decide ({@link AtomicFiles#writeUnlessHeld}).
     */
    static Path place(Path dir, String name) throws IOException {
        String file = fileName(name);
        URL url = jcuda.LibUtils.class.getResource("/lib/" + file);
        if (url == null) return null;
        Path target = dir.resolve(file);
        if (url.openConnection() instanceof JarURLConnection jar) {
            JarEntry e = jar.getJarEntry();
            if (e != null && e.getSize() >= 0 && e.getCrc() >= 0 && Files.isRegularFile(target) && Files.size(target) == e.getSize()
                    && crc32(target) == e.getCrc())
                return target;
        }
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        AtomicFiles.writeUnlessHeld(target, bytes);
        return target;
    }

    private static long crc32(Path file) throws IOException {
        CRC32 c = new CRC32();
        c.update(Files.readAllBytes(file));
        return c.getValue();
    }

    /** JCuda's file name for a library: lib + name-version-os-arch + .so (the resource's name in /lib too). */
    static String fileName(String library) {
        return jcuda.LibUtils.createLibraryFileName(jcuda.LibUtils.createPlatformLibraryName(library + "-" + jcuda.JCudaVersion.get()));
    }
}
