package convunext.eval;

import convunext.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The per-epoch metrics.csv: a header of column names, then one row of numbers per epoch.
 * {@link #append} rewrites the whole file through {@link AtomicFiles} (temp file + rename), so an
 * interrupted run never leaves a torn line; appending to an existing file requires the same
 * header (resume).
 */
public final class TrainingLog {
    /** Columns the curve plotter understands (others are carried along). */
    public static final List<String> DEFAULT_COLUMNS =
            List.of("epoch", "train_loss", "val_loss", "val_dice", "lr", "seconds");

    private final Path file;
    private final List<String> columns;

    public TrainingLog(Path file, List<String> columns) {
        if (columns.isEmpty()) throw new IllegalArgumentException("TrainingLog: no columns");
        for (String c : columns)
            if (c.isEmpty() || MetricsWriters.needsQuotes(c))   // a header of plain names: rows are split at commas
                throw new IllegalArgumentException("TrainingLog: bad column name '" + c + "'");
        this.file = file;
        this.columns = List.copyOf(columns);
    }

    public Path file() { return file; }
    public List<String> columns() { return columns; }

    /** The header line. */
    public String header() { return String.join(",", columns); }

    /** One row as the line {@link #append} writes (no newline); NaN is written as "nan". */
    public String row(double... values) {
        if (values.length != columns.size())
            throw new IllegalArgumentException("TrainingLog: " + values.length + " values for columns " + columns);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (i > 0) b.append(',');
            b.append(format(values[i]));
        }
        return b.toString();
    }

    /** Appends one row; NaN is written as "nan" (e.g. no validation this epoch). */
    public void append(double... values) { appendLine(row(values)); }

    /** Appends one already formatted row. */
    public void appendLine(String line) {
        List<String> rows = new ArrayList<>(Files.exists(file) ? dataLines(file, header()) : List.of());
        rows.add(line);
        rewrite(rows);
    }

    /** Replaces the file by the header and {@code rows}, atomically. */
    public void rewrite(List<String> rows) {
        StringBuilder b = new StringBuilder(header()).append('\n');
        for (String r : rows) b.append(r).append('\n');
        AtomicFiles.writeString(file, b.toString());
    }

    /**
     * The data lines of an existing log (blank lines skipped), checked as this class writes them:
     * the header is {@code expectedHeader} (another number of classes, another program's CSV are
     * refused, naming both), and every line has the header's number of fields, a whole epoch ≥ 1
     * above the line before's (when the first column is "epoch") and numbers or "nan" after it. The
     * first line that is not is refused, naming the file and its line number as an editor counts
     * it, so a log edited or cut short by hand is named before it is rewritten or plotted.
     */
    public static List<String> dataLines(Path file, String expectedHeader) {
        List<String> all = read(file).lines().toList();
        int first = 0;
        while (first < all.size() && all.get(first).isBlank()) first++;
        String header = first < all.size() ? all.get(first) : "";
        if (!header.equals(expectedHeader))
            throw new IllegalArgumentException(file + (first < all.size() ? " line " + (first + 1) : "") + " has the header '" + header
                    + "', this run writes '" + expectedHeader + "'; choose another output folder");
        int fields = expectedHeader.split(",", -1).length;
        boolean epochs = expectedHeader.startsWith("epoch,") || expectedHeader.equals("epoch");
        List<String> rows = new ArrayList<>();
        int lastEpoch = 0;
        for (int i = first + 1; i < all.size(); i++) {
            String line = all.get(i);
            if (line.isBlank()) continue;
            String where = file + " line " + (i + 1);
            String[] f = line.split(",", -1);
            if (f.length != fields)
                throw new IllegalArgumentException(where + " has " + f.length + " field" + (f.length == 1 ? "" : "s") + ", its header "
                        + fields + " ('" + shorten(line) + "'): mend or delete that line");
            for (int k = 0; k < f.length; k++) {
                String v = f[k].trim();
                if (!(v.isEmpty() || v.equalsIgnoreCase("nan") || isNumber(v)))
                    throw new IllegalArgumentException(where + ": '" + shorten(v) + "' in column " + columnName(expectedHeader, k)
                            + " is not a number: mend or delete that line");
            }
            if (epochs) {
                String e = f[0].trim();
                int epoch = e.matches("[0-9]{1,9}") ? Integer.parseInt(e) : -1;
                if (epoch < 1)
                    throw new IllegalArgumentException(where + ": epoch '" + shorten(e) + "' is not a whole number ≥ 1: mend or delete that line");
                if (epoch <= lastEpoch)
                    throw new IllegalArgumentException(where + ": epoch " + epoch + " comes after epoch " + lastEpoch
                            + " (each epoch once, in order): mend or delete that line");
                lastEpoch = epoch;
            }
            rows.add(line);
        }
        return rows;
    }

    private static boolean isNumber(String v) {
        try {
            Double.parseDouble(v);
            return !v.endsWith("d") && !v.endsWith("D") && !v.endsWith("f") && !v.endsWith("F");
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String columnName(String header, int k) {
        return "'" + header.split(",", -1)[k] + "'";
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    /** The epoch (first field) of a data line, or −1 if it is not a number. */
    public static int epochOf(String line) {
        int comma = line.indexOf(',');
        try {
            return (int) Double.parseDouble(comma < 0 ? line : line.substring(0, comma));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String format(double v) {
        if (Double.isNaN(v)) return "nan";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return String.format(Locale.ROOT, "%.6g", v);
    }

    /** A parsed log: column names and rows (NaN where "nan" or empty). */
    public record Table(List<String> columns, List<double[]> rows) {
        public int column(String name) { return columns.indexOf(name); }

        /** The column's values over rows, or null if there is no such column. */
        public double[] series(String name) {
            int k = column(name);
            if (k < 0) return null;
            double[] s = new double[rows.size()];
            for (int i = 0; i < s.length; i++) s[i] = rows.get(i)[k];
            return s;
        }
    }

    public static Table readTable(Path file) {
        List<String> all = read(file).lines().toList();
        List<Integer> at = new ArrayList<>();   // the file's line numbers (from 1) of the lines that are not blank
        for (int i = 0; i < all.size(); i++) if (!all.get(i).isBlank()) at.add(i + 1);
        List<String> lines = at.stream().map(n -> all.get(n - 1)).toList();
        if (lines.isEmpty()) throw new IllegalArgumentException("training log " + file + " is empty");
        List<String> cols = Arrays.asList(lines.get(0).split(",", -1));
        List<double[]> rows = new ArrayList<>();
        for (int r = 1; r < lines.size(); r++) {
            String[] f = lines.get(r).split(",", -1);
            if (f.length != cols.size())
                throw new IllegalArgumentException("training log " + file + " line " + at.get(r) + " has " + f.length
                        + " fields, header has " + cols.size());
            double[] v = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                String s = f[i].trim();
                try {
                    v[i] = s.isEmpty() || s.equalsIgnoreCase("nan") ? Double.NaN : Double.parseDouble(s);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("training log " + file + " line " + at.get(r) + ": '" + s
                            + "' is not a number", e);
                }
            }
            rows.add(v);
        }
        return new Table(List.copyOf(cols), rows);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {   // its own message is only "Input length = 1"
            throw new UncheckedIOException("cannot read " + file + ": it is not UTF-8 text (damaged, or not a training log)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
