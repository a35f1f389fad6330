package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Masks holding 0, 1 and 255 ("ignore"): train takes them at --classes 2 and 3, and evaluate
 * scores them exactly as the same masks with those pixels outside an ROI (they used to be refused:
 * "value 255 ... is outside the classes 0..1").
 */
class IgnoreMaskTest {
    @TempDir Path dir;

    /**
     * The synthetic set with masks of 0/1, rows below {@code band} set to 255 when {@code ignore}
     * (else left as they are), and ROI masks that exclude those rows under {@code roi/}.
     */
    private Path dataSet(String name, boolean ignore, int band) throws IOException {
        Path root = dir.resolve(name);
        SyntheticVariant.copy(root, (x, y, v, w, h) -> ignore && y < band ? 255 : v, (x, y, v, w, h) -> y < band ? 0 : 255,
                t -> root.resolve("roi").resolve(t.getParent().getParent().getFileName().toString()).resolve(t.getFileName().toString()));
        return root;
    }

    @Test void masksWithIgnoreTrainAndAreScoredWithoutTheIgnoredPixels() throws IOException {
        Path ign = dataSet("ign", true, 30), plain = dataSet("plain", false, 30);
        Path ckpt = null;
        for (String k : new String[] {"2", "3"}) {
            CliTest.Run r = CliTest.run("train", "--data", ign.toString(), "--out", dir.resolve("run" + k).toString(), "--device", "cpu",
                    "--classes", k, "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4",
                    "--max-steps-per-epoch", "1", "--tile", "128");
            assertEquals(0, r.code(), r.out() + r.err());
            // the data check counts the 255 pixels as ignored: 30 rows of 96 in each of the 16 training masks
            assertTrue(r.out().contains("pixels ignored (outside the ROI or labelled 255): " + 16 * 30 * 96), r.out());
            if (k.equals("2")) ckpt = dir.resolve("run2/last.safetensors");
        }
        CliTest.Run a = CliTest.run("evaluate", "--weights", ckpt.toString(), "--data", ign.toString(), "--out", dir.resolve("ea").toString(),
                "--device", "cpu");
        assertEquals(0, a.code(), a.out() + a.err());
        CliTest.Run b = CliTest.run("evaluate", "--weights", ckpt.toString(), "--data", plain.toString(), "--out", dir.resolve("eb").toString(),
                "--device", "cpu", "--roi", plain.resolve("roi/test").toString());
        assertEquals(0, b.code(), b.out() + b.err());
        List<String> ma = Files.readAllLines(dir.resolve("ea/metrics.csv")), mb = Files.readAllLines(dir.resolve("eb/metrics.csv"));
        assertEquals(mb, ma);
        // and the band matters: without the ROI the plain masks score differently
        CliTest.Run c = CliTest.run("evaluate", "--weights", ckpt.toString(), "--data", plain.toString(), "--out", dir.resolve("ec").toString(),
                "--device", "cpu");
        assertEquals(0, c.code(), c.out() + c.err());
        assertNotEquals(ma, Files.readAllLines(dir.resolve("ec/metrics.csv")));
    }
}
