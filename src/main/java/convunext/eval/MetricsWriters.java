package convunext.eval;

import convunext.io.AtomicFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes per-image metrics as CSV and the summary as JSON (both atomically). */
public final class MetricsWriters {
    private MetricsWriters() {}

    public static final String CSV_HEADER = "image,class,tp,fp,fn,tn," + String.join(",", ClassMetrics.NAMES);

    /** One row per image and class. */
    public static String csv(List<ImageMetrics> images) {
        StringBuilder b = new StringBuilder(CSV_HEADER).append('\n');
        for (ImageMetrics m : images) {
            for (ClassMetrics c : m.classes()) {
                b.append(csvField(m.id())).append(',').append(c.cls()).append(',').append(c.tp()).append(',')
                        .append(c.fp()).append(',').append(c.fn()).append(',').append(c.tn());
                for (double v : c.values()) b.append(',').append(num(v));
                b.append('\n');
            }
        }
        return b.toString();
    }

    public static void writeCsv(Path file, List<ImageMetrics> images) { AtomicFiles.writeString(file, csv(images)); }

    public static void writeSummaryJson(Path file, MetricsSummary summary, Map<String, Object> extra) {
        AtomicFiles.writeString(file, convunext.io.Json.pretty(summary.toMap(extra)));
    }

    static String num(double v) {
        if (Double.isNaN(v)) return "nan";
        return String.format(Locale.ROOT, "%.6f", v);
    }

    /**
     * A CSV field as RFC 4180 writes it: quoted (inner quotes doubled) when it holds a comma, a
     * quote, a line feed or a carriage return, else as it is. The project's one CSV field writer.
     */
    static String csvField(String s) {
        if (!needsQuotes(s)) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    /** Whether {@link #csvField} quotes {@code s}. */
    static boolean needsQuotes(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
        }
        return false;
    }
}
