package convunext.api;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training from code, then segmenting with what it wrote. */
class TrainerTest {
    @TempDir Path dir;

    @Test void trainsAndTheCheckpointSegments() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.Result r = Trainer.on(Path.of("testdata/synthetic"), dir.resolve("run")).withDevice("cpu").withEpochs(2)
                .withBatch(2).withCrop(64, 80).withBaseChannels(4).withSchedule(2, 1).withLog(new PrintStream(log, true)).run();
        assertTrue(Files.isRegularFile(r.bestCheckpoint()));
        assertTrue(Files.isRegularFile(r.lastCheckpoint()));
        assertEquals(2, r.trainLoss().size());
        assertTrue(r.bestEpoch() >= 1 && r.bestDice() > 0, r.toString());
        assertTrue(log.toString().contains("epoch 2/2"), log.toString());
        try (Segmenter s = Segmenter.open(r.bestCheckpoint(), "cpu")) {
            assertEquals(96, s.segment(Path.of("testdata/synthetic/test/images/syn_016.png")).width());
        }
    }

    @Test void badSettingsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.on(Path.of("testdata/synthetic"), dir.resolve("x")).withEpochs(0).run());
        assertTrue(e.getMessage().contains("epochs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.on(dir.resolve("no-data"), dir.resolve("y")).withDevice("cpu").run());
        assertTrue(e.getMessage().contains("no-data"), e.getMessage());
    }
}
