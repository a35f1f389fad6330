package convunext.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;

/**
 * JNI entry points of the emulator library (kernels/emu/jni_glue.cpp), and its loading: from
 * target/classes directly, or extracted from the jar to a temporary file. Failing calls throw
 * {@link CudaError}.
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
                file = Files.createTempFile("libconvunext_emu", ".so");
                file.toFile().deleteOnExit();
                try (InputStream in = url.openStream()) {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            System.load(file.toAbsolutePath().toString());
            loaded = true;
            return null;
        } catch (IOException | java.net.URISyntaxException | LinkageError | SecurityException e) {
            return loadError = "cannot load the emulator library: " + e;
        }
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
