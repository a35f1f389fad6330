package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run that stops (--stop-after) before its first --val-every epoch has a validation set: its
 * last line used to say "no validation set", sending the user to look for a data problem.
 */
class StopBeforeValidationNoteTest {
    @TempDir Path dir;

    @Test void saysNoEpochWasValidatedYet() {
        Path out = dir.resolve("run");
        CliTest.Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--tile", "128", "--batch", "2",
                "--crop", "64", "--base-size", "80", "--base-c", "4", "--epochs", "3", "--max-steps-per-epoch", "1",
                "--val-every", "3", "--stop-after", "1", "--out", out.toString());
        assertEquals(Main.OK, r.code(), r.out() + r.err());
        assertFalse(r.out().contains("no validation set"), r.out());
        assertTrue(r.out().contains("no epoch was validated yet"), r.out());
        assertFalse(Files.exists(out.resolve("best.safetensors")));
    }
}
