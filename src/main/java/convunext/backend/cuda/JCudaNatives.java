package convunext.backend.cuda;

import convunext.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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

    private static boolean prepared;

    /** Puts JCuda's libraries in place under java.io.tmpdir, once per JVM. Never throws. */
    public static synchronized void prepare() {
        if (prepared) return;
        prepared = true;
        try {
            prepare(Path.of(System.getProperty("java.io.tmpdir")));
        } catch (RuntimeException | LinkageError | IOException ignored) {
            // JCuda extracts (or fails) by itself, as without this class
        }
    }

    /** The libraries found in the jar, each checked and, where needed, written whole into dir; returns their paths. */
    static List<Path> prepare(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        for (String name : LIBRARIES) {
            String file = fileName(name);
            byte[] bytes = resource("/lib/" + file);
            if (bytes == null) continue;
            Path target = dir.resolve(file);
            try {
                ensure(target, bytes);
                out.add(target);
            } catch (IOException e) {
                // this one left to JCuda; the others still get their chance
            }
        }
        return out;
    }

    /** JCuda's file name for a library: lib + name-version-os-arch + .so (the resource's name in /lib too). */
    static String fileName(String library) {
        return jcuda.LibUtils.createLibraryFileName(jcuda.LibUtils.createPlatformLibraryName(library + "-" + jcuda.JCudaVersion.get()));
    }

    /**
     * Makes {@code target} hold exactly {@code bytes}: left alone when it does, else written by
     * {@link AtomicFiles} (a sibling temporary file renamed onto it). IOException when that cannot
     * be done, unless another process put the same bytes there meanwhile (the caller then leaves
     * the library to JCuda).
     */
    static void ensure(Path target, byte[] bytes) throws IOException {
        if (holds(target, bytes)) return;
        try {
            AtomicFiles.write(target, out -> out.write(bytes));
        } catch (UncheckedIOException e) {
            if (!holds(target, bytes)) throw e.getCause();
        }
    }

    /** Whether path is a regular file with exactly these bytes. */
    static boolean holds(Path path, byte[] bytes) {
        try {
            return Files.isRegularFile(path) && Files.size(path) == bytes.length && Arrays.equals(Files.readAllBytes(path), bytes);
        } catch (IOException e) {
            return false;
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = jcuda.LibUtils.class.getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        }
    }
}
