package convunext.train;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.Backends;
import convunext.io.SafeTensors;
import convunext.nn.Norm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on the synthetic set: resuming from `last` reproduces an uninterrupted run bit for bit,
 * and two identical runs in one JVM (the second one JIT-warm) give identical files.
 */
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
        // Bit for bit: data order, weights, moments and schedule are restored exactly, and every CPU
        // op gives the same bits cold or JIT-compiled (FloatMath instead of the Vector API's exp/tanh).
        for (int e = 0; e < 3; e++) {
            double want = full.trainLoss().get(e), got = e == 0 ? first.trainLoss().get(0) : rest.trainLoss().get(e - 1);
            assertEquals(want, got, 0.0, "epoch " + (e + 1));
        }
        assertSameTensors(dir.resolve("full/last.safetensors"), dir.resolve("part/last.safetensors"));
        for (String f : new String[] {"metrics.csv", "curves.png", "last.safetensors", "best.safetensors"})
            assertTrue(Files.isRegularFile(dir.resolve("full").resolve(f)), f);
        assertEquals(4, Files.readAllLines(dir.resolve("part/metrics.csv")).size(), "header + 3 epochs after resume");
        // nothing half-written: no temporary files left behind
        try (var s = Files.list(dir.resolve("full"))) { assertTrue(s.noneMatch(p -> p.toString().endsWith(".tmp"))); }
    }

    /** The same command twice (seed, data, thread count): identical losses, metrics and checkpoint tensors. */
    @Test void twoIdenticalRunsGiveIdenticalFiles() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Trainer.Result a, b;
        try (Backend be = Backends.open("cpu", quiet)) {
            a = new Trainer(opts(dir.resolve("a"), null, 0), be, quiet).run();
            b = new Trainer(opts(dir.resolve("b"), null, 0), be, quiet).run();
        }
        assertEquals(a.trainLoss(), b.trainLoss());
        assertEquals(a.valDice(), b.valDice());
        for (String f : new String[] {"last.safetensors", "best.safetensors"}) assertSameTensors(dir.resolve("a").resolve(f), dir.resolve("b").resolve(f));
        // metrics.csv is equal but for the wall-clock column
        List<String> ma = Files.readAllLines(dir.resolve("a/metrics.csv")), mb = Files.readAllLines(dir.resolve("b/metrics.csv"));
        int secs = List.of(ma.get(0).split(",")).indexOf("seconds");
        assertEquals(ma.size(), mb.size());
        for (int i = 0; i < ma.size(); i++) {
            List<String> ra = new java.util.ArrayList<>(List.of(ma.get(i).split(","))), rb = new java.util.ArrayList<>(List.of(mb.get(i).split(",")));
            ra.remove(secs);
            rb.remove(secs);
            assertEquals(ra, rb, "metrics.csv line " + (i + 1));
        }
    }

    static void assertSameTensors(Path x, Path y) {
        SafeTensors.Contents a = SafeTensors.read(x), b = SafeTensors.read(y);
        assertEquals(a.tensors().keySet(), b.tensors().keySet());
        for (String k : a.tensors().keySet())
            assertArrayEquals(a.tensors().get(k).data(), b.tensors().get(k).data(), 0.0, k + " differs between " + x + " and " + y);
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
