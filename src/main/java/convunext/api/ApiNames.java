package convunext.api;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API's names for the command-line flags that shared checks put in their messages: the
 * training, inference and device code is the CLI's too, and its messages say what a command-line
 * user types ({@code --scale native}); an API user gets the method to call instead
 * ({@code SegmenterOptions.withScale("native")}). Messages are rewritten once, where an exception
 * leaves the API; a flag without an API counterpart stays as it is.
 */
final class ApiNames {
    private ApiNames() {}

    /** Segmenter.open / segment and SegmenterOptions: predict's flags. */
    private static final Map<String, String> SEGMENTER = Map.of(
            "tile", "SegmenterOptions.withTile",
            "overlap", "SegmenterOptions.withOverlap",
            "scale", "SegmenterOptions.withScale",
            "tta", "SegmenterOptions.withFlipTta",
            "device", "Segmenter.open's device",
            "weights", "Segmenter.open's weights");

    /** Trainer: train's flags (crop and base size are one method, the learning rate and weight decay another). */
    private static final Map<String, String> TRAINER = Map.ofEntries(
            Map.entry("epochs", "withEpochs"),
            Map.entry("batch", "withBatch"),
            Map.entry("crop", "withCrop's crop"),
            Map.entry("base-size", "withCrop's baseSize"),
            Map.entry("lr", "withLearningRate's lr"),
            Map.entry("weight-decay", "withLearningRate's weightDecay"),
            Map.entry("base-c", "withBaseChannels"),
            Map.entry("norm", "withNorm"),
            Map.entry("classes", "withClasses"),
            Map.entry("val-split", "withValidationSplit"),
            Map.entry("train-roi", "withRoi's trainRoi"),
            Map.entry("test-roi", "withRoi's testRoi"),
            Map.entry("resume", "withResume"),
            Map.entry("seed", "withSeed"),
            Map.entry("max-steps-per-epoch", "withSchedule's maxStepsPerEpoch"),
            Map.entry("val-every", "withSchedule's valEvery"),
            Map.entry("device", "withDevice"),
            Map.entry("data", "Trainer.on's data"),
            Map.entry("out", "Trainer.on's out"),
            // train's own --tile is fixed here; a device's out-of-memory advice names predict's
            Map.entry("tile", "SegmenterOptions.withTile"));

    // "--scale native", "--scale 0.5", "--scale <factor>": the value goes into the call
    private static final Pattern SCALE = Pattern.compile("--scale (native|auto|<factor>|\\d+(?:\\.\\d+)?)");
    private static final Pattern FLAG = Pattern.compile("(?<![\\w-])--([a-z][a-z0-9-]*)");

    static String segmenter(String message) {
        if (message == null) return null;
        Matcher m = SCALE.matcher(message);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String v = m.group(1).equals("<factor>") ? "<factor>" : m.group(1);
            m.appendReplacement(b, Matcher.quoteReplacement("SegmenterOptions.withScale(\"" + v + "\")"));
        }
        m.appendTail(b);
        return flags(b.toString().replace("--tta flip", "SegmenterOptions.withFlipTta(true)"), SEGMENTER);
    }

    static String trainer(String message) {
        // train's --overwrite has no Trainer counterpart: the run it would replace is deleted by hand
        return message == null ? null : flags(message.replace("replace it with --overwrite", "delete its files to replace it"), TRAINER);
    }

    /**
     * {@code log} with the Trainer's names in what train's code prints to it ("held out (--val-split
     * 0.25)" reads "held out (withValidationSplit 0.25)"): each print, println and printf is renamed
     * as a whole and passed on at once (the live progress line too), lines without a flag unchanged.
     */
    static PrintStream trainerLog(PrintStream log) {
        return new PrintStream(log, true) {
            @Override public void print(String s) { log.print(trainer(s)); }
            @Override public void print(Object o) { print(String.valueOf(o)); }
            @Override public void println(String s) { log.println(trainer(s)); }
            @Override public void println(Object o) { println(String.valueOf(o)); }
            @Override public PrintStream format(String format, Object... args) { return format(Locale.getDefault(Locale.Category.FORMAT), format, args); }
            @Override public PrintStream format(Locale l, String format, Object... args) {
                print(String.format(l, format, args));
                return this;
            }
            @Override public void flush() { log.flush(); }
        };
    }

    private static String flags(String message, Map<String, String> names) {
        Matcher m = FLAG.matcher(message);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String api = names.get(m.group(1));
            m.appendReplacement(b, Matcher.quoteReplacement(api != null ? api : m.group()));
        }
        m.appendTail(b);
        return b.toString();
    }

    /**
     * {@code e} with its message in the API's names, as the same kind of exception with {@code e}
     * as its cause ({@code e} itself when nothing changes); an exception of a non-API type (a CUDA
     * error) becomes the {@link IllegalStateException} the API documents for device failures.
     */
    static RuntimeException rename(RuntimeException e, UnaryOperator<String> names) {
        String m = e.getMessage(), n = names.apply(m);
        if (m == null || m.equals(n)) return e;
        if (e instanceof InvalidImageException) return new InvalidImageException(n, e);
        if (e instanceof IllegalArgumentException) return new IllegalArgumentException(n, e);
        if (e instanceof UncheckedIOException u) return new UncheckedIOException(n, u.getCause());
        return new IllegalStateException(n, e);
    }
}
