package convunext.spark;

import convunext.cli.Main;
import convunext.cli.Relaunch;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.launcher.JavaModuleOptions;
import org.apache.spark.sql.SparkSession;

/**
 * Spark's overhead against {@code predict}, measured in one JVM so that JIT state, heap and the
 * machine's load hit both alike: rounds of {@code convunext predict} (the CLI command, run in
 * process), the Spark job with one task at a time (1 partition: what local[1] runs) and with two
 * (2 partitions on local[2]), alternated, on the same images and weights, CPU device. Prints each
 * run's wall and CPU seconds (this process) and the medians of the rounds after the first (which
 * warms every path up). Usage: BenchVsPredict IMAGES WEIGHTS [ROUNDS=4]
 */
public final class BenchVsPredict {
    public static void main(String[] args) throws Exception {
        args = Relaunch.ensureFlags(Relaunch.sparkOptions(JavaModuleOptions.defaultModuleOptionArray()), Relaunch.sparkChildOptions(JavaModuleOptions.defaultModuleOptionArray()), BenchVsPredict.class, args);
        Path images = Path.of(args[0]);
        String weights = args[1];
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        long n;
        try (var s = Files.list(images)) {
            n = s.filter(Files::isRegularFile).count();
        }
        Path work = Files.createTempDirectory("bench-vs-predict");
        SegmentJob.quietLogs();
        SparkSession spark = SparkSession.builder().master("local[2]").appName("bench-vs-predict")
                .config("spark.ui.enabled", "false").getOrCreate();
        Map<String, List<double[]>> runs = new LinkedHashMap<>();
        try {
            for (int r = 0; r < rounds; r++) {
                for (String mode : new String[] {"predict", "spark 1 task", "spark 2 tasks"}) {
                    Path out = work.resolve(r + "-" + mode.replace(' ', '-'));
                    long t0 = System.nanoTime(), c0 = SegmentJob.processCpuNanos();
                    PrintStream o = System.out;
                    System.setOut(new PrintStream(new ByteArrayOutputStream(), true));
                    try {
                        if (mode.equals("predict")) {
                            int code = Main.execute("predict", "-i", images.toString(), "-o", out.toString(), "--weights", weights,
                                    "--device", "cpu");
                            if (code != 0) throw new IllegalStateException("predict exited " + code);
                        } else {
                            SegmentJob j = new SegmentJob();
                            new picocli.CommandLine(j).parseArgs("--images", images.toString(), "--out", out.toString(),
                                    "--weights", weights, "--device", "cpu", "--partitions", mode.startsWith("spark 1") ? "1" : "2");
                            if (!j.run(spark).consistent()) throw new IllegalStateException("inconsistent table");
                        }
                    } finally {
                        System.setOut(o);
                    }
                    double wall = (System.nanoTime() - t0) / 1e9, cpu = (SegmentJob.processCpuNanos() - c0) / 1e9;
                    System.out.printf("round %d  %-14s %7.1f s  %6.3f images/s  %7.1f CPU-s%n", r + 1, mode, wall, n / wall, cpu);
                    runs.computeIfAbsent(mode, k -> new ArrayList<>()).add(new double[] {wall, cpu});
                }
            }
        } finally {
            spark.stop();
            ExecutorSegmenters.closeAll();
        }
        double[] base = null;
        System.out.printf("medians of rounds 2..%d, %d images:%n", rounds, n);
        for (Map.Entry<String, List<double[]>> e : runs.entrySet()) {
            List<double[]> rs = e.getValue().subList(Math.min(1, e.getValue().size() - 1), e.getValue().size());
            double wall = median(rs, 0), cpu = median(rs, 1);
            if (base == null) base = new double[] {wall, cpu};
            System.out.printf("%-14s %7.1f s  %6.3f images/s (%+.1f%%)  %7.1f CPU-s (%+.1f%%)%n", e.getKey(), wall, n / wall,
                    100 * (wall / base[0] - 1), cpu, 100 * (cpu / base[1] - 1));
        }
    }

    private static double median(List<double[]> rs, int i) {
        double[] v = rs.stream().mapToDouble(r -> r[i]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
