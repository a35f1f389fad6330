package convunext.spark;

import static org.junit.jupiter.api.Assertions.*;

import convunext.api.Segmenter;
import convunext.api.SegmenterOptions;
import convunext.cli.Main;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The executor's Segmenter in local mode: shared by the jobs of one SparkContext, closed when the
 * context stops (it stayed open in the JVM, with its weights and device, after the session was
 * stopped), and opened afresh by the next context.
 */
class ExecutorSegmentersLifecycleTest {
    static final Path IMAGES = Path.of("testdata/synthetic/test/images");
    @TempDir Path dir;

    static SparkSession session() {
        return SparkSession.builder().master("local[2]").appName("ExecutorSegmentersLifecycleTest")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    }

    SegmentJob.Summary job(SparkSession spark, Path ckpt, String out) throws Exception {
        SegmentJob j = new SegmentJob();
        new picocli.CommandLine(j).parseArgs("--images", IMAGES.toString(), "--out", dir.resolve(out).toString(),
                "--weights", ckpt.toString(), "--device", "cpu");
        SegmentJob.Summary[] s = new SegmentJob.Summary[1];
        SegmentJobTest.quiet(() -> {
            try {
                s[0] = j.run(spark);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        return s[0];
    }

    @Test void sharedByTheContextsJobsAndClosedWhenItStops() throws Exception {
        SegmentJobTest.quiet(() -> assertEquals(0, Main.execute("train", "--data", "testdata/synthetic", "--out",
                dir.resolve("run").toString(), "--device", "cpu", "--epochs", "1", "--batch", "2", "--crop", "64", "--base-size", "80",
                "--base-c", "4", "--max-steps-per-epoch", "1", "--tile", "128")));
        Path ckpt = dir.resolve("run/last.safetensors");
        SegmentJob.quietLogs();
        ExecutorSegmenters.closeAll();   // another test class's Segmenters
        SparkSession spark = session();
        Segmenter first;
        try {
            assertTrue(job(spark, ckpt, "a").consistent());
            assertTrue(job(spark, ckpt, "b").consistent());
            assertEquals(1, ExecutorSegmenters.openCount(), "one Segmenter for both jobs");
            first = ExecutorSegmenters.get(ckpt.toString(), "cpu", SegmenterOptions.defaults(), spark.sparkContext().hadoopConfiguration());
            assertEquals(1, ExecutorSegmenters.openCount());
        } finally {
            spark.stop();
        }
        assertEquals(0, ExecutorSegmenters.openCount(), "Segmenters left open after the SparkContext stopped");
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> first.segment(IMAGES.resolve("syn_016.png")));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());

        SparkSession again = session();   // a later context in the same JVM opens a new one
        try {
            assertTrue(job(again, ckpt, "c").consistent());
            assertEquals(1, ExecutorSegmenters.openCount());
        } finally {
            again.stop();
        }
        assertEquals(0, ExecutorSegmenters.openCount());
    }
}
