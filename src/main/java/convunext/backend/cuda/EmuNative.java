package convunext.backend.cuda;

import convunext.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.CRC32;

/**
 * JNI entry points of the emulator library (kernels/emu/jni_glue.cpp), and its loading: from
 * target/classes directly, or from the jar through one shared copy in java.io.tmpdir
 * ({@link #sharedCopy}). Failing calls throw {@link CudaError}.
 */
final class EmuNative {
    static final String RESOURCE = "/native/linux-x86_64/libconvunext_emu.so";

    private static String loadError;
    private static boolean loaded;

    private EmuNative() {}

    /** Loads the library once; returns null when loaded, else why not. */
    static synchronized String load() {
        if (loaded) return null;
        if (loadError != null) return loadError;
        try {
            String os = System.getProperty("os.name", "").toLowerCase();
            String arch = System.getProperty("os.arch", "");
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64")))
                return loadError = "the emulator library is built for linux-x86_64 only (this is " + os + "/" + arch + ")";
            URL url = EmuNative.class.getResource(RESOURCE);
            if (url == null)
                return loadError = "emulator library " + RESOURCE + " is not on the class path: it is built by "
                        + "kernels/build.sh during `mvn generate-resources` (needs g++, make, python3 and a JDK)";
            Path file;
            if ("file".equals(url.getProtocol())) {
                file = Paths.get(url.toURI());
            } else {
                byte[] bytes;
                try (InputStream in = url.openStream()) {
                    bytes = in.readAllBytes();
                }
                try {
                    file = sharedCopy(Path.of(System.getProperty("java.io.tmpdir")), bytes);
                } catch (IOException | RuntimeException unshared) {   // e.g. someone else's damaged file there: a copy of our own
                    file = Files.createTempFile("libconvunext_emu", ".so");
                    file.toFile().deleteOnExit();
                    Files.write(file, bytes);
                }
            }
            System.load(file.toAbsolutePath().toString());
            loaded = true;
            return null;
        } catch (IOException | java.net.URISyntaxException | LinkageError | SecurityException e) {
            return loadError = "cannot load the emulator library: " + e;
        }
    }

    /**
     * The library's one copy in dir, named by its size and CRC-32 ({@code libconvunext_emu-<crc>-<size>.so}),
     * written whole and renamed into place when it is not there yet ({@link AtomicFiles#writeUnlessHeld}):
     * runs share it instead of each leaving a temporary copy behind when killed, and a run never
     * loads another's half-written one.
     */
    static Path sharedCopy(Path dir, byte[] bytes) throws IOException {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        Path file = dir.resolve(String.format("libconvunext_emu-%08x-%d.so", crc.getValue(), bytes.length));
        AtomicFiles.writeUnlessHeld(file, bytes);
        return file;
    }

    static native long malloc(long bytes);
    static native void free(long ptr);
    static native void copyHtoD(long dst, float[] src, int off, int count);
    static native void copyDtoH(float[] dst, int off, long src, int count);
    static native void copyDtoD(long dst, long src, long bytes);
    static native void memset(long ptr, int value, long bytes);
    /** {start, bytes} of the live allocation holding ptr, or null. */
    static native long[] allocation(long ptr);
    /** A copy of bytes [ptr, ptr+n) of a live allocation. */
    static native byte[] readBytes(long ptr, int n);
    /** Handle of a registered kernel, 0 if none has that name. */
    static native long kernel(String name);
    static native String signature(long handle);
    static native String[] kernelNames();
    static native void launch(long handle, int gx, int gy, int gz, int bx, int by, int bz, int shmem,
                              long[] slots, byte[] kinds);
    /** threads 0 = default; seed 0 = in-order scheduling. */
    static native void configure(int threads, long seed, boolean checkPointers);
    /** {launches, blocks, threads, switches, osThreads, seed, allocatedBytes, freeHostBytes, totalHostBytes}. */
    static native long[] state();
}
