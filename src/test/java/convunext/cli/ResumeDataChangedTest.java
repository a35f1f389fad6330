package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `train --resume` on data other than the checkpoint's (an image added, a wrong --data) cannot
 * continue the same run; it used to do so without a word. The checkpoint now records its images
 * (train.data) and a resume on other ones says so; on the same data it says nothing.
 */
class ResumeDataChangedTest {
    @TempDir Path dir;

    private static CliTest.Run train(Path data, Path out, String... more) {
        String[] small = {"--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1"};
        String[] a = Arrays.copyOf(small, small.length + more.length);
        System.arraycopy(more, 0, a, small.length, more.length);
        return ResumeRunSettingsTest.train(data, out, a);
    }

    private static void copyPair(Path data, String name) throws IOException {
        for (String f : new String[] {"images", "masks"})
            Files.copy(Path.of("testdata/synthetic/train", f, name), Files.createDirectories(data.resolve("train").resolve(f)).resolve(name));
    }

    @Test void resumeOnOtherImagesSaysSoAndOnTheSameOnesNot() throws IOException {
        Path data = dir.resolve("data");
        for (int i = 0; i < 4; i++) copyPair(data, "syn_00" + i + ".png");
        Path run = dir.resolve("run");
        train(data, run, "--epochs", "3", "--stop-after", "1");
        CliTest.Run same = train(data, run, "--resume", run.resolve("last.safetensors").toString(), "--stop-after", "1");
        assertFalse(same.out().contains("the data differs"), same.out());
        copyPair(data, "syn_004.png");
        CliTest.Run other = train(data, run, "--resume", run.resolve("last.safetensors").toString());
        assertTrue(other.out().contains("note: the data differs from " + run.resolve("last.safetensors"))
                && other.out().contains("(then train ") && other.out().contains("; now train ")
                && other.out().contains("not the uninterrupted run"), other.out());
    }
}
