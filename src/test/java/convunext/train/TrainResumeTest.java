package convunext.train;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.Backends;
import convunext.nn.Norm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training on the synthetic set: resuming from `last` reproduces an uninterrupted run (to float32 rounding). */
class TrainResumeTest {
    @TempDir Path dir;

    static TrainOptions opts(Path out, Path resume, int stopAfter) {
        return new TrainOptions(Path.of("testdata/synthetic"), out, "cpu", 3, 2, 64, 80, 1.5e-3, 5e-5, 4, Norm.BATCH, 2, 7,
                0.2, null, null, resume, 128, 2, true, 2, stopAfter, 1);
    }

    @Test void resumedLossesEqualAnUninterruptedRun() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.Result full, first, rest;
        try (Backend be = Backends.open("cpu", quiet)) {
            full = new Trainer(opts(dir.resolve("full"), null, 0), be, quiet).run();
            first = new Trainer(opts(dir.resolve("part"), null, 1), be, quiet).run();
            rest = new Trainer(opts(dir.resolve("part"), dir.resolve("part/last.safetensors"), 0), be, quiet).run();
        }
        assertEquals(3, full.trainLoss().size());
        assertEquals(1, first.trainLoss().size());
        assertEquals(2, rest.trainLoss().size());
        // Equal to float32 rounding: the data order, weights, moments and schedule are restored exactly,
        // but the Vector API's exp/tanh (GELU, gate) and lane sums (GEMM) round differently in
        // C2-compiled code than before compilation, so a cold JVM's first steps can differ from a
        // warm one's in the last bits (measured ~2e-8 relative).
        for (int e = 0; e < 3; e++) {
            double want = full.trainLoss().get(e), got = e == 0 ? first.trainLoss().get(0) : rest.trainLoss().get(e - 1);
            assertEquals(want, got, 1e-6 * Math.abs(want), "epoch " + (e + 1));
        }
        for (String f : new String[] {"metrics.csv", "curves.png", "last.safetensors", "best.safetensors"})
            assertTrue(Files.isRegularFile(dir.resolve("full").resolve(f)), f);
        assertEquals(4, Files.readAllLines(dir.resolve("part/metrics.csv")).size(), "header + 3 epochs after resume");
        // nothing half-written: no temporary files left behind
        try (var s = Files.list(dir.resolve("full"))) { assertTrue(s.noneMatch(p -> p.toString().endsWith(".tmp"))); }
    }

    @Test void divergenceStopsWithTheStepAndKeepsTheLastGoodCheckpoint() {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        TrainOptions o = new TrainOptions(Path.of("testdata/synthetic"), dir.resolve("nan"), "cpu", 3, 2, 64, 80, 1e12, 0, 4,
                Norm.BATCH, 2, 7, 0.2, null, null, null, 128, 2, true, 2, 0, 1);
        try (Backend be = Backends.open("cpu", quiet)) {
            Trainer.Diverged e = assertThrows(Trainer.Diverged.class, () -> new Trainer(o, be, quiet).run());
            assertTrue(e.getMessage().contains("step"), e.getMessage());
        }
    }
}
