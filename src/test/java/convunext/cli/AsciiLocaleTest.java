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
 * folder and the fix.
 */
class AsciiLocaleTest {
    @TempDir Path dir;

    private static String java() { return Path.of(System.getProperty("java.home"), "bin", "java").toString(); }

    private String run(Path data, String... jvm) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx1g"));
        cmd.addAll(List.of(jvm));
        // --batch 100 is refused right after the listing (2 images, 1 held out): the listing is what this test is about
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "convunext.cli.Main", "train", "--data", data.toString(),
                "--device", "cpu", "--batch", "100", "--crop", "64", "--base-c", "4", "--out", dir.resolve("out").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile());
        pb.environment().remove("LANG");
        pb.environment().remove("LC_CTYPE");
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        String log = Files.readString(dir.resolve("log.txt"), StandardCharsets.UTF_8);
        assertEquals(Main.BAD_INPUT, p.exitValue(), log);
        return log;
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
