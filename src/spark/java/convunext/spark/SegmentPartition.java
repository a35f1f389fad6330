package convunext.spark;

import convunext.api.InvalidImageException;
import convunext.api.Segmentation;
import convunext.api.Segmenter;
import convunext.api.SegmenterOptions;
import convunext.data.DataException;
import convunext.data.ImageFiles;
import convunext.data.LabelMap;
import convunext.eval.ClassMetrics;
import convunext.eval.SegMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The executor side of {@link SegmentJob}: rows (path, content) of Spark's binaryFile source in,
 * one result row per input out, lazily (a partition never holds more than one image). An image
 * that cannot be segmented or scored becomes a row with its error and no mask; a failure of the
 * device or of writing a mask fails the task, which Spark retries (the mask is then written
 * again, atomically, under the same name).
 */
final class SegmentPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** The result table's columns. */
    static final StructType SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("mask", DataTypes.StringType, true)
            .add("width", DataTypes.IntegerType, true)
            .add("height", DataTypes.IntegerType, true)
            .add("pixels", DataTypes.createArrayType(DataTypes.LongType, false), true)
            .add("mean_foreground_probability", DataTypes.DoubleType, true)
            .add("dice", DataTypes.createArrayType(DataTypes.DoubleType, false), true)
            .add("iou", DataTypes.createArrayType(DataTypes.DoubleType, false), true)
            .add("truth", DataTypes.StringType, true)
            .add("device", DataTypes.StringType, true)
            .add("time_ms", DataTypes.DoubleType, false)
            .add("error", DataTypes.StringType, true);

    /** Tests: runs between writing a mask's temporary file and renaming it into place. */
    static volatile BiConsumer<Path, Path> beforeRename;

    private final String weights, device, maskDir, scale;
    private final int tile, overlap, classes;
    private final boolean flipTta;
    private final Broadcast<Map<String, String>> hadoopConf;
    private final Broadcast<Map<String, String>> collisions;
    private final Broadcast<MaskIndex> truth, roi;

    SegmentPartition(String weights, String device, SegmenterOptions o, int classes, String maskDir,
                     Broadcast<Map<String, String>> hadoopConf, Broadcast<Map<String, String>> collisions,
                     Broadcast<MaskIndex> truth, Broadcast<MaskIndex> roi) {
        this.weights = weights;
        this.device = device;
        this.tile = o.tile();
        this.overlap = o.overlap();
        this.flipTta = o.flipTta();
        this.scale = o.scale();
        this.classes = classes;
        this.maskDir = maskDir;
        this.hadoopConf = hadoopConf;
        this.collisions = collisions;
        this.truth = truth;
        this.roi = roi;
    }

    @Override public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext task = TaskContext.get();
        Configuration conf = HadoopFiles.restore(hadoopConf.value());
        String dev = ExecutorSegmenters.deviceFor(device, task);
        String tag = "attempt-" + (task == null ? 0 : task.taskAttemptId());
        SegmenterOptions o = SegmenterOptions.defaults().withTile(tile).withOverlap(overlap).withFlipTta(flipTta).withScale(scale);
        return new Iterator<>() {
            Segmenter segmenter;

            @Override public boolean hasNext() { return rows.hasNext(); }

            @Override public Row next() {
                Row in = rows.next();
                if (segmenter == null) segmenter = ExecutorSegmenters.get(weights, dev, o, conf);
                return segment(in.getString(0), (byte[]) in.get(1), segmenter, dev, tag, conf);
            }
        };
    }

    private Row segment(String path, byte[] content, Segmenter s, String dev, String tag, Configuration conf) {
        long t0 = System.nanoTime();
        String stem = SegmentJob.stem(path);
        String collision = collisions.value().get(path);
        if (collision != null) return failed(path, collision, t0);
        Segmentation r;
        double[] dice = null, iou = null;
        String truthUri = null;
        try {
            r = s.segment(content, path);
            if (truth.value() != null) {
                truthUri = truth.value().find(stem, path);
                if (truthUri == null)
                    throw new DataException("no mask for image " + path + " in " + truth.value().folder()
                            + " (looked for a file named " + stem + ".* or " + stem + "_*.*)");
                ClassMetrics[] m = score(r, path, truthUri, stem, conf);
                dice = new double[classes];
                iou = new double[classes];
                for (int c = 0; c < classes; c++) {
                    dice[c] = m[c].dice();
                    iou[c] = m[c].iou();
                }
            }
        } catch (InvalidImageException e) {
            // the API names its own methods (SegmenterOptions.withScale); this job's user typed --scale
            return failed(path, (e.getCause() instanceof DataException d ? d : e).getMessage(), t0);
        } catch (DataException e) {
            return failed(path, e.getMessage(), t0);
        }
        Path target = new Path(maskDir, stem + ".png");
        try {
            HadoopFiles.writeAtomically(target, r.toMaskPng(), tag, conf, beforeRename);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
        float[] background = r.probabilities(0);
        double sum = 0;
        for (float p : background) sum += p;
        return RowFactory.create(path, target.toString(), r.width(), r.height(), r.pixelsPerClass(),
                1 - sum / background.length, dice, iou, truthUri, dev, ms(t0), null);
    }

    /** Per-class metrics against the truth mask (and ROI), with evaluate's code and rules. */
    private ClassMetrics[] score(Segmentation r, String path, String truthUri, String stem, Configuration conf) {
        int h = r.height(), w = r.width();
        LabelMap t = ImageFiles.readLabels(read(truthUri, conf), truthUri, classes);
        if (t.height() != h || t.width() != w)
            throw new DataException("mask " + truthUri + " is " + t.width() + "x" + t.height() + " but image " + path
                    + " is " + w + "x" + h);
        boolean[] fov = null;
        String roiUri = null;
        if (roi.value() != null) {
            roiUri = roi.value().find(stem, path);
            if (roiUri == null) throw new DataException("no ROI mask for image " + path + " in " + roi.value().folder());
            fov = ImageFiles.readRoi(read(roiUri, conf), roiUri, h, w);
        }
        // an all-black ROI or a mask all 255 inside it: an error row, not a perfect image (evaluate's rule)
        SegMetrics.requireScoredPixels(t.labels(), fov, path, truthUri, roiUri);
        return SegMetrics.compute(r.labels(), t.labels(), fov, h, w, classes);
    }

    private static byte[] read(String uri, Configuration conf) {
        try {
            return HadoopFiles.read(uri, conf);
        } catch (IOException e) {
            throw new DataException("cannot read " + uri + ": " + e.getMessage(), e);
        }
    }

    static Row failed(String path, String error, long t0) {
        return RowFactory.create(path, null, null, null, null, null, null, null, null, null, ms(t0),
                error == null ? "unknown error" : error);
    }

    private static double ms(long t0) { return (System.nanoTime() - t0) / 1e6; }
}
