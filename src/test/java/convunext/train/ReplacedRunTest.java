package convunext.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a kill -9 of {@code train --overwrite} leaves, and what the next run does with it: the
 * earlier run kept in .replaced-run is deleted only once the replacing run has finished a
 * checkpoint (its last.safetensors), never by a run that is refused.
 */
class ReplacedRunTest {
    @TempDir Path dir;
    private final PrintStream quiet = new PrintStream(new ByteArrayOutputStream());

    private Path keptRun(Path out) throws Exception {
        Path aside = out.resolve(ReplacedRun.DIR);
        Files.createDirectories(aside);
        for (String f : Trainer.RUN_FILES) Files.writeString(aside.resolve(f), "earlier " + f);
        return aside;
    }

    /** Killed between the replacing run's first best.safetensors and its last.safetensors. */
    @Test void aBestWithoutItsLastIsNoNewerRun() throws Exception {
        Path out = dir.resolve("run");
        Path aside = keptRun(out);
        Files.writeString(out.resolve("best.safetensors"), "partial new run");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReplacedRun.setAside(out, List.of("best.safetensors"), false, quiet));
        assertTrue(e.getMessage().contains(ReplacedRun.DIR) && e.getMessage().contains("--overwrite"), e.getMessage());
        for (String f : Trainer.RUN_FILES) assertEquals("earlier " + f, Files.readString(aside.resolve(f)), "kept: " + f);

        // --overwrite takes the kept run over (the partial best goes); a failure before a checkpoint restores it
        ReplacedRun r = ReplacedRun.setAside(out, List.of("best.safetensors"), true, quiet);
        assertNotNull(r);
        assertFalse(Files.exists(out.resolve("best.safetensors")));
        r.restore();
        for (String f : Trainer.RUN_FILES) assertEquals("earlier " + f, Files.readString(out.resolve(f)), "back: " + f);
        assertFalse(Files.exists(aside));
    }

    /** Killed while setting the earlier run aside: last.safetensors moved, the others not yet. */
    @Test void aSetAsideCutShortKeepsEveryFile() throws Exception {
        Path out = dir.resolve("run");
        Path aside = out.resolve(ReplacedRun.DIR);
        Files.createDirectories(aside);
        for (String f : Trainer.RUN_FILES) Files.writeString(out.resolve(f), "earlier " + f);
        Files.move(out.resolve("last.safetensors"), aside.resolve("last.safetensors"));
        List<String> left = List.of("metrics.csv", "best.safetensors", "curves.png");
        assertThrows(IllegalArgumentException.class, () -> ReplacedRun.setAside(out, left, false, quiet));
        assertEquals("earlier last.safetensors", Files.readString(aside.resolve("last.safetensors")));
        ReplacedRun r = ReplacedRun.setAside(out, left, true, quiet);
        for (String f : Trainer.RUN_FILES) assertEquals("earlier " + f, Files.readString(aside.resolve(f)), "kept: " + f);
        r.restore();
        for (String f : Trainer.RUN_FILES) assertTrue(Files.exists(out.resolve(f)), f);
    }

    /** The replacing run finished a checkpoint and was killed before removing the kept run: that one goes. */
    @Test void aFinishedCheckpointDropsTheKeptRun() throws Exception {
        Path out = dir.resolve("run");
        Path aside = keptRun(out);
        Files.writeString(out.resolve("best.safetensors"), "new");
        Files.writeString(out.resolve("last.safetensors"), "new");
        assertNull(ReplacedRun.setAside(out, List.of("last.safetensors", "best.safetensors"), false, quiet));
        assertFalse(Files.exists(aside));
    }
}
