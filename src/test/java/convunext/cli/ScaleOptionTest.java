package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad {@code --scale} values: one line naming the flag and the value, exit code 2, before anything is read or made. */
class ScaleOptionTest {
    @TempDir Path dir;

    @Test void badValuesAreRefusedBeforeWorkStarts() {
        for (String bad : new String[] {"0", "-2", "abc", "nan", "inf", "", "1e999", "2x"}) {
            Path out = dir.resolve("out-" + Math.abs(bad.hashCode()));
            // The weights file does not exist either: --scale is checked first, with the other option values.
            CliTest.Run p = CliTest.run("predict", "-i", "testdata/synthetic/test/images", "-o", out.toString(),
                    "--weights", dir.resolve("missing.safetensors").toString(), "--device", "cpu", "--scale", bad);
            CliTest.Run e = CliTest.run("evaluate", "--data", "testdata/synthetic", "--out", out.toString(),
                    "--weights", dir.resolve("missing.safetensors").toString(), "--device", "cpu", "--scale", bad);
            for (CliTest.Run r : new CliTest.Run[] {p, e}) {
                assertEquals(Main.BAD_INPUT, r.code(), bad + ": " + r.out() + r.err());
                String err = r.err().strip();
                assertEquals(1, err.lines().count(), err);
                assertEquals("error: --scale must be " + convunext.train.InferenceScale.VALUES + ", got '" + bad + "'", err);
            }
            assertFalse(Files.exists(out), "nothing made for " + bad);
        }
    }

    @Test void helpNamesTheOption() {
        for (String cmd : new String[] {"predict", "evaluate"}) {
            CliTest.Run r = CliTest.run(cmd, "--help");
            assertEquals(0, r.code());
            assertTrue(r.out().contains("--scale=auto|native|F"), r.out());
        }
    }
}
