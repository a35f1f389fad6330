package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import convunext.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `train --resume CKPT` alone, as the interrupt message says to continue, must continue the same
 * run also when it was started with --max-steps-per-epoch, --val-split or --val-every: each changes
 * the bits (steps per epoch and the LR schedule; which images train; which epochs can be best).
 * These used to fall back to their defaults silently: the resumed run trained whole epochs.
 */
class ResumeRunSettingsTest {
    @TempDir Path dir;

    private static final String[] RUN = {"--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--seed", "5",
            "--epochs", "3", "--max-steps-per-epoch", "2", "--val-split", "0.25", "--val-every", "3"};

    /** train on the CPU into out with {@code more}, which must succeed (ResumeDataChangedTest runs it too). */
    static CliTest.Run train(Path data, Path out, String... more) {
        String[] common = {"train", "--data", data.toString(), "--device", "cpu", "--tile", "128", "--out", out.toString()};
        String[] a = Arrays.copyOf(common, common.length + more.length);
        System.arraycopy(more, 0, a, common.length, more.length);
        CliTest.Run r = CliTest.run(a);
        assertEquals(Main.OK, r.code(), r.out() + r.err());
        return r;
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }

    @Test void resumeAloneContinuesTheSameRun() throws IOException {
        Path data = dir.resolve("data");   // train/ only, so --val-split holds images out
        copy(Path.of("testdata/synthetic/train"), data.resolve("train"));
        Path full = dir.resolve("full"), part = dir.resolve("part");
        train(data, full, RUN);
        String[] stop = Arrays.copyOf(RUN, RUN.length + 2);
        stop[RUN.length] = "--stop-after";
        stop[RUN.length + 1] = "1";
        train(data, part, stop);
        CliTest.Run resumed = train(data, part, "--resume", part.resolve("last.safetensors").toString());
        assertFalse(resumed.out().contains("note: --"), resumed.out());
        SafeTensors.Contents a = SafeTensors.read(full.resolve("last.safetensors")), b = SafeTensors.read(part.resolve("last.safetensors"));
        assertEquals(a.metadata().get("optim.step"), b.metadata().get("optim.step"), "steps taken");
        Map<String, SafeTensors.Entry> ta = a.tensors(), tb = b.tensors();
        assertEquals(ta.keySet(), tb.keySet());
        for (String k : ta.keySet()) assertArrayEquals(ta.get(k).data(), tb.get(k).data(), k);
        // epoch 2 is not validated in either run (--val-every 3)
        assertEquals(Files.readAllLines(full.resolve("metrics.csv")).get(2).split(",")[2],
                Files.readAllLines(part.resolve("metrics.csv")).get(2).split(",")[2]);
    }
}
