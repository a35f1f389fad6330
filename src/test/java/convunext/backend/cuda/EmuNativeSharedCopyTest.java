package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The emulator library's one shared copy per content (EmuNative.sharedCopy). */
class EmuNativeSharedCopyTest {
    @TempDir Path dir;

    @Test void oneCopyPerContentWrittenWholeAndReused() throws Exception {
        byte[] a = new byte[300_000], b = new byte[300_000];
        new Random(1).nextBytes(a);
        new Random(2).nextBytes(b);
        Path pa = EmuNative.sharedCopy(dir, a);
        assertArrayEquals(a, Files.readAllBytes(pa));
        Object key = Files.readAttributes(pa, BasicFileAttributes.class).fileKey();
        assertEquals(pa, EmuNative.sharedCopy(dir, a), "the same content, the same file");
        assertEquals(key, Files.readAttributes(pa, BasicFileAttributes.class).fileKey(), "reused, not rewritten");
        Path pb = EmuNative.sharedCopy(dir, b);
        assertNotEquals(pa, pb, "another build of the library gets its own name");
        Files.write(pa, Arrays.copyOf(a, a.length / 3));   // cut short, as by a kill in someone's write
        assertEquals(pa, EmuNative.sharedCopy(dir, a));
        assertArrayEquals(a, Files.readAllBytes(pa));
        try (var s = Files.list(dir)) {
            assertEquals(2, s.count(), "no temporary files left");
        }
    }
}
