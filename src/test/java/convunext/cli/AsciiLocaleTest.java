package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under a C/POSIX locale (LC_ALL=C: a container's default) Java reads file names as ASCII. A
 * data folder holding "bild ä.png" and "bild ü.png" was refused as two images sharing the name
 * "bild ??" (and one such file failed the whole folder with "Malformed input…"). The relaunched
 * child now runs under C.UTF-8, so the names are read; without a child, one line names the
 * folder and the fix. Arguments likewise: the launcher read "-i …/bilder-ä" as "…/bilder-??"
 * ("input not found"); the child now gets the bytes as typed, and without a child one line names
 * the argument and the fix.
 */
class AsciiLocaleTest {
    @TempDir Path dir;

    private static String java() { return Path.of(System.getProperty("java.home"), "bin", "java").toString(); }

    record Result(int code, String log) {}

    /** The program under LC_ALL=C (LANG unset), plain java (so it relaunches itself) plus {@code jvm}. */
    private Result run(List<String> jvm, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx1g"));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "convunext.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile());
        pb.environment().remove("LANG");
        pb.environment().remove("LC_CTYPE");
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Result(p.exitValue(), Files.readString(dir.resolve("log.txt"), StandardCharsets.UTF_8));
    }

    private String run(Path data, String... jvm) throws Exception {
        // --batch 100 is refused right after the listing (2 images, 1 held out): the listing is what this test is about
        Result r = run(List.of(jvm), "train", "--data", data.toString(),
                "--device", "cpu", "--batch", "100", "--crop", "64", "--base-c", "4", "--out", dir.resolve("out").toString());
        assertEquals(Main.BAD_INPUT, r.code(), r.log());
        return r.log();
    }

    /** Whether a JVM started under {@code LC_ALL=locale} reads file names as UTF-8. */
    private static boolean utf8Names(String locale) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(java(), "-XshowSettings:properties", "-version").redirectErrorStream(true);
        pb.environment().put("LC_ALL", locale);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out.contains("sun.jnu.encoding = UTF-8");
    }

    /** Whether this JVM can make non-ASCII names and pass them to a child as UTF-8 bytes. */
    private static boolean utf8Here() {
        return "UTF-8".equals(System.getProperty("sun.jnu.encoding")) && java.nio.charset.Charset.defaultCharset() == StandardCharsets.UTF_8;
    }

    @Test void nonAsciiArgumentsUnderTheCLocale() throws Exception {
        assumeTrue(utf8Here() && utf8Names("C.UTF-8") && !utf8Names("C"), "needs UTF-8 here, a C.UTF-8 locale and an ASCII C locale");
        Path images = Files.createDirectories(dir.resolve("bilder-ä")), out = dir.resolve("out-ö");
        Files.copy(Path.of("testdata/synthetic/test/images/syn_016.png"), images.resolve("syn_016.png"));
        CliTest.Run t = CliTest.run("train", "--data", "testdata/synthetic", "--out", dir.resolve("run").toString(), "--device", "cpu",
                "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80", "--base-c", "4", "--max-steps-per-epoch", "1");
        assertEquals(0, t.code(), t.out() + t.err());
        String[] predict = {"predict", "-i", images.toString(), "-o", out.toString(), "--weights",
                dir.resolve("run/last.safetensors").toString(), "--device", "cpu", "--tile", "128"};
        // the relaunched child reads the arguments as typed
        Result r = run(List.of(), predict);
        assertEquals(0, r.code(), r.log());
        assertTrue(Files.isRegularFile(out.resolve("syn_016.png")), r.log());
        // no child: refused before any work, naming the option and the folder as typed
        Result alone = run(List.of("-Dconvunext.relaunch=false"), predict);
        assertEquals(Main.BAD_INPUT, alone.code(), alone.log());
        assertTrue(alone.log().contains("error: --input: \"" + images + "\" has non-ASCII characters") && alone.log().contains("LC_ALL=C.UTF-8"),
                alone.log());
        assertEquals(1, alone.log().lines().filter(l -> l.startsWith("error:")).count(), alone.log());
        assertFalse(alone.log().contains("model in="), alone.log());
    }

    @Test void nonAsciiNamesUnderTheCLocale() throws Exception {
        assumeTrue(utf8Names("C.UTF-8") && !utf8Names("C"), "needs a C.UTF-8 locale and an ASCII C locale");
        Path data = dir.resolve("data");
        for (String sub : List.of("images", "masks")) {
            Path d = Files.createDirectories(data.resolve("train").resolve(sub));
            Files.copy(Path.of("testdata/synthetic/train", sub, "syn_000.png"), d.resolve("bild ä.png"));
            Files.copy(Path.of("testdata/synthetic/train", sub, "syn_001.png"), d.resolve("bild ü.png"));
        }
        String child = run(data);
        assertTrue(child.contains("--batch 100 exceeds the 1 training images") && !child.contains("two images share"), child);
        String alone = run(data, "-Dconvunext.relaunch=false");
        assertTrue(alone.contains("cannot be read in this JVM's file-name encoding") && alone.contains(data.resolve("train/images").toString())
                && alone.contains("LC_ALL=C.UTF-8"), alone);
        assertFalse(alone.contains("two images share"), alone);
    }
}
