package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticDataTest {
    @TempDir Path tmp;

    @Test void committedFilesEqualARegeneration() throws Exception {
        SyntheticData.write(tmp, SyntheticData.DEFAULT_SEED, SyntheticData.DEFAULT_TRAIN, SyntheticData.DEFAULT_TEST,
                SyntheticData.DEFAULT_SIZE);
        int files = 0;
        for (String split : new String[] {"train", "test"}) {
            for (String kind : new String[] {"images", "masks"}) {
                Path dir = tmp.resolve(split).resolve(kind);
                try (var s = Files.list(dir)) {
                    for (Path fresh : s.sorted().toList()) {
                        Path committed = Fixtures.SYNTHETIC.resolve(split).resolve(kind).resolve(fresh.getFileName());
                        assertTrue(Files.exists(committed), "missing committed file " + committed);
                        FloatImage a = ImageFiles.readImage(fresh), b = ImageFiles.readImage(committed);
                        assertArrayEquals(a.data(), b.data(), "pixels differ: " + committed);
                        files++;
                    }
                }
            }
        }
        assertEquals(2 * (SyntheticData.DEFAULT_TRAIN + SyntheticData.DEFAULT_TEST), files);
    }

    /**
     * A run killed while writing the set leaves temporary files (no lock guards this folder): the
     * next ensure removes those of dead writers and keeps a live writer's.
     */
    @Test void ensureRemovesTheTemporaryFilesOfAKilledWriter() throws Exception {
        Path img = Files.createDirectories(tmp.resolve("train/images"));
        Process gone = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version").start();
        gone.waitFor();
        Path dead = Files.writeString(img.resolve(".syn_000.png.convunext-" + gone.pid() + "-1.tmp"), "half");
        Path live = Files.writeString(img.resolve(".syn_001.png.convunext-" + ProcessHandle.current().pid() + "-99.tmp"), "writing");
        SyntheticData.ensure(tmp);
        assertFalse(Files.exists(dead), "a dead writer's temporary file is removed");
        assertTrue(Files.exists(live), "a live writer's is kept");
        assertTrue(Files.isRegularFile(img.resolve("syn_000.png")));
    }

    @Test void generatorIsDeterministicAndVaried() {
        SyntheticData.Pair a = SyntheticData.generate(5, 3, 64), b = SyntheticData.generate(5, 3, 64);
        assertArrayEquals(a.image().data(), b.image().data());
        assertArrayEquals(a.mask().labels(), b.mask().labels());
        SyntheticData.Pair c = SyntheticData.generate(5, 4, 64);
        assertFalse(Arrays.equals(a.mask().labels(), c.mask().labels()));
        // vessels are darker than background on average (learnable signal)
        double[] sum = new double[2];
        int[] cnt = new int[2];
        for (int i = 0; i < 64 * 64; i++) {
            int l = a.mask().labels()[i];
            sum[l] += a.image().data()[64 * 64 + i]; // green channel
            cnt[l]++;
        }
        assertTrue(cnt[1] > 0);
        assertTrue(sum[1] / cnt[1] < sum[0] / cnt[0] - 15, "vessel green " + sum[1] / cnt[1] + " vs " + sum[0] / cnt[0]);
    }
}
