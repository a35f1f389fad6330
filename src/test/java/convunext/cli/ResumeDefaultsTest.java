package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import convunext.io.SafeTensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `train --resume` with the recipe flags left out continues the very run: they come from the
 * checkpoint, so the result is the uninterrupted run's bits (a forgotten --seed used to change the
 * data order and augmentation silently); a flag given with another value is used and noted.
 */
class ResumeDefaultsTest {
    @TempDir Path dir;

    private static final String[] RECIPE = {"--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--seed", "3",
            "--lr", "2e-3", "--epochs", "2"};

    private CliTest.Run train(Path out, String... more) {
        String[] common = {"train", "--data", "testdata/synthetic", "--device", "cpu", "--tile", "128", "--max-steps-per-epoch", "1",
                "--out", out.toString()};
        String[] a = Arrays.copyOf(common, common.length + more.length);
        System.arraycopy(more, 0, a, common.length, more.length);
        CliTest.Run r = CliTest.run(a);
        assertEquals(Main.OK, r.code(), r.out() + r.err());
        return r;
    }

    private static String[] plus(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test void flagsLeftOutComeFromTheCheckpoint() {
        Path full = dir.resolve("full"), part = dir.resolve("part");
        train(full, RECIPE);
        train(part, plus(RECIPE, "--stop-after", "1"));
        CliTest.Run resumed = train(part, "--resume", part.resolve("last.safetensors").toString());   // no recipe flag at all
        assertFalse(resumed.out().contains("note: --"), resumed.out());
        Map<String, SafeTensors.Entry> a = SafeTensors.read(full.resolve("last.safetensors")).tensors(),
                b = SafeTensors.read(part.resolve("last.safetensors")).tensors();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k).data(), b.get(k).data(), k);
    }

    @Test void aGivenValueThatDiffersIsUsedAndNoted() {
        Path part = dir.resolve("p");
        train(part, plus(RECIPE, "--stop-after", "1"));
        Path ckpt = part.resolve("last.safetensors");
        ResumeDefaults rd = new ResumeDefaults(ckpt);
        assertEquals(3L, rd.longValue("--seed", null, "seed", 0));
        assertEquals(2e-3, rd.real("--lr", null, "train.lr", 1.5e-3));
        assertEquals(64, rd.integer("--crop", null, "train.crop", 96));
        assertTrue(rd.notes.isEmpty());
        assertEquals(4L, rd.longValue("--seed", 4L, "seed", 0));
        assertEquals(1, rd.notes.size());
        assertTrue(rd.notes.get(0).startsWith("note: --seed 4 differs from " + ckpt + "'s 3"), rd.notes.get(0));
        // a key the checkpoint lacks (an older one) falls back to the recipe's default
        assertEquals(7, rd.integer("--x", null, "no.such.key", 7));
    }

    /** A recorded value that is not a (finite) number is a damaged checkpoint: refused, naming file and key. */
    @Test void anUnreadableRecordedValueIsRefusedNotReplacedByTheDefault() {
        Path part = dir.resolve("q");
        train(part, plus(RECIPE, "--stop-after", "1"));
        SafeTensors.Contents c = SafeTensors.read(part.resolve("last.safetensors"));
        for (String[] bad : new String[][] {{"train.lr", "NaN"}, {"train.lr", "fast"}, {"train.batch", "2.5"}, {"seed", ""}}) {
            Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
            meta.put(bad[0], bad[1]);
            Map<String, SafeTensors.Out> t = new java.util.LinkedHashMap<>();
            c.tensors().forEach((k, v) -> t.put(k, new SafeTensors.Out(v.shape(), v.data(), v.dtype())));
            Path damaged = dir.resolve("damaged-" + bad[0] + ".safetensors");
            SafeTensors.write(damaged, t, meta);
            CliTest.Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--out",
                    dir.resolve("out-" + bad[0] + bad[1]).toString(), "--resume", damaged.toString());
            assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("'" + bad[0] + "'") && r.err().contains(damaged.getFileName().toString()), r.err());
        }
    }

    /** A recorded value out of range is refused saying it came from the checkpoint: the user gave no such flag. */
    @Test void anOutOfRangeRecordedValueIsNamedAsTheCheckpoints() {
        Path part = dir.resolve("r");
        train(part, plus(RECIPE, "--stop-after", "1"));
        for (String[] bad : new String[][] {{"train.batch", "0", "--batch"}, {"train.lr", "-1", "--lr"}}) {
            Path damaged = convunext.io.SafeTensorsVariant.write(part.resolve("last.safetensors"),
                    dir.resolve("range-" + bad[0] + ".safetensors"), t -> { }, m -> m.put(bad[0], bad[1]));
            Path out = dir.resolve("out-range-" + bad[0]);
            CliTest.Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--out", out.toString(),
                    "--resume", damaged.toString());
            assertEquals(Main.BAD_INPUT, r.code(), r.out() + r.err());
            String err = r.err().lines().filter(l -> !l.startsWith("WARNING")).reduce("", String::concat);
            assertTrue(err.startsWith("error: " + bad[2] + " ") && err.contains("(not given: " + damaged + " records " + bad[2] + " as '"
                    + bad[0] + "' = " + bad[1] + "; give " + bad[2] + " to override)"), err);
            assertFalse(java.nio.file.Files.exists(out));
            // given on the command line, the same value is the user's: no such remark
            CliTest.Run g = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--out", out.toString(),
                    "--resume", damaged.toString(), bad[2], bad[1]);
            assertEquals(Main.BAD_INPUT, g.code(), g.out() + g.err());
            assertFalse(g.err().contains("not given"), g.err());
        }
    }

    /** A model option given with another value than the checkpoint's is refused at once, not noted ("continues with") then refused. */
    @Test void aDifferentModelOptionIsRefusedNotNoted() {
        Path part = dir.resolve("m");
        train(part, plus(RECIPE, "--stop-after", "1"));
        Path ckpt = part.resolve("last.safetensors");
        for (String[] opt : new String[][] {{"--classes", "3", "num_classes 2"}, {"--base-c", "8", "base_c 4"}, {"--norm", "layer", "norm batch"}}) {
            Path out = dir.resolve("m-" + opt[0].substring(2));
            CliTest.Run r = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--out", out.toString(),
                    "--resume", ckpt.toString(), opt[0], opt[1]);
            CliSafetyTest.assertOneLine(r, Main.BAD_INPUT, opt[0] + " " + opt[1] + " differs from " + ckpt + "'s " + opt[2],
                    "drop " + opt[0]);
            assertFalse(r.out().contains("continues with"), r.out());
            assertFalse(java.nio.file.Files.exists(out));
        }
        // the same values given again are fine (and say nothing)
        CliTest.Run same = CliTest.run("train", "--data", "testdata/synthetic", "--device", "cpu", "--tile", "128",
                "--max-steps-per-epoch", "1", "--out", dir.resolve("m-same").toString(), "--resume", ckpt.toString(), "--classes", "2",
                "--base-c", "4", "--norm", "batch");
        assertEquals(Main.OK, same.code(), same.out() + same.err());
        assertFalse(same.out().contains("differs"), same.out());
    }
}
