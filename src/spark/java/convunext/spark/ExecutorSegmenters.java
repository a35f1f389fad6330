package convunext.spark;

import convunext.api.Segmenter;
import convunext.api.SegmenterOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;

/**
 * One {@link Segmenter} per executor JVM and device, opened by the first task that needs it and
 * shared by every later task and by the executor's concurrent task threads (a Segmenter is
 * thread-safe: decoding and PNG encoding run in parallel, the model one image at a time).
 *
 * <p><b>Lifecycle.</b> A Segmenter lives as long as the Spark application of its JVM, not as long
 * as one job: every job of the application (several {@code SegmentJob.run} calls on one session,
 * or later stages) reuses it, so the weights are read and the device opened once per executor.
 * Weights replaced at their path (local, or on a Hadoop file system: fetched again) are opened
 * anew by the next task, and the old model is closed then.
 * On a cluster an executor JVM ends with its application, and the process exit frees its memory
 * and GPU context. In local mode the executor is the driver's JVM, which lives on after
 * {@code SparkSession.stop()}: {@link #closeWhenStopped} closes every Segmenter (and deletes the
 * weights it downloaded) when the SparkContext ends, and a later context opens them afresh.
 */
final class ExecutorSegmenters {
    /** A Segmenter and the weights it read: local copy, size and modification time. */
    private record Opened(String stamp, Segmenter segmenter) {}

    /** By weights (as the job names them), device and options. */
    private static final Map<String, Opened> OPEN = new HashMap<>();
    private static final Map<String, Path> LOCAL_WEIGHTS = new HashMap<>();
    /** For each downloaded copy in LOCAL_WEIGHTS, the remote file's size and time when fetched. */
    private static final Map<String, String> FETCHED = new HashMap<>();
    /** Weights fetched from a Hadoop file system into a temporary file (deleted by closeAll). */
    private static final Set<Path> DOWNLOADED = new HashSet<>();
    /** Contexts whose end closes the Segmenters (weak: a stopped context is not held here). */
    private static final Map<SparkContext, Boolean> WATCHED = new WeakHashMap<>();

    private ExecutorSegmenters() {}

    /**
     * The device for this task: {@code auto} becomes {@code cuda:N} when Spark's resource
     * scheduling assigned the task GPU address N ({@code spark.task.resource.gpu.amount}),
     * anything else is used as given.
     */
    static String deviceFor(String requested, TaskContext task) {
        return device(requested, task == null ? Map.of() : task.resourcesJMap());
    }

    static String device(String requested, Map<String, ResourceInformation> taskResources) {
        if (!"auto".equalsIgnoreCase(requested)) return requested;
        ResourceInformation gpu = taskResources.get("gpu");
        if (gpu == null || gpu.addresses().length == 0) return requested;
        return "cuda:" + gpu.addresses()[0].trim();
    }

    static synchronized Segmenter get(String weights, String device, SegmenterOptions options, Configuration conf) {
        Path local = localWeights(weights, conf);
        String key = weights + "|" + device + "|" + options, stamp = local + "|" + stamp(local);
        Opened o = OPEN.get(key);
        if (o != null && o.stamp.equals(stamp)) return o.segmenter;
        // A checkpoint replaced at the same path (a later job in this JVM) is opened anew, and the
        // model of the old one closed, so that replaced weights do not pile up in the heap or GPU
        if (o != null) {
            OPEN.remove(key);
            o.segmenter.close();   // waits for an image in progress
        }
        Segmenter s = Segmenter.open(local, device, options);
        OPEN.put(key, new Opened(stamp, s));
        return s;
    }

    private static String stamp(Path file) {
        try {
            return Files.size(file) + "@" + Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the weights " + file + ": " + e.getMessage(), e);
        }
    }

    /** Size and modification time of the weights on their Hadoop file system. */
    private static String remoteStamp(String weights, Configuration conf) {
        org.apache.hadoop.fs.Path hp = new org.apache.hadoop.fs.Path(weights);
        try {
            org.apache.hadoop.fs.FileStatus st = HadoopFiles.fs(hp, conf).getFileStatus(hp);
            return st.getLen() + "@" + st.getModificationTime();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the weights " + weights + ": " + e.getMessage(), e);
        }
    }

    /** A CPU Segmenter for a check on the driver (the caller closes it). */
    static Segmenter probe(String weights, SegmenterOptions options, Configuration conf) {
        Path local;
        synchronized (ExecutorSegmenters.class) {
            local = localWeights(weights, conf);
        }
        return Segmenter.open(local, "cpu", options);
    }

    /**
     * A local copy of the weights: the path itself when this machine has it, the file shipped
     * with {@code spark-submit --files}, or a download from the Hadoop file system (hdfs://, s3a://).
     */
    private static Path localWeights(String weights, Configuration conf) {
        Path cached = LOCAL_WEIGHTS.get(weights);
        if (cached != null && (!FETCHED.containsKey(weights) || FETCHED.get(weights).equals(remoteStamp(weights, conf))))
            return cached;
        if (cached != null) {   // replaced on the remote file system since it was fetched: fetched again
            LOCAL_WEIGHTS.remove(weights);
            FETCHED.remove(weights);
            DOWNLOADED.remove(cached);
            cached.toFile().delete();
        }
        org.apache.hadoop.fs.Path hp = new org.apache.hadoop.fs.Path(weights);
        String scheme = hp.toUri().getScheme();
        Path local = null;
        if (scheme == null || scheme.equals("file")) {
            Path p = Path.of(hp.toUri().getPath());
            if (Files.isRegularFile(p)) local = p;
            // not a file to fetch: 'cannot fetch the weights X: X (Is a directory)' said it less plainly
            else if (Files.isDirectory(p))
                throw new IllegalArgumentException("--weights " + weights + " is a folder: pass the checkpoint file in it");
        }
        if (local == null) {
            try {
                Path shipped = Path.of(SparkFiles.get(hp.getName()));
                if (Files.isRegularFile(shipped)) local = shipped;
            } catch (RuntimeException noSparkFiles) {
                // not inside a Spark application with --files
            }
        }
        if (local == null) {
            try {
                String remote = remoteStamp(weights, conf);
                Path tmp = Files.createTempFile("convunext-weights-", ".safetensors");
                tmp.toFile().deleteOnExit();
                Files.write(tmp, HadoopFiles.read(weights, conf));
                local = tmp;
                DOWNLOADED.add(tmp);
                FETCHED.put(weights, remote);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot fetch the weights " + weights + ": " + e.getMessage(), e);
            }
        }
        LOCAL_WEIGHTS.put(weights, local);
        return local;
    }

    /**
     * Closes every Segmenter of this JVM when {@code sc} stops (once per context; see the class
     * comment). The listener runs on Spark's listener thread during {@code stop()}, after the
     * context's jobs have ended, and {@code stop()} returns once it has run.
     */
    static synchronized void closeWhenStopped(SparkContext sc) {
        if (WATCHED.put(sc, Boolean.TRUE) != null) return;
        sc.addSparkListener(new SparkListener() {
            @Override public void onApplicationEnd(SparkListenerApplicationEnd end) {
                closeAll();
            }
        });
    }

    /** Number of open Segmenters in this JVM (tests). */
    static synchronized int openCount() { return OPEN.size(); }

    /**
     * Closes every Segmenter of this JVM and forgets the local copies of the weights (deleting the
     * downloaded ones): the next job opens them afresh. Executors free everything when they exit.
     */
    static synchronized void closeAll() {
        try {
            OPEN.values().forEach(o -> o.segmenter.close());
        } finally {
            OPEN.clear();
            LOCAL_WEIGHTS.clear();
            FETCHED.clear();
            for (Path p : DOWNLOADED) p.toFile().delete();
            DOWNLOADED.clear();
        }
    }
}
