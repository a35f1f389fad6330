package convunext.cli;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The program's arguments as typed, where this JVM read them as ASCII. Under a C/POSIX locale the
 * java launcher turns each non-ASCII byte of an argument into one U+FFFD (or '?'), so
 * {@code -i /data/bilder-ä} names {@code /data/bilder-??}, which does not exist. On Linux the bytes
 * are still in /proc/self/cmdline. {@link Relaunch} passes them to its child, which reads UTF-8
 * ({@link Relaunch#UTF8_LOCALE}), as hex in system properties ({@value #PROPERTY}N for argument N:
 * ASCII, which survives the launcher's own ASCII encoding of the child's command line, one
 * property each so that none nears Linux's 128 KiB limit on one argument). Where no such child
 * runs, {@link Main} refuses such an argument, naming it as typed.
 */
final class OriginalArgs {
    /** System property prefix: {@code convunext.arg.N}, argument N's bytes in hex. */
    static final String PROPERTY = "convunext.arg.";
    /** Longest argument passed on: twice that in hex stays well under Linux's 128 KiB per argument. */
    static final int MAX_BYTES = 32 * 1024;

    private OriginalArgs() {}

    /**
     * {@code args} with each one whose bytes in {@code cmdline} (a /proc/pid/cmdline: NUL-terminated
     * entries, the program's arguments last) hold non-ASCII characters replaced by their text, read
     * as UTF-8. {@code args} itself where the entries do not line up with it, and each argument
     * whose bytes are not valid UTF-8 stays as it was.
     */
    static String[] recovered(byte[] cmdline, String[] args) {
        return recovered(args, argBytes(cmdline, args));
    }

    /** {@code args} with each whose {@code bytes} (null: none known) are non-ASCII and valid UTF-8 read as UTF-8. */
    static String[] recovered(String[] args, byte[][] bytes) {
        if (bytes == null) return args;
        String[] out = args.clone();
        for (int i = 0; i < args.length; i++) {
            if (bytes[i] == null || !nonAscii(bytes[i])) continue;
            String s = utf8(bytes[i]);
            if (s != null) out[i] = s;
        }
        return out;
    }

    /**
     * The last {@code args.length} entries of {@code cmdline}, or null where they are not these
     * arguments read as ASCII (fewer entries, an unterminated or truncated last one, an argument
     * file the launcher expanded, another text).
     */
    static byte[][] argBytes(byte[] cmdline, String[] args) {
        if (cmdline == null) return null;
        List<byte[]> entries = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                entries.add(Arrays.copyOfRange(cmdline, start, i));
                start = i + 1;
            }
        }
        if (start != cmdline.length || entries.size() <= args.length) return null;   // the java binary comes first
        byte[][] out = new byte[args.length][];
        for (int i = 0, off = entries.size() - args.length; i < args.length; i++) {
            out[i] = entries.get(off + i);
            if (!readAs(out[i], args[i])) return null;
        }
        return out;
    }

    /** Whether {@code arg} is {@code bytes} read as ASCII: the same ASCII characters, one '?' or U+FFFD per other byte. */
    static boolean readAs(byte[] bytes, String arg) {
        if (bytes.length != arg.length()) return false;
        for (int i = 0; i < bytes.length; i++) {
            char c = arg.charAt(i);
            if (bytes[i] >= 0 ? c != bytes[i] : c != '?' && c != '\uFFFD') return false;
        }
        return true;
    }

    static boolean nonAscii(byte[] bytes) {
        for (byte b : bytes) if (b < 0) return true;
        return false;
    }

    /** {@code bytes} as UTF-8; null where they are not valid UTF-8. */
    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException invalid) {
            return null;
        }
    }

    /** This process's argument bytes, where /proc/self/cmdline (Linux) lines up with {@code args}; null elsewhere. */
    static byte[][] ofThisProcess(String[] args) {
        if (!System.getProperty("os.name", "").equals("Linux")) return null;
        try {
            return argBytes(Files.readAllBytes(Path.of("/proc/self/cmdline")), args);
        } catch (java.io.IOException | RuntimeException unreadable) {
            return null;
        }
    }

    /** The child's -D options: the bytes of each argument that has non-ASCII ones, in hex. */
    static List<String> childOptions(byte[][] bytes) {
        List<String> out = new ArrayList<>();
        if (bytes == null) return out;
        for (int i = 0; i < bytes.length; i++)
            if (nonAscii(bytes[i]) && bytes[i].length <= MAX_BYTES) out.add("-D" + PROPERTY + i + "=" + hex(bytes[i]));
        return out;
    }

    /**
     * In a relaunched child: the bytes its launcher passed in {@code props} for each of {@code args}
     * (null entries: none passed, or not that argument read as ASCII).
     */
    static byte[][] fromProperties(String[] args, Properties props) {
        byte[][] out = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            byte[] b = unhex(props.getProperty(PROPERTY + i));
            if (b != null && readAs(b, args[i])) out[i] = b;
        }
        return out;
    }

    /**
     * Each argument this JVM read with replacement characters for non-ASCII ones: its bytes as
     * typed where {@code bytes} knows them, else the argument itself in UTF-8 where it holds
     * U+FFFD; null entries for the others.
     */
    static byte[][] misread(String[] args, byte[][] bytes) {
        byte[][] out = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            if (bytes != null && bytes[i] != null && nonAscii(bytes[i])) out[i] = bytes[i];
            else if (args[i].indexOf('\uFFFD') >= 0) out[i] = args[i].getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }

    /** {@link #misread(String[], byte[][])} for this JVM: all null where it reads arguments in a charset other than ASCII. */
    static byte[][] misread(String[] args) {
        if (!Relaunch.asciiFileNames(System.getProperty("sun.jnu.encoding"))) return new byte[args.length][];
        return misread(args, System.getProperty(Relaunch.MARKER) != null
                ? fromProperties(args, System.getProperties()) : ofThisProcess(args));
    }

    static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder(2 * bytes.length);
        for (byte b : bytes) s.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
        return s.toString();
    }

    /** The bytes of {@link #hex}'s text; null for null or anything else. */
    static byte[] unhex(String hex) {
        if (hex == null || hex.length() % 2 != 0) return null;
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = digit(hex.charAt(2 * i)), lo = digit(hex.charAt(2 * i + 1));
            if (hi < 0 || lo < 0) return null;
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    private static int digit(char c) { return c < 128 ? Character.digit(c, 16) : -1; }   // no other script's digits
}
