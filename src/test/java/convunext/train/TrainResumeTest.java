package convunext.train;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Backend;
import convunext.backend.all.Backends;
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

    /** A kill during the last curves.png redraw leaves an older plot: resuming redraws it, even with nothing left to train. */
    @Test void resumingRedrawsTheCurves() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path curves = dir.resolve("c/curves.png");
        try (Backend be = Backends.open("cpu", quiet)) {
            new Trainer(opts(dir.resolve("c"), null, 0), be, quiet).run();
            byte[] want = Files.readAllBytes(curves);
            Files.write(curves, new byte[] {1, 2, 3});   // stands for the plot of an earlier epoch
            Trainer.Result again = new Trainer(opts(dir.resolve("c"), dir.resolve("c/last.safetensors"), 0), be, quiet).run();
            assertEquals(0, again.trainLoss().size(), "all epochs were trained already");
            assertArrayEquals(want, Files.readAllBytes(curves));
        }
    }

    /** --epochs below the checkpoint's epoch: nothing to train, and the line says how many it trained (it said "all 1 epochs" of 2). */
    @Test void fewerEpochsThanTheCheckpointHasAreNamed() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream()), ps = new PrintStream(log, true);
        Path out = dir.resolve("fewer");
        try (Backend be = Backends.open("cpu", quiet)) {
            new Trainer(opts(out, null, 2), be, quiet).run();
            TrainOptions o = opts(out, out.resolve("last.safetensors"), 0);
            TrainOptions one = new TrainOptions(o.data(), o.out(), o.device(), 1, o.batch(), o.crop(), o.baseSize(), o.lr(),
                    o.weightDecay(), o.baseC(), o.norm(), o.numClasses(), o.seed(), o.valSplit(), o.trainRoi(), o.testRoi(),
                    o.resume(), o.tile(), o.prefetch(), o.cache(), o.maxStepsPerEpoch(), o.stopAfter(), o.valEvery());
            assertEquals(0, new Trainer(one, be, ps).run().trainLoss().size());
        }
        assertTrue(log.toString().contains("already trained 2 epochs, more than --epochs 1"), log.toString());
        assertFalse(log.toString().contains("all 1 epochs"), log.toString());
        assertEquals(3, Files.readAllLines(out.resolve("metrics.csv")).size(), "header + the 2 epochs trained");
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
        for (String f : new String[] {"last.safetensors", "best.safetensors"}) {
            assertSameTensors(dir.resolve("a").resolve(f), dir.resolve("b").resolve(f));
            // byte for byte, metadata included (the checkpoint's metrics row leaves the wall-clock seconds out)
            assertEquals(-1L, Files.mismatch(dir.resolve("a").resolve(f), dir.resolve("b").resolve(f)), f);
        }
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

    @Test void divergenceStopsWithTheStepAndSaysWhetherACheckpointExists() {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        TrainOptions o = new TrainOptions(Path.of("testdata/synthetic"), dir.resolve("nan"), "cpu", 3, 2, 64, 80, 1e12, 0, 4,
                Norm.BATCH, 2, 7, 0.2, null, null, null, 128, 2, true, 2, 0, 1);
        try (Backend be = Backends.open("cpu", quiet)) {
            Trainer.Diverged e = assertThrows(Trainer.Diverged.class, () -> new Trainer(o, be, quiet).run());
            assertTrue(e.getMessage().contains("step"), e.getMessage());
            // it diverged in the first epoch: there is no checkpoint to speak of
            assertTrue(e.getMessage().contains("no checkpoint was written"), e.getMessage());
            assertFalse(e.getMessage().contains("kept in"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("nan/last.safetensors")));
        }
    }

    /**
     * An epoch whose one step had a finite loss but whose update broke the weights (--lr 1e12: every
     * weight near 1e9, outputs NaN): its validation finds the NaN outputs and stops the run before
     * they become a checkpoint, where they were scored as class 0, saved as best.safetensors and
     * last.safetensors, and named "the last good checkpoint" when the next step's loss was NaN. Not
     * validated (--val-every 2), they are a checkpoint, and the NaN at the next step says that
     * resuming from it repeats the NaN (that step's loss comes from its weights alone).
     */
    @Test void weightsBrokenByAnEpochsLastStepAreNotCalledAGoodCheckpoint() {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        try (Backend be = Backends.open("cpu", quiet)) {
            TrainOptions validated = new TrainOptions(Path.of("testdata/synthetic"), dir.resolve("nanVal"), "cpu", 3, 2, 64, 80, 1e12, 0, 4,
                    Norm.BATCH, 2, 7, 0.2, null, null, null, 128, 2, true, 1, 0, 1);
            Trainer.Diverged e = assertThrows(Trainer.Diverged.class, () -> new Trainer(validated, be, quiet).run());
            assertTrue(e.getMessage().contains("outputs are NaN or Inf after epoch 1") && e.getMessage().contains("no checkpoint was written"),
                    e.getMessage());
            for (String f : new String[] {"last.safetensors", "best.safetensors"}) assertFalse(Files.exists(dir.resolve("nanVal").resolve(f)), f);

            TrainOptions later = new TrainOptions(Path.of("testdata/synthetic"), dir.resolve("nanLater"), "cpu", 3, 2, 64, 80, 1e12, 0, 4,
                    Norm.BATCH, 2, 7, 0.2, null, null, null, 128, 2, true, 1, 0, 2);
            e = assertThrows(Trainer.Diverged.class, () -> new Trainer(later, be, quiet).run());
            assertTrue(e.getMessage().contains("at epoch 2") && e.getMessage().contains("holds the weights that give this loss")
                    && e.getMessage().contains("repeats it"), e.getMessage());
            assertFalse(e.getMessage().contains("last good checkpoint"), e.getMessage());
        }
    }

    /** A stand-in for kill -9: the trainer stops dead at the hook, leaving the files as they are then. */
    static final class Killed extends RuntimeException {}

    /**
     * metrics.csv and the checkpoint agree after a kill between writing last.safetensors and
     * appending the epoch's row: --resume restores the row from the checkpoint, and no epoch's row
     * is lost or repeated.
     */
    @Test void aKillBetweenCheckpointAndMetricsRowLosesNoRow() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path out = dir.resolve("killed");
        try (Backend be = Backends.open("cpu", quiet)) {
            Trainer first = new Trainer(opts(out, null, 0), be, quiet);
            first.afterCheckpoint = epoch -> { if (epoch == 2) throw new Killed(); };
            assertThrows(Killed.class, first::run);
            // the moment of the kill: the checkpoint says epoch 2, metrics.csv has only epoch 1
            assertEquals("2", convunext.io.SafeTensors.readMetadata(out.resolve("last.safetensors")).get("epoch"));
            assertEquals(2, Files.readAllLines(out.resolve("metrics.csv")).size());
            Trainer.Result rest = new Trainer(opts(out, out.resolve("last.safetensors"), 0), be, quiet).run();
            assertEquals(1, rest.trainLoss().size(), "only epoch 3 is left");
        }
        var t = convunext.eval.TrainingLog.readTable(out.resolve("metrics.csv"));
        assertArrayEquals(new double[] {1, 2, 3}, t.series("epoch"), "each epoch exactly once");
        // and the rows are the uninterrupted run's (epoch 2's came back from the checkpoint)
        try (Backend be = Backends.open("cpu", quiet)) {
            new Trainer(opts(dir.resolve("whole"), null, 0), be, quiet).run();
        }
        var whole = convunext.eval.TrainingLog.readTable(dir.resolve("whole/metrics.csv"));
        for (String col : new String[] {"train_loss", "val_dice", "val_iou", "lr"})
            assertArrayEquals(whole.series(col), t.series(col), 0.0, col);
        assertSameTensors(dir.resolve("whole/last.safetensors"), out.resolve("last.safetensors"));
        try (var s = Files.list(out)) { assertTrue(s.noneMatch(convunext.io.AtomicFiles::isTemp)); }
    }

    /** A run stopped between its first best.safetensors and last.safetensors: the refusal offers no --resume of a missing file. */
    @Test void aRunWithoutLastIsNotOfferedAResume() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path out = Files.createDirectories(dir.resolve("bestOnly"));
        Files.writeString(out.resolve("best.safetensors"), "an interrupted run's first checkpoint");
        try (Backend be = Backends.open("cpu", quiet)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(opts(out, null, 1), be, quiet).run());
            assertTrue(e.getMessage().contains("already holds a training run (best.safetensors)") && e.getMessage().contains("--overwrite"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("--resume"), e.getMessage());
        }
    }

    /** An earlier run in --out is refused before any image is decoded: a damaged image is not what the user hears of first. */
    @Test void anEarlierRunIsRefusedBeforeTheImagesAreRead() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path data = dir.resolve("data");
        for (String part : new String[] {"train/images", "train/masks", "test/images", "test/masks"}) {
            Files.createDirectories(data.resolve(part));
            try (var s = Files.list(Path.of("testdata/synthetic").resolve(part))) {
                for (Path f : (Iterable<Path>) s::iterator) Files.copy(f, data.resolve(part).resolve(f.getFileName()));
            }
        }
        Files.writeString(data.resolve("train/images/zz_broken.png"), "not a PNG");
        Files.copy(Path.of("testdata/synthetic/train/masks").resolve(Files.list(Path.of("testdata/synthetic/train/masks")).sorted().findFirst()
                .orElseThrow().getFileName()), data.resolve("train/masks/zz_broken.png"));
        Path out = Files.createDirectories(dir.resolve("earlier"));
        Files.writeString(out.resolve("last.safetensors"), "an earlier run's checkpoint");
        TrainOptions o = opts(out, null, 1);
        TrainOptions withData = new TrainOptions(data, out, o.device(), o.epochs(), o.batch(), o.crop(), o.baseSize(), o.lr(),
                o.weightDecay(), o.baseC(), o.norm(), o.numClasses(), o.seed(), o.valSplit(), o.trainRoi(), o.testRoi(), null,
                o.tile(), o.prefetch(), o.cache(), o.maxStepsPerEpoch(), o.stopAfter(), o.valEvery());
        try (Backend be = Backends.open("cpu", quiet)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(withData, be, quiet).run());
            assertTrue(e.getMessage().contains("already holds a training run (last.safetensors)"), e.getMessage());
            // without the earlier run, the damaged image is what stops it
            Files.delete(out.resolve("last.safetensors"));
            RuntimeException d = assertThrows(RuntimeException.class, () -> new Trainer(withData, be, quiet).run());
            assertTrue(d.getMessage().contains("zz_broken.png"), d.getMessage());
        }
    }

    @Test void anEarlierRunIsContinuedOrReplacedNeverMixed() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path out = dir.resolve("run");
        try (Backend be = Backends.open("cpu", quiet)) {
            new Trainer(opts(out, null, 1), be, quiet).run();
            byte[] before = Files.readAllBytes(out.resolve("last.safetensors"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(opts(out, null, 1), be, quiet).run());
            assertTrue(e.getMessage().contains("already holds a training run") && e.getMessage().contains("--resume")
                    && e.getMessage().contains("--overwrite"), e.getMessage());
            assertArrayEquals(before, Files.readAllBytes(out.resolve("last.safetensors")), "the earlier run is untouched");
            // resuming another folder's checkpoint into it is mixing too
            Path other = dir.resolve("other");
            new Trainer(opts(other, null, 1), be, quiet).run();
            assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(opts(out, other.resolve("last.safetensors"), 1), be, quiet).run());
            // --overwrite replaces: metrics.csv starts again
            new Trainer(opts(out, null, 1).withOverwrite(true), be, quiet).run();
            assertEquals(2, Files.readAllLines(out.resolve("metrics.csv")).size());
        }
    }

    /**
     * --overwrite keeps the earlier run until this run's first checkpoint exists: a run that fails
     * before it puts the earlier run back; one killed before it (files left in .replaced-run) is
     * named by the next run, which refuses to start over it without --overwrite.
     */
    @Test void overwriteKeepsTheEarlierRunUntilTheFirstCheckpoint() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path out = dir.resolve("run");
        try (Backend be = Backends.open("cpu", quiet)) {
            new Trainer(opts(out, null, 1), be, quiet).run();
            byte[] last = Files.readAllBytes(out.resolve("last.safetensors")), csv = Files.readAllBytes(out.resolve("metrics.csv"));
            // a backend that fails at the first loss: the replacing run dies before any checkpoint
            Backend failing = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(),
                    new Class<?>[] {Backend.class}, (proxy, m, args) -> {
                        if (m.getName().equals("ceDiceLoss")) throw new IllegalStateException("device lost (test)");
                        try {
                            return m.invoke(be, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new Trainer(opts(out, null, 1).withOverwrite(true), failing, quiet).run());
            assertEquals("device lost (test)", e.getMessage());
            assertArrayEquals(last, Files.readAllBytes(out.resolve("last.safetensors")), "the earlier run is back");
            assertArrayEquals(csv, Files.readAllBytes(out.resolve("metrics.csv")));
            assertFalse(Files.exists(out.resolve(Trainer.REPLACED)));

            // killed before its first checkpoint: the earlier run sits in .replaced-run
            Path aside = out.resolve(Trainer.REPLACED);
            Files.createDirectories(aside);
            for (String f : Trainer.RUN_FILES)
                if (Files.exists(out.resolve(f))) Files.move(out.resolve(f), aside.resolve(f));
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(opts(out, null, 1), be, quiet).run());
            assertTrue(refused.getMessage().contains(Trainer.REPLACED) && refused.getMessage().contains("--overwrite"),
                    refused.getMessage());
            assertArrayEquals(last, Files.readAllBytes(aside.resolve("last.safetensors")), "still kept");
            // --overwrite now replaces that one, and removes it once its own first checkpoint is written
            new Trainer(opts(out, null, 1).withOverwrite(true), be, quiet).run();
            assertFalse(Files.exists(aside));
            assertEquals(2, Files.readAllLines(out.resolve("metrics.csv")).size());
            // leftovers beside a finished run (killed between its checkpoint and the clean-up) are dropped
            Files.createDirectories(aside);
            Files.writeString(aside.resolve("metrics.csv"), "stale");
            new Trainer(opts(out, null, 1).withOverwrite(true), be, quiet).run();
            assertFalse(Files.exists(aside));
        }
    }

    /** --resume of a folder's own checkpoint with --overwrite would delete the run it continues: refused, nothing moved. */
    @Test void resumeWithOverwriteOfTheSameRunIsRefused() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path out = dir.resolve("run");
        try (Backend be = Backends.open("cpu", quiet)) {
            new Trainer(opts(out, null, 1), be, quiet).run();
            byte[] best = Files.readAllBytes(out.resolve("best.safetensors")), csv = Files.readAllBytes(out.resolve("metrics.csv"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(opts(out, out.resolve("last.safetensors"), 1).withOverwrite(true), be, quiet).run());
            assertTrue(e.getMessage().contains("--overwrite") && e.getMessage().contains("--resume"), e.getMessage());
            assertArrayEquals(best, Files.readAllBytes(out.resolve("best.safetensors")));
            assertArrayEquals(csv, Files.readAllBytes(out.resolve("metrics.csv")));
            assertFalse(Files.exists(out.resolve(Trainer.REPLACED)));
        }
    }

    /** --resume on data with other channels than the checkpoint's: one line naming both, before --out is touched. */
    @Test void resumeOnDataOfOtherChannelsIsRefusedUpFront() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Path out = dir.resolve("rgb");
        Path gray = dir.resolve("gray");
        for (String split : new String[] {"train", "test"}) {
            Path src = Path.of("testdata/synthetic").resolve(split);
            Files.createDirectories(gray.resolve(split).resolve("images"));
            Files.createDirectories(gray.resolve(split).resolve("masks"));
            try (var s = Files.list(src.resolve("images"))) {
                for (Path f : s.toList()) {
                    java.awt.image.BufferedImage rgb = javax.imageio.ImageIO.read(f.toFile());
                    java.awt.image.BufferedImage g = new java.awt.image.BufferedImage(rgb.getWidth(), rgb.getHeight(),
                            java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
                    g.getGraphics().drawImage(rgb, 0, 0, null);
                    javax.imageio.ImageIO.write(g, "png", gray.resolve(split).resolve("images").resolve(f.getFileName()).toFile());
                }
            }
            try (var s = Files.list(src.resolve("masks"))) {
                for (Path f : s.toList()) Files.copy(f, gray.resolve(split).resolve("masks").resolve(f.getFileName()));
            }
        }
        try (Backend be = Backends.open("cpu", quiet)) {
            new Trainer(opts(out, null, 1), be, quiet).run();
            byte[] csv = Files.readAllBytes(out.resolve("metrics.csv"));
            TrainOptions o = opts(out, out.resolve("last.safetensors"), 0);
            TrainOptions onGray = new TrainOptions(gray, o.out(), o.device(), o.epochs(), o.batch(), o.crop(), o.baseSize(), o.lr(),
                    o.weightDecay(), o.baseC(), o.norm(), o.numClasses(), o.seed(), o.valSplit(), o.trainRoi(), o.testRoi(),
                    o.resume(), o.tile(), o.prefetch(), o.cache(), o.maxStepsPerEpoch(), o.stopAfter(), o.valEvery());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(onGray, be, quiet).run());
            assertTrue(e.getMessage().contains("3-channel") && e.getMessage().contains("has 1"), e.getMessage());
            assertArrayEquals(csv, Files.readAllBytes(out.resolve("metrics.csv")), "the run folder is untouched");
        }
    }

    /** --val-split 0 and no test/ folder: trained without validation, said so, no best.safetensors. */
    @Test void noValidationSetIsSaidAndLeavesNoBest() throws Exception {
        Path data = dir.resolve("data");
        for (String sub : new String[] {"images", "masks"}) {
            Files.createDirectories(data.resolve("train").resolve(sub));
            try (var s = Files.list(Path.of("testdata/synthetic/train").resolve(sub))) {
                for (Path f : s.limit(4).toList()) Files.copy(f, data.resolve("train").resolve(sub).resolve(f.getFileName()));
            }
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(log, true);
        TrainOptions o = new TrainOptions(data, dir.resolve("noval"), "cpu", 1, 2, 64, 80, 1.5e-3, 5e-5, 4, Norm.BATCH, 2, 7,
                0.0, null, null, null, 128, 2, true, 1, 0, 1);
        Trainer.Result r;
        try (Backend be = Backends.open("cpu", ps)) {
            r = new Trainer(o, be, ps).run();
        }
        assertFalse(r.validated());
        assertTrue(log.toString().contains("no validation set"), log.toString());
        assertFalse(Files.exists(dir.resolve("noval/best.safetensors")));
        assertTrue(Files.exists(dir.resolve("noval/last.safetensors")));
    }

    @Test void badValuesAreRefusedWhenTheOptionsAreMade() {
        assertThrows(IllegalArgumentException.class, () -> new TrainOptions(Path.of("d"), Path.of("o"), "cpu", 1, 2, 64, 80, 1e-3, -1, 4,
                Norm.BATCH, 2, 7, 0.2, null, null, null, 128, 2, true, 0, 0, 1), "negative weight decay");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TrainOptions(Path.of("d"), Path.of("o"), "cpu",
                1, 2, 64, 80, 1e-3, 0, 4, Norm.BATCH, 300, 7, 0.2, null, null, null, 128, 2, true, 0, 0, 1));
        assertTrue(e.getMessage().contains("--classes") && e.getMessage().contains("300") && e.getMessage().contains("ignore"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TrainOptions(Path.of("d"), Path.of("o"), "cpu", 1, 2, 64, 80, 1e-3, 0, 4,
                Norm.BATCH, 2, 7, 0.2, null, null, null, 7, 2, true, 0, 0, 1));
        assertTrue(e.getMessage().contains("--tile"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TrainOptions(Path.of("d"), Path.of("o"), "cpu", 1, 2, 64, 80, 1e-3, 0, 4,
                Norm.BATCH, 2, 7, Double.NaN, null, null, null, 128, 2, true, 0, 0, 1), "NaN val split");
    }
}
