package convunext.api;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
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

    /** As train refuses its --out: never the data folder or inside its train/ or test/. */
    @Test void anOutAmongTheInputsIsRefused() throws Exception {
        Path data = dir.resolve("data");
        for (String sub : new String[] {"train/images", "train/masks", "test/images", "test/masks"})
            try (var files = Files.list(Path.of("testdata/synthetic").resolve(sub))) {
                Files.createDirectories(data.resolve(sub));
                for (Path f : files.toList()) Files.copy(f, data.resolve(sub).resolve(f.getFileName()));
            }
        for (Path out : new Path[] {data, data.resolve("train/images"), data.resolve("test/run")}) {
            Trainer t = Trainer.on(data, out).withDevice("cpu").withEpochs(1).withBatch(2).withCrop(64, 80).withBaseChannels(4)
                    .withSchedule(1, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, t::run);
            assertTrue(e.getMessage().contains(out.toString()) && e.getMessage().contains("data folder"), e.getMessage());
        }
        assertFalse(Files.exists(data.resolve("last.safetensors")) || Files.exists(data.resolve("train/images/curves.png"))
                || Files.exists(data.resolve("test/run")));
    }

    /** No validation set (one training image, no test/): no best.safetensors, so the best checkpoint is last.safetensors. */
    @Test void withoutValidationTheBestCheckpointIsAFileThatOpens() throws Exception {
        Path data = dir.resolve("one");
        for (String sub : new String[] {"images", "masks"}) {
            Files.createDirectories(data.resolve("train").resolve(sub));
            Files.copy(Path.of("testdata/synthetic/train").resolve(sub).resolve("syn_000.png"), data.resolve("train").resolve(sub).resolve("syn_000.png"));
        }
        Trainer.Result r = Trainer.on(data, dir.resolve("one-run")).withDevice("cpu").withEpochs(1).withBatch(1).withCrop(64, 80)
                .withBaseChannels(4).withSchedule(1, 1).run();
        assertEquals(-1, r.bestEpoch());
        assertTrue(Files.isRegularFile(r.bestCheckpoint()), r.toString());
        try (Segmenter s = Segmenter.open(r.bestCheckpoint(), "cpu")) {
            assertEquals(96, s.segment(Path.of("testdata/synthetic/test/images/syn_016.png")).width());
        }
    }

    @Test void badSettingsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.on(Path.of("testdata/synthetic"), dir.resolve("x")).withEpochs(0).run());
        assertTrue(e.getMessage().contains("withEpochs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.on(dir.resolve("no-data"), dir.resolve("y")).withDevice("cpu").run());
        assertTrue(e.getMessage().contains("no-data"), e.getMessage());
    }

    /**
     * An out that already holds a run, or that another run holds (here this JVM's lock on it, as a
     * Trainer in another thread or a predict would hold it), is refused with an API type and in the
     * API's terms: the lock's refusal escaped as convunext.io.OutputFolder$Busy, outside the API.
     */
    @Test void anOutTakenByAnotherRunIsRefusedInTheApisTerms() throws Exception {
        Trainer t = Trainer.on(Path.of("testdata/synthetic"), dir.resolve("taken")).withDevice("cpu").withEpochs(1).withBatch(2)
                .withCrop(64, 80).withBaseChannels(4).withSchedule(1, 1);
        t.run();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, t::run);
        assertTrue(e.getMessage().contains("already holds a training run") && e.getMessage().contains("withResume")
                && e.getMessage().contains("Trainer.on's out") && !e.getMessage().contains("--"), e.getMessage());
        Path busy = dir.resolve("busy");
        try (var held = convunext.io.OutputFolder.lock(busy, "another run")) {
            IllegalStateException s = assertThrows(IllegalStateException.class, () -> Trainer.on(Path.of("testdata/synthetic"), busy)
                    .withDevice("cpu").withEpochs(1).withBatch(2).withCrop(64, 80).withBaseChannels(4).withSchedule(1, 1).run());
            assertTrue(s.getMessage().contains(busy.toString()) && s.getMessage().contains("in use by another run"), s.getMessage());
        }
    }

    /**
     * A run whose thread is interrupted (here by its own log when epoch 2's last step is printed, as
     * another thread's interrupt() or a Future.cancel(true) would) stops before that epoch's
     * validation and checkpoint with a CancellationException naming epoch 1's checkpoint and
     * withResume, and the thread stays interrupted; it threw IllegalArgumentException('interrupted
     * while waiting for the next batch'), as if a setting were bad, or an UncheckedIOException
     * blaming the output folder. The checkpoint left opens, and withResume continues from it.
     */
    @Test void anInterruptStopsTheRunAndNamesTheCheckpointToResume() throws Exception {
        Path out = dir.resolve("interrupted");
        PrintStream interrupter = new PrintStream(OutputStream.nullOutputStream(), true) {
            @Override public void println(String line) {
                if (line.startsWith("epoch 2/3  step 2/2")) Thread.currentThread().interrupt();
            }
        };
        Trainer t = Trainer.on(Path.of("testdata/synthetic"), out).withDevice("cpu").withEpochs(3).withBatch(2).withCrop(64, 80)
                .withBaseChannels(4).withSchedule(2, 1);
        java.util.concurrent.CancellationException e;
        try {
            e = assertThrows(java.util.concurrent.CancellationException.class, () -> t.withLog(interrupter).run());
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept");
        } finally {
            Thread.interrupted();
        }
        Path last = out.resolve("last.safetensors");
        assertTrue(e.getMessage().contains("training interrupted") && e.getMessage().contains("epoch 1")
                && e.getMessage().contains("withResume " + last) && !e.getMessage().contains("--"), e.getMessage());
        assertEquals("1", convunext.io.SafeTensors.readMetadata(last).get("epoch"));
        try (var files = Files.list(out)) {
            assertEquals(java.util.List.of(".convunext.lock", "best.safetensors", "curves.png", "last.safetensors", "metrics.csv"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file left");
        }
        Trainer.Result r = t.withResume(last).run();
        assertEquals(2, r.trainLoss().size(), "epochs 2 and 3");
        // interrupted before it starts: nothing trained, said as such; a bad setting is still named as one
        Thread.currentThread().interrupt();
        try {
            e = assertThrows(java.util.concurrent.CancellationException.class,
                    () -> Trainer.on(Path.of("testdata/synthetic"), dir.resolve("interrupted-early")).withDevice("cpu").withEpochs(1)
                            .withBatch(2).withCrop(64, 80).withBaseChannels(4).withSchedule(1, 1).run());
            assertTrue(e.getMessage().contains("no checkpoint was written"), e.getMessage());
            assertTrue(assertThrows(IllegalArgumentException.class, t::run).getMessage().contains("already holds a training run"));
        } finally {
            Thread.interrupted();
        }
    }

    /** Messages name the API's methods, not train's flags (the checks are shared with the CLI). */
    @Test void settingsAreNamedAsTheApiNamesThem() {
        Trainer t = Trainer.on(Path.of("testdata/synthetic"), dir.resolve("names")).withDevice("cpu");
        String[][] cases = {
                {"withBatch", "batch"}, {"withCrop's crop", "crop"}, {"withCrop's baseSize", "baseSize"},
                {"withLearningRate's lr", "lr"}, {"withBaseChannels", "baseC"}, {"withClasses", "classes"},
                {"withValidationSplit", "valSplit"}, {"withSchedule's maxStepsPerEpoch", "steps"}, {"withSchedule's valEvery", "valEvery"}};
        Trainer[] bad = {t.withBatch(0), t.withCrop(32, 80), t.withCrop(64, 0), t.withLearningRate(0, 0), t.withBaseChannels(0),
                t.withClasses(1), t.withValidationSplit(1), t.withSchedule(-1, 1), t.withSchedule(0, 0)};
        for (int i = 0; i < bad.length; i++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad[i]::run, cases[i][1]);
            assertTrue(e.getMessage().contains(cases[i][0]) && !e.getMessage().contains("--"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.withResume(dir.resolve("none.safetensors")).run());
        assertTrue(e.getMessage().contains("withResume") && e.getMessage().contains("none.safetensors"), e.getMessage());
        // the GPU pool's out-of-memory advice (no GPU here: the message itself)
        assertEquals("try a smaller withBatch or withCrop's crop (or SegmenterOptions.withTile for predict)",
                ApiNames.trainer("try a smaller --batch or --crop (or --tile for predict)"));
    }

    /**
     * A step that cannot fit the heap on the CPU (two tensors of the widest layer already exceed it)
     * is refused before any data is read, naming the settings, and no output folder is made.
     */
    @Test void aStepBeyondTheHeapIsRefusedBeforeWork() {
        int crop = 4096, baseC = 8;   // 32 planes of 4096²: 2 GiB a sample for the two tensors
        long perSample = 2L * crop * crop * 4 * baseC * Float.BYTES;
        int batch = (int) (Runtime.getRuntime().maxMemory() / perSample) + 1;
        org.junit.jupiter.api.Assumptions.assumeTrue((long) batch * crop * crop * 4 * baseC < Integer.MAX_VALUE - 8,
                "a heap this large needs a batch beyond one Java array");
        Path out = dir.resolve("too-big");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.on(Path.of("testdata/synthetic"), out)
                .withDevice("cpu").withBatch(batch).withCrop(crop, 4096).withBaseChannels(baseC).run());
        assertTrue(e.getMessage().contains("withBatch " + batch) && e.getMessage().contains("withCrop's crop " + crop)
                && e.getMessage().contains("heap") && !e.getMessage().contains("--"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    /**
     * An OutOfMemoryError in a step that the bound above lets through (a 256 MiB heap, batch 4 of
     * 192² at base_c 32) becomes an IllegalStateException naming the settings, and the same Trainer
     * then runs with smaller ones on the same out (the child JVM prints both outcomes).
     */
    @Test void outOfMemoryInAStepIsNamedAndTheTrainerRunsAgain() throws Exception {
        Path log = dir.resolve("oom.log");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                OomChild.class.getName(), dir.resolve("oom-run").toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(240, java.util.concurrent.TimeUnit.SECONDS), "child still running");
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("first: java.lang.IllegalStateException: out of memory training withBatch 4, withCrop 192")
                && out.contains("withBaseChannels 32"), out);
        assertTrue(out.contains("again: ok"), out);
    }

    /** The child JVM of the test above. */
    static final class OomChild {
        public static void main(String[] a) {
            Trainer t = Trainer.on(Path.of("testdata/synthetic"), Path.of(a[0])).withDevice("cpu").withEpochs(1).withBatch(4)
                    .withCrop(192, 300).withBaseChannels(32).withSchedule(1, 1);
            try {
                t.run();
                System.out.println("first: ran");
            } catch (Throwable e) {
                System.out.println("first: " + e);
            }
            t.withBatch(2).withCrop(64, 80).withBaseChannels(4).run();
            System.out.println("again: ok");
        }
    }

    /** The options train has beyond the recipe: LayerNorm, a validation split of train/, ROI folders. */
    @Test void normValidationSplitAndRoiAreOptionsToo() throws Exception {
        Path data = dir.resolve("split"), roi = dir.resolve("roi");
        for (String sub : new String[] {"images", "masks"})
            try (var files = Files.list(Path.of("testdata/synthetic/train").resolve(sub))) {
                Files.createDirectories(data.resolve("train").resolve(sub));
                Files.createDirectories(roi);
                for (Path f : files.toList()) {
                    Files.copy(f, data.resolve("train").resolve(sub).resolve(f.getFileName()));
                    if (sub.equals("masks")) {   // a field of view without the top 8 rows
                        java.awt.image.BufferedImage m = javax.imageio.ImageIO.read(f.toFile());
                        java.awt.image.BufferedImage r = new java.awt.image.BufferedImage(m.getWidth(), m.getHeight(),
                                java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
                        for (int y = 8; y < m.getHeight(); y++)
                            for (int x = 0; x < m.getWidth(); x++) r.getRaster().setSample(x, y, 0, 255);
                        javax.imageio.ImageIO.write(r, "png", roi.resolve(f.getFileName()).toFile());
                    }
                }
            }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer t = Trainer.on(data, dir.resolve("ln")).withDevice("cpu").withEpochs(1).withBatch(2).withCrop(64, 80).withBaseChannels(4)
                .withSchedule(1, 1).withNorm("layer").withValidationSplit(0.25).withRoi(roi, null).withLog(new PrintStream(log, true));
        Trainer.Result r = t.run();
        assertEquals("layer", convunext.io.SafeTensors.readMetadata(r.lastCheckpoint()).get("norm"));
        // the log names the Trainer's methods where train's names its flags
        assertTrue(log.toString().contains("validation: 4 of 16 images of train/ held out (withValidationSplit 0.25)"), log.toString());
        assertFalse(java.util.regex.Pattern.compile("(?<![\\w-])--[a-z]").matcher(log.toString()).find(), log.toString());
        try (Segmenter s = Segmenter.open(r.lastCheckpoint(), "cpu")) {
            assertEquals(96, s.segment(Path.of("testdata/synthetic/test/images/syn_016.png")).width());
        }
        // out inside the ROI folder is among the inputs too; an unknown norm names itself
        Trainer inRoi = Trainer.on(data, roi.resolve("run")).withDevice("cpu").withRoi(roi, null);
        assertTrue(assertThrows(IllegalArgumentException.class, inRoi::run).getMessage().contains("ROI folder"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> t.withNorm("group")).getMessage().contains("'group'"));
    }
}
