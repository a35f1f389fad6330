package convunext.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The arguments as typed, from /proc/self/cmdline's bytes and the arguments a JVM under the C/POSIX
 * locale read from them (one U+FFFD, or '?', per non-ASCII byte); what a relaunched child gets of
 * them; and the error that names one where no child reads them.
 */
class OriginalArgsTest {
    /** A /proc/pid/cmdline: each entry NUL-terminated. */
    static byte[] cmdline(String... entries) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String e : entries) {
            b.writeBytes(e.getBytes(StandardCharsets.UTF_8));
            b.write(0);
        }
        return b.toByteArray();
    }

    static final byte[] LINE = cmdline("/usr/bin/java", "-jar", "convunext.jar", "predict", "-i", "/d/bilder-ä", "-o", "", "a?ü");

    @Test void argumentsReadAsAsciiAreRecoveredAsUtf8() {
        String[] read = {"predict", "-i", "/d/bilder-\uFFFD\uFFFD", "-o", "", "a???"};   // U+FFFD or '?' per byte
        assertArrayEquals(new String[] {"predict", "-i", "/d/bilder-ä", "-o", "", "a?ü"}, OriginalArgs.recovered(LINE, read));
        // fewer arguments: the last ones are compared
        assertArrayEquals(new String[] {"a?ü"}, OriginalArgs.recovered(LINE, new String[] {"a???"}));
        String[] none = {};
        assertArrayEquals(none, OriginalArgs.recovered(LINE, none));
        // all ASCII: the same arguments
        String[] ascii = {"info"};
        assertArrayEquals(ascii, OriginalArgs.recovered(cmdline("java", "-cp", "x", "Main", "info"), ascii));
    }

    @Test void entriesThatDoNotLineUpAreNotUsed() {
        String[] read = {"predict", "-i", "/d/bilder-???", "-o", "", "a???"};   // one replacement too many
        assertSame(read, OriginalArgs.recovered(LINE, read));
        String[] other = {"predict", "-i", "/d/bilder-??", "-o", "x", "a???"};   // another text
        assertSame(other, OriginalArgs.recovered(LINE, other));
        String[] many = {"/usr/bin/java", "-jar", "convunext.jar", "predict", "-i", "/d/bilder-??", "-o", "", "a???"};
        assertNull(OriginalArgs.argBytes(LINE, many), "no entry left for the java binary");
        // truncated (no final NUL), empty or missing
        byte[] cut = java.util.Arrays.copyOf(LINE, LINE.length - 1);
        assertNull(OriginalArgs.argBytes(cut, new String[] {"a??"}));
        assertNull(OriginalArgs.argBytes(new byte[0], new String[] {"a"}));
        assertNull(OriginalArgs.argBytes(null, new String[] {"a"}));
        // an argument file expanded by the launcher: the entries are not the arguments
        String[] fromFile = {"predict", "-i", "/d/bilder-??"};
        assertSame(fromFile, OriginalArgs.recovered(cmdline("java", "@args.txt"), fromFile));
    }

    @Test void bytesThatAreNotUtf8KeepTheArgument() {
        byte[] latin1 = {'j', 0, 'b', (byte) 0xE4, 'd', 0};   // "bäd" in ISO-8859-1
        String[] read = {"b?d"};
        assertArrayEquals(read, OriginalArgs.recovered(latin1, read));
        assertNull(OriginalArgs.utf8(new byte[] {(byte) 0xC3}));
        assertEquals("ä", OriginalArgs.utf8(new byte[] {(byte) 0xC3, (byte) 0xA4}));
    }

    @Test void theChildGetsTheBytesOfNonAsciiArgumentsInHex() {
        String[] read = {"predict", "-i", "/d/bilder-??", "-o", "", "a???"};
        byte[][] bytes = OriginalArgs.argBytes(LINE, read);
        List<String> options = OriginalArgs.childOptions(bytes);
        assertEquals(List.of("-Dconvunext.arg.2=" + OriginalArgs.hex("/d/bilder-ä".getBytes(StandardCharsets.UTF_8)),
                "-Dconvunext.arg.5=" + OriginalArgs.hex("a?ü".getBytes(StandardCharsets.UTF_8))), options);
        assertTrue(options.stream().allMatch(o -> o.chars().allMatch(c -> c < 128)), options.toString());
        assertEquals(List.of(), OriginalArgs.childOptions(null));
        // the child: its launcher encoded the arguments as ASCII ('?'), so they line up again
        Properties props = new Properties();
        for (String o : options) props.setProperty(o.substring(2, o.indexOf('=')), o.substring(o.indexOf('=') + 1));
        props.setProperty("convunext.arg.0", "zz");   // not hex: ignored
        props.setProperty("convunext.arg.3", OriginalArgs.hex("-ö".getBytes(StandardCharsets.UTF_8)));   // not argument 3 read as ASCII: ignored
        byte[][] child = OriginalArgs.fromProperties(read, props);
        assertNull(child[0]);
        assertNull(child[3]);
        assertArrayEquals(new String[] {"predict", "-i", "/d/bilder-ä", "-o", "", "a?ü"}, OriginalArgs.recovered(read, child));
        // too long to pass on: left out
        byte[] huge = new byte[OriginalArgs.MAX_BYTES + 1];
        java.util.Arrays.fill(huge, (byte) 0xC3);
        assertEquals(List.of(), OriginalArgs.childOptions(new byte[][] {huge}));
    }

    @Test void hexRoundTrips() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) all[i] = (byte) i;
        assertArrayEquals(all, OriginalArgs.unhex(OriginalArgs.hex(all)));
        assertNull(OriginalArgs.unhex("abc"));
        assertNull(OriginalArgs.unhex("g0"));
        assertNull(OriginalArgs.unhex("\u0663\u0663"));   // Arabic-Indic digits are no hex
        assertNull(OriginalArgs.unhex(null));
    }

    @Test void aMisreadArgumentIsNamedAsTyped() {
        String[] read = {"predict", "-i", "/d/bilder-\uFFFD\uFFFD", "-o", "out", "--weights", "w"};
        byte[][] misread = OriginalArgs.misread(read, OriginalArgs.argBytes(cmdline("java", "predict", "-i", "/d/bilder-ä", "-o", "out", "--weights", "w"), read));
        String line = new String(Main.misreadArgument(read, misread), StandardCharsets.UTF_8);
        assertTrue(line.startsWith("error: --input: \"/d/bilder-ä\" has non-ASCII characters") && line.contains("LC_ALL=C.UTF-8")
                && line.endsWith("\n") && line.lines().count() == 1, line);
        // bytes unknown (no /proc): the argument itself, U+FFFD and all
        misread = OriginalArgs.misread(read, null);
        assertTrue(new String(Main.misreadArgument(read, misread), StandardCharsets.UTF_8).startsWith("error: --input: \"/d/bilder-\uFFFD\uFFFD\""));
        // --output=…: the value after the option
        String[] eq = {"predict", "-i", "in", "--output=/d/out-??"};
        misread = OriginalArgs.misread(eq, OriginalArgs.argBytes(cmdline("java", "predict", "-i", "in", "--output=/d/out-ö"), eq));
        assertTrue(new String(Main.misreadArgument(eq, misread), StandardCharsets.UTF_8).startsWith("error: --output: \"/d/out-ö\" has"));
        // a literal '?' with no non-ASCII bytes behind it is no misread argument
        String[] q = {"predict", "-i", "what?"};
        assertNull(Main.misreadArgument(q, OriginalArgs.misread(q, OriginalArgs.argBytes(cmdline("java", "predict", "-i", "what?"), q))));
    }
}
