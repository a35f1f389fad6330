package convunext.spark;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import convunext.api.Segmenter;
import convunext.api.SegmenterOptions;
import convunext.cli.Relaunch;
import convunext.data.DataException;
import convunext.io.Json;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.launcher.JavaModuleOptions;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Segments a folder (or glob) of images on Apache Spark: Spark's {@code binaryFile} source reads
 * them, {@code mapPartitions} segments them with one {@link Segmenter} per executor JVM and
 * device, and the job writes, under {@code --out}:
 * <ul>
 *   <li>{@code masks/<stem>.png}: the mask {@code predict} writes for that image (same name,
 *       same bytes);</li>
 *   <li>{@code results.parquet}: one row per input file — path, mask, width, height, pixels per
 *       class, mean foreground probability, Dice and IoU per class against {@code --masks}
 *       (evaluate's code and rules), truth mask, device, milliseconds, error;</li>
 *   <li>{@code summary.json}: counts and means over the table, computed by Spark.</li>
 * </ul>
 * An input that cannot be segmented (corrupt, not an image, too small, no or bad truth mask, a
 * mask name taken by another input) becomes a row with its error and the job goes on. The job
 * checks that the table has exactly one row per input (ok + error rows = inputs) and prints it.
 * Exit codes as the CLI: 0 done, 1 that check failed, 2 bad input, 3 device unavailable.
 */
@Command(name = "convunext-spark", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Segments images on Apache Spark: masks (PNG, named as predict names them), a Parquet table",
                "with one row per input, and a summary. Local mode without --master and outside spark-submit."})
public final class SegmentJob implements Callable<Integer> {
    @Option(names = "--images", required = true, description = "folder or glob of images (any Hadoop file system URI)")
    String images;
    @Option(names = "--out", required = true, description = "output folder: masks/, results.parquet, summary.json")
    String out;
    @Option(names = "--weights", required = true, description = "checkpoint (.safetensors): a path every executor can read, "
            + "a Hadoop URI, or a file shipped with spark-submit --files")
    String weights;
    @Option(names = "--masks", description = "folder of truth masks: adds per-image Dice/IoU (matched as evaluate matches)")
    String masks;
    @Option(names = "--roi", description = "folder of ROI / field-of-view masks for scoring")
    String roi;
    @Option(names = "--device", defaultValue = "auto", description = "auto (the task's Spark-assigned GPU, else as predict's "
            + "auto), cpu, cuda, cuda:N (default: ${DEFAULT-VALUE})")
    String device;
    @Option(names = "--tile", defaultValue = "512", description = "window size (default: ${DEFAULT-VALUE})")
    int tile;
    @Option(names = "--overlap", description = "window overlap, < tile (default: 64; 16 at --tile 64, the smallest, as predict's)")
    Integer overlap;
    @Option(names = "--tta", description = "test-time augmentation: flip")
    String tta;
    @Option(names = "--scale", defaultValue = "auto", description = "size the model runs each image at, as predict's --scale: "
            + "auto (the checkpoint's training scale), native, or a factor (default: ${DEFAULT-VALUE})")
    String scale;
    @Option(names = "--glob", description = "only file names matching this glob (Spark's pathGlobFilter), e.g. *.jpg")
    String glob;
    @Option(names = "--recursive", description = "also read images in sub-folders")
    boolean recursive;
    @Option(names = "--partitions", defaultValue = "0", description = "repartition the inputs into N tasks (0: Spark's file splits)")
    int partitions;
    @Option(names = "--master", description = "Spark master when not under spark-submit (default local[*])")
    String master;

    /** What a run did (printed, and returned to tests). */
    public record Summary(long inputs, long rows, long ok, long errors, long distinctPaths, double seconds,
                          Map<String, Object> json) {
        public boolean consistent() { return rows == inputs && ok + errors == rows && distinctPaths == rows; }
    }

    public static void main(String[] args) {
        // Outside spark-submit (plain java in local mode) Spark's JVM options are missing: run again with
        // them, and with the vector kernels' JIT flags (under spark-submit they alone start no child).
        args = Relaunch.ensureFlags(Relaunch.sparkOptions(JavaModuleOptions.defaultModuleOptionArray()), Relaunch.sparkChildOptions(JavaModuleOptions.defaultModuleOptionArray()), SegmentJob.class, args);
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new SegmentJob());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            int code;
            if (ex instanceof convunext.backend.all.Backends.Unavailable) code = 3;
            else if (ex instanceof IllegalArgumentException || ex instanceof DataException
                    || ex instanceof java.io.UncheckedIOException || ex instanceof AnalysisException) code = 2;
            else throw ex;
            cmd.getErr().println("error: " + ex.getMessage());
            return code;
        });
        return cl.execute(args);
    }

    @Override public Integer call() throws Exception {
        options();   // bad options fail before Spark starts
        long t0 = System.nanoTime();
        SparkSession.Builder b = SparkSession.builder().appName("convunext segment");
        boolean submitted = new SparkConf().contains("spark.master");   // spark-submit sets it
        if (master != null) b.master(master);
        else if (!submitted) b.master("local[*]");
        if (!submitted) quietLogs();
        SparkSession spark = b.getOrCreate();
        try {
            System.out.printf("Spark %s, master %s, session ready in %.1f s%n", spark.version(),
                    spark.sparkContext().master(), (System.nanoTime() - t0) / 1e9);
            Summary s = run(spark);
            return s.consistent() ? 0 : 1;
        } finally {
            spark.stop();
        }
    }

    /**
     * Plain java (not spark-submit, whose log4j2 configuration rules): Spark's INFO lines would
     * bury the job's own; warnings and errors stay.
     */
    static void quietLogs() {
        if (System.getProperty("log4j2.configurationFile") != null) return;
        try {
            org.apache.logging.log4j.core.config.Configurator.setRootLevel(org.apache.logging.log4j.Level.WARN);
        } catch (LinkageError noLog4j) {
            // another logging backend: leave it
        }
    }

    /** The job on a running session (tests call it with theirs). */
    Summary run(SparkSession spark) throws Exception {
        SegmenterOptions options = options();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path outDir = new Path(out).getFileSystem(conf).makeQualified(new Path(out)), table = new Path(outDir, "results.parquet"), maskDir = new Path(outDir, "masks");
        if (HadoopFiles.fs(outDir, conf).exists(outDir) && !HadoopFiles.fs(outDir, conf).getFileStatus(outDir).isDirectory())
            throw new IllegalArgumentException("--out " + out + " is an existing file; give a folder to write into");
        requireApart(conf);
        if (HadoopFiles.existsNonEmpty(table, conf) || HadoopFiles.existsNonEmpty(maskDir, conf))
            throw new IllegalArgumentException(out + (HadoopFiles.fs(outDir, conf).exists(new Path(outDir, "summary.json"))
                    ? " already holds results (results.parquet or masks/)"
                    : " holds the masks or table of a job that did not finish (no summary.json)") + ": choose a new --out");
        requireExists("--images", images, conf);
        requireExists("--masks", masks, conf);
        requireExists("--roi", roi, conf);
        // The checkpoint is checked once on the driver, so a bad file is one line here, not a failed
        // task per partition. In local mode the driver is the executor: its Segmenter is the one
        // the tasks will use (opened once, as predict opens it once).
        int classes;
        // local mode: the tasks' Segmenters live in this JVM, which outlives the session; closed when it stops
        ExecutorSegmenters.closeWhenStopped(spark.sparkContext());
        if (spark.sparkContext().isLocal()) {
            Segmenter s = ExecutorSegmenters.get(weights, ExecutorSegmenters.deviceFor(device, null), options, conf);
            classes = s.classes();
            System.out.println("model " + s.describe());
        } else {
            try (Segmenter probe = ExecutorSegmenters.probe(weights, options, conf)) {
                classes = probe.classes();
                System.out.println("model " + probe.describe());
            }
        }

        // A file the scan cannot read (no permission, an I/O error, removed since the listing) failed
        // its task four times and the job with it: skipped by the scan instead, it has no row, and
        // addUnreadRows gives it one saying why.
        DataFrameReader reader = spark.read().format("binaryFile").option("ignoreCorruptFiles", "true")
                .option("ignoreMissingFiles", "true");
        if (glob != null) reader = reader.option("pathGlobFilter", glob);
        if (recursive) reader = reader.option("recursiveFileLookup", "true");
        Dataset<Row> files = reader.load(images);
        List<String> inputs = normalized(files.inputFiles());
        // files Spark's listing skips ('_…', dangling symbolic links): no task sees them, so each gets an error row here
        Map<String, String> unlisted = HadoopFiles.unlistedBySpark(images, glob, recursive, conf);
        if (inputs.isEmpty())
            throw new IllegalArgumentException("no files in " + images + (glob != null ? " matching " + glob : "")
                    + (unlisted.isEmpty() ? "" : " that Spark reads: " + String.join("; ", unlisted.values())));
        List<String> all = new ArrayList<>(inputs);
        all.addAll(unlisted.keySet());
        all.sort(null);
        System.out.printf("%d input files in %s%n", all.size(), images);

        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Map<String, String>> hadoop = jsc.broadcast(HadoopFiles.snapshot(conf));
        Broadcast<Map<String, String>> collisions = jsc.broadcast(collisions(inputs));
        Broadcast<MaskIndex> truth = jsc.broadcast(index(spark, masks, "mask"));
        Broadcast<MaskIndex> fov = jsc.broadcast(index(spark, roi, "ROI mask"));
        SegmentPartition segment = new SegmentPartition(weights, device, options, classes, maskDir.toString(),
                hadoop, collisions, truth, fov);

        Dataset<Row> in = files.select("path", "content");
        if (partitions > 0) in = in.repartition(partitions);
        long t1 = System.nanoTime(), cpu1 = processCpuNanos();
        in.mapPartitions(segment, Encoders.row(SegmentPartition.SCHEMA)).write().parquet(table.toString());
        double seconds = (System.nanoTime() - t1) / 1e9;
        // Local mode: the executor is this JVM, so its CPU time is the job's work (a busy machine
        // stretches wall time; CPU time much less).
        double cpuSeconds = spark.sparkContext().isLocal() && cpu1 >= 0 ? (processCpuNanos() - cpu1) / 1e9 : -1;
        HadoopFiles.fs(maskDir, conf).delete(new Path(maskDir, "_temporary"), true);
        addUnreadRows(spark, table, all, unlisted, conf);

        Summary s = summarize(spark, table, all.size(), classes, seconds);
        if (cpuSeconds >= 0) s.json().put("cpu_seconds_local", cpuSeconds);
        Map<String, Object> json = new LinkedHashMap<>(s.json());
        json.put("images", images);
        json.put("weights", weights);
        json.put("masks", masks);
        json.put("options", options.toString());
        HadoopFiles.writeAtomically(new Path(outDir, "summary.json"), (Json.pretty(json) + "\n").getBytes(StandardCharsets.UTF_8),
                "driver", conf, null);
        HadoopFiles.fs(outDir, conf).delete(new Path(outDir, "_temporary"), true);
        print(s, table, maskDir, classes);
        return s;
    }

    /**
     * An error row for each listed input that no task saw: Spark's file scan drops zero-length files
     * (an empty split), so an empty image file had no row and the check said MISMATCH. Its row says
     * what predict and the Java API say of it (the same decoder); a file gone since the listing says so;
     * one Spark never lists ({@link HadoopFiles#unlistedBySpark}: a name starting with '_', a dangling
     * symbolic link) the error given there.
     */
    static void addUnreadRows(SparkSession spark, Path table, List<String> inputs, Map<String, String> unlisted, Configuration conf)
            throws java.io.IOException {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Row r : spark.read().parquet(table.toString()).select("path").collectAsList()) seen.add(r.getString(0));
        List<Row> rows = new ArrayList<>();
        for (String p : inputs) {
            if (seen.contains(p)) continue;
            Path path = new Path(p);
            String error;
            if (unlisted.containsKey(p)) {
                rows.add(SegmentPartition.failed(p, unlisted.get(p), System.nanoTime()));
                continue;
            }
            try {
                byte[] content = HadoopFiles.fs(path, conf).getFileStatus(path).getLen() == 0 ? new byte[0] : null;
                if (content == null) error = unreadable(path, conf);
                else {
                    try {
                        convunext.data.ImageFiles.readImage(content, p);
                        error = p + ": read as empty";
                    } catch (RuntimeException e) {
                        error = e.getMessage();
                    }
                }
            } catch (java.io.FileNotFoundException gone) {
                error = p + " was removed during the job";
            }
            rows.add(SegmentPartition.failed(p, error, System.nanoTime()));
        }
        if (!rows.isEmpty())
            spark.createDataFrame(rows, SegmentPartition.SCHEMA).write().mode(org.apache.spark.sql.SaveMode.Append).parquet(table.toString());
    }

    /** Why the scan skipped a non-empty file: what opening it on the driver says (its first byte only). */
    private static String unreadable(Path path, Configuration conf) {
        try (var in = HadoopFiles.fs(path, conf).open(path)) {
            in.read();
            return path + " was listed but not read (changed during the job, or the executor could not read it: see its log)";
        } catch (java.io.FileNotFoundException gone) {
            return path + " was removed during the job";
        } catch (java.io.IOException e) {
            return "cannot read " + path + ": " + e.getMessage();
        }
    }

    SegmenterOptions options() {
        if (tta != null && !tta.equals("flip")) throw new IllegalArgumentException("--tta accepts only 'flip', got '" + tta + "'");
        int overlap = convunext.train.Predictor.overlap(this.overlap, tile);   // --tile 64 alone: 16, as predict
        convunext.train.Predictor.checkSettings(tile, overlap);   // messages name --tile / --overlap
        if (partitions < 0) throw new IllegalArgumentException("--partitions must be ≥ 0 (0: Spark's file splits), got " + partitions);
        // on a cluster the driver opens only a CPU probe: a misspelt device would fail every task attempt
        convunext.backend.all.Backends.checkName(device);
        SegmenterOptions o = SegmenterOptions.defaults().withTile(tile).withOverlap(overlap).withFlipTta(tta != null);
        try {
            return o.withScale(scale);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage());
        }
    }

    /** Counts and means over the written table, computed by Spark. */
    static Summary summarize(SparkSession spark, Path table, long inputs, int classes, double seconds) {
        Dataset<Row> t = spark.read().parquet(table.toString());
        Column ok = col("error").isNull();
        List<Column> aggs = new ArrayList<>(List.of(count(col("error")).as("errors"), countDistinct(col("path")).as("paths"),
                avg(when(ok, col("time_ms"))).as("ms"), avg(col("mean_foreground_probability")).as("fg"),
                sum(when(ok, col("width").cast("long").multiply(col("height")))).as("px")));
        for (int c = 0; c < classes; c++) {
            aggs.add(sum(element_at(col("pixels"), c + 1)).as("px" + c));
            aggs.add(avg(element_at(col("dice"), c + 1)).as("dice" + c));
            aggs.add(avg(element_at(col("iou"), c + 1)).as("iou" + c));
        }
        Row r = t.agg(count(lit(1)).as("rows"), aggs.toArray(new Column[0])).first();
        long rows = r.getLong(0), errors = r.getLong(1), paths = r.getLong(2);
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("inputs", inputs);
        j.put("rows", rows);
        j.put("ok", rows - errors);
        j.put("errors", errors);
        j.put("seconds", seconds);
        j.put("images_per_second", (rows - errors) / seconds);
        j.put("mean_ms_per_image", r.isNullAt(3) ? null : r.getDouble(3));
        j.put("mean_foreground_probability", r.isNullAt(4) ? null : r.getDouble(4));
        j.put("pixels", r.isNullAt(5) ? 0L : r.getLong(5));
        List<Object> px = new ArrayList<>(), dice = new ArrayList<>(), iou = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            int i = 6 + 3 * c;
            px.add(r.isNullAt(i) ? 0L : r.getLong(i));
            dice.add(r.isNullAt(i + 1) ? null : r.getDouble(i + 1));
            iou.add(r.isNullAt(i + 2) ? null : r.getDouble(i + 2));
        }
        j.put("pixels_per_class", px);
        j.put("mean_dice_per_class", dice);
        j.put("mean_iou_per_class", iou);
        List<Object> firstErrors = new ArrayList<>();
        for (Row e : t.filter(col("error").isNotNull()).select("path", "error").orderBy("path").limit(20).collectAsList())
        {
            Map<String, Object> one = new LinkedHashMap<>();   // path, then error: the same order every run
            one.put("path", e.getString(0));
            one.put("error", e.getString(1));
            firstErrors.add(one);
        }
        j.put("errors_first_20", firstErrors);
        return new Summary(inputs, rows, rows - errors, errors, paths, seconds, j);
    }

    private static void print(Summary s, Path table, Path maskDir, int classes) {
        Map<String, Object> j = s.json();
        Object cpu = j.get("cpu_seconds_local");
        System.out.printf("%d images segmented in %.1f s (%.2f images/s%s); masks in %s, table %s%n", s.ok(), s.seconds(),
                s.ok() / s.seconds(), cpu == null ? "" : String.format(", %.1f CPU-s in this JVM", (Double) cpu), maskDir, table);
        if (j.get("mean_dice_per_class") instanceof List<?> d && j.get("mean_iou_per_class") instanceof List<?> iou) {
            // the foreground mean over classes 1..K−1, as evaluate's summary line (the last class alone at K = 2)
            double dSum = 0, iSum = 0;
            int n = 0;
            for (int c = 1; c < classes; c++)
                if (d.get(c) instanceof Double dc && iou.get(c) instanceof Double ic) {
                    dSum += dc;
                    iSum += ic;
                    n++;
                }
            if (n > 0) System.out.printf("mean foreground Dice %.4f, IoU %.4f over %d scored images%n", dSum / n, iSum / n, s.ok());
        }
        @SuppressWarnings("unchecked") List<Map<String, String>> errs = (List<Map<String, String>>) j.get("errors_first_20");
        for (Map<String, String> e : errs) System.out.println("error: " + e.get("error"));
        System.out.printf("check: %d inputs = %d ok + %d error rows (%d rows, %d distinct paths): %s%n", s.inputs(), s.ok(),
                s.errors(), s.rows(), s.distinctPaths(), s.consistent() ? "OK" : "MISMATCH");
    }

    /** CPU time of this process in ns, or -1 where the JVM does not say. */
    static long processCpuNanos() {
        try {
            return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
        } catch (ClassCastException | LinkageError e) {
            return -1;
        }
    }

    /** binaryFile's path column spells paths as Hadoop's Path.toString; inputFiles() as URIs. */
    static List<String> normalized(String[] uris) {
        List<String> out = new ArrayList<>(uris.length);
        for (String u : uris) {
            try {
                out.add(new Path(new URI(u)).toString());
            } catch (URISyntaxException e) {
                out.add(u);
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * Refuses an --out that is an input folder (--images, --masks, --roi), lies inside one or
     * contains one, as predict refuses its -o: outputs never go among the inputs, where a later
     * (recursive) run would read its own masks as images, or a mask could replace an input.
     */
    private void requireApart(Configuration conf) throws java.io.IOException {
        String o = HadoopFiles.folderKey(out, conf);
        String[][] ins = {{"--images", images}, {"--masks", masks}, {"--roi", roi}};
        for (String[] in : ins) {
            if (in[1] == null) continue;
            String i = HadoopFiles.folderKey(in[1], conf);
            String why = o.equals(i) ? "is the " + in[0] + " folder" : o.startsWith(i) ? "lies inside the " + in[0] + " folder"
                    : i.startsWith(o) ? "contains the " + in[0] + " folder" : null;
            if (why != null)
                throw new IllegalArgumentException("--out " + out + " " + why + " " + in[1]
                        + "; outputs never go among the inputs: choose another --out");
        }
    }

    /**
     * Refuses a path (or glob) that matches nothing before Spark reads it: Spark's own check logs
     * a WARN with a FileNotFoundException's stack trace first (FileStreamSink), then fails.
     */
    static void requireExists(String flag, String path, Configuration conf) throws java.io.IOException {
        if (path == null) return;
        Path p = new Path(path);
        org.apache.hadoop.fs.FileStatus[] match = HadoopFiles.fs(p, conf).globStatus(p);
        if (match == null || match.length == 0) {
            String why = HadoopFiles.whyMissing(path, conf);
            throw new IllegalArgumentException(flag + " " + path + ": " + (why != null ? why : "no such file or folder"));
        }
    }

    /** The file name without its last extension, as predict names masks. */
    static String stem(String path) {
        String n = path.substring(path.lastIndexOf('/') + 1);
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** Inputs whose mask name another input (earlier by path) already takes: path → error. */
    static Map<String, String> collisions(List<String> sortedPaths) {
        Map<String, String> first = new HashMap<>(), out = new TreeMap<>();
        for (String p : sortedPaths) {
            String taken = first.putIfAbsent(stem(p), p);
            if (taken != null)
                out.put(p, "mask name " + stem(p) + ".png is already the mask of " + taken + "; rename one of them");
        }
        return out;
    }

    /**
     * The --masks or --roi folder's files, with the dangling symbolic links Spark's listing drops
     * ({@link HadoopFiles#danglingLinks}): an image whose mask is one gets an error row naming the
     * link and its target, as one whose image is (it said "no mask").
     */
    private static MaskIndex index(SparkSession spark, String folder, String what) throws java.io.IOException {
        if (folder == null) return null;
        List<String> files = normalized(spark.read().format("binaryFile").load(folder).inputFiles());
        Map<String, String> dangling = HadoopFiles.danglingLinks(folder, spark.sparkContext().hadoopConfiguration());
        if (files.isEmpty())
            throw new IllegalArgumentException("no " + what + "s in " + folder
                    + (dangling.isEmpty() ? "" : " that Spark reads: " + String.join("; ", dangling.values())));
        return new MaskIndex(files, dangling, what, folder);
    }

    @Override public String toString() {
        return "SegmentJob" + Arrays.asList(images, out, weights);
    }
}
