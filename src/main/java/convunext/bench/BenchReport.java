package convunext.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The results of one `bench` run: the fixed-width table for stdout and the JSON document that
 * bench/perf_table.py turns into README's performance section. {@code baselines} is the one line
 * about the vendor-library column ({@link Baselines#status}; null without op rows), {@code torch}
 * the object bench/torch_bench.py printed (or null), {@code torchError} why it is missing,
 * {@code timing} how times were taken ({@link Timing#method}).
 */
public record BenchReport(String backend, String describe, String timing, String command, BenchConfig config, Ceilings ceilings,
                          List<Row> rows, String baselines, ModelBench.Result model, Map<String, Object> torch,
                          String torchError, Map<String, Object> anchors) {

    public BenchReport(String backend, String describe, String timing, String command, BenchConfig config, Ceilings ceilings,
                       List<Row> rows, String baselines, ModelBench.Result model, Map<String, Object> torch, String torchError) {
        this(backend, describe, timing, command, config, ceilings, rows, baselines, model, torch, torchError, null);
    }

    /** The same report with the side-by-side anchors ({@link Anchors#run}) attached. */
    public BenchReport withAnchors(Map<String, Object> a) {
        return new BenchReport(backend, describe, timing, command, config, ceilings, rows, baselines, model, torch, torchError, a);
    }

    /** Schema version of the JSON document; bump when a field changes meaning. */
    public static final int SCHEMA = 1;

    // ------------------------------------------------------------------ table

    private static final String COLS = "%-10s %-18s %-7s %-22s %10s %9s %9s %6s %6s  ";

    public static final String HEADER = String.format(COLS + "%s",
            "op", "layer", "pass", "shape", "median ms", "GB/s", "GFLOP/s", "FLOP/B", "%roof", "bound");

    /** The header with the baseline columns (only printed when some baseline ran). */
    public static final String HEADER_BASE = String.format(COLS + "%-7s %9s %9s  %s",
            "op", "layer", "pass", "shape", "median ms", "GB/s", "GFLOP/s", "FLOP/B", "%roof", "bound",
            "base ms", "ours/base", "baseline");

    public static String format(Row r, Ceilings c) {
        // While rows stream in, the ceilings are not final yet: %roof is filled in the closing table.
        String s = String.format("%-10s %-18s %-7s %-22s %10.3f %9.2f %9.2f %6.2f %6s  ", r.op(), r.layer(), r.pass(),
                r.shape(), r.medianMs(), r.gbPerS(), r.gflopPerS(), r.cost().intensity(),
                c == null ? "-" : String.format("%.1f", r.pctRoofline(c)));
        String bound = c == null ? "" : r.bound(c);
        Baseline b = r.baseline();
        if (b == null) return s + bound;
        return s + String.format("%-7s %9.3f %9.2f  %s: %s", bound, b.medianMs(), r.ratioToBaseline(), b.name(), b.note());
    }

    private boolean anyBaseline() {
        for (Row r : rows) if (r.baseline() != null) return true;
        return false;
    }

    public void print(PrintStream o) {
        o.println();
        o.println("backend   " + describe);
        o.println("config    " + config.describe());
        o.println("timing    " + timing);
        o.printf("machine   %d CPU threads, load average %.2f (other processes slow both sides of a comparison)%n",
                Runtime.getRuntime().availableProcessors(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        o.printf("ceilings  copy %.2f GB/s (%s floats, %.3f ms); linear %s %.2f GFLOP/s (%.3f ms), both measured in this run%n",
                ceilings.bytesPerS() / 1e9, ceilings.copy().shape(), ceilings.copy().medianMs(), ceilings.gemm().shape(),
                ceilings.flopsPerS() / 1e9, ceilings.gemm().medianMs());
        if (!rows.isEmpty()) {
            o.println();
            o.println(anyBaseline() ? HEADER_BASE : HEADER);
            for (Row r : rows) o.println(format(r, ceilings));
            if (baselines != null) o.println("baseline  " + baselines);
        }
        o.println();
        double tm = model.trainMedianMs(), im = model.inferMedianMs();
        o.printf("model     ConvUNeXt, %,d parameters, batch norm%n", model.params());
        o.printf("train     median %.1f ms per step (min %.1f, %d steps) = %.2f images/s; last loss %.4f%n",
                tm, model.trainMs()[0], model.trainMs().length, config.batch() / (tm * 1e-3), model.lastLoss());
        o.printf("inference median %.1f ms per batch (min %.1f) = %.2f images/s%n",
                im, model.inferMs()[0], config.batch() / (im * 1e-3));
        o.printf("memory    peak JVM heap %.1f MiB (max heap %.0f MiB): %s%n",
                model.peakHeapBytes() / 1048576.0, model.maxHeapBytes() / 1048576.0, model.memoryNote());
        if (model.stepAllocBytes() >= 0)
            o.printf("allocated %.1f MiB of Java heap in the last training step, %.1f MiB in the last inference (all threads;"
                            + " hundreds of MiB mean boxed Vector API values: bench/NOTES.md, CPU round 16)%n",
                    model.stepAllocBytes() / 1048576.0, model.inferAllocBytes() / 1048576.0);
        if (model.devicePeak() != null)
            o.printf("device    peak %.1f MiB in use by tensors and workspaces, %.1f MiB reserved by the caching pool%n",
                    model.devicePeak()[0] / 1048576.0, model.devicePeak()[1] / 1048576.0);
        printBreakdown(o, "training step by op", model.breakdown());
        printBreakdown(o, "inference by op", model.inferBreakdown());
        if (torch != null) {
            o.println();
            o.printf("pytorch   %s on %s, %s threads: train step %.1f ms, inference %.1f ms%n", torch.get("torch_version"),
                    torch.get("device"), torch.get("threads"), num(torch.get("train_step_ms")), num(torch.get("infer_ms")));
            if (torch.get("ceilings") instanceof Map<?, ?> tc && tc.get("fp32_gemm_tflop_s") instanceof Number peak) {
                double copy = tc.get("copy_gb_s") instanceof Number c ? c.doubleValue() : Double.NaN;
                o.printf("pytorch   ceilings on the same device: fp32 GEMM (TF32 off) %.1f TFLOP/s, copy %.0f GB/s; our linear "
                                + "ceiling is %.0f %% of that fp32 peak, our copy %.0f %% of that copy%n", peak.doubleValue(), copy,
                        100 * ceilings.flopsPerS() / (peak.doubleValue() * 1e12), 100 * ceilings.bytesPerS() / (copy * 1e9));
            }
            Object comp = torch.get("compiled");
            if (comp instanceof Map<?, ?> cm && cm.get("train_step_ms") != null)
                o.printf("pytorch   torch.compile: train step %.1f ms, inference %.1f ms%n",
                        num(cm.get("train_step_ms")), num(cm.get("infer_ms")));
            Map<String, Object> ratio = ratios();
            o.printf("ratio     ours / pytorch: train step %.3f (%.2f× %s), inference %.3f (%.2f× %s)%n",
                    num(ratio.get("train_step")), speed(num(ratio.get("train_step"))), word(num(ratio.get("train_step"))),
                    num(ratio.get("inference")), speed(num(ratio.get("inference"))), word(num(ratio.get("inference"))));
            if (ratio.containsKey("peak_device_memory"))
                o.printf("ratio     peak device memory ours / pytorch (in use, max_memory_allocated): %.3f (%.1f vs %.1f MiB)%n",
                        num(ratio.get("peak_device_memory")), model.devicePeak()[0] / 1048576.0,
                        num(torch.get("peak_device_bytes")) / 1048576.0);
        } else if (torchError != null) {
            o.println();
            o.println("pytorch   not measured: " + torchError);
        }
        if (anchors != null) printAnchors(o);
    }

    @SuppressWarnings("unchecked")
    private void printAnchors(PrintStream o) {
        o.println();
        o.printf("side by side: %s, %s rounds alternated (ours, then each anchor, per round); medians over rounds; anchors' OMP_WAIT_POLICY=%s%n",
                config.describe().replaceAll(";.*", ""), anchors.get("rounds"), anchors.get("omp_wait_policy"));
        o.printf("%-16s %-14s %12s %12s %10s %10s  %s%n", "engine", "role", "train ms", "infer ms", "ours/it tr", "ours/it inf", "version");
        for (Object eo : (List<Object>) anchors.get("engines")) {
            Map<String, Object> e = (Map<String, Object>) eo;
            String ver = e.containsKey("torch_version") ? (e.containsKey("djl_version") ? "libtorch " + e.get("torch_version")
                    + " (" + e.get("native") + ", mkl " + e.get("mkl") + ", onednn " + e.get("mkldnn") + ") via DJL " + e.get("djl_version")
                    : "torch " + e.get("torch_version") + ", BLAS " + e.get("blas")) : "";
            if (e.containsKey("error")) ver += (ver.isEmpty() ? "" : "; ") + "error: " + e.get("error");
            o.printf("%-16s %-14s %12.1f %12.1f %10s %10s  %s%n", e.get("id"), e.get("role"), num(e.get("train_step_ms")),
                    num(e.get("infer_ms")), e.containsKey("ratio_ours_train") ? String.format("%.3f", num(e.get("ratio_ours_train"))) : "",
                    e.containsKey("ratio_ours_infer") ? String.format("%.3f", num(e.get("ratio_ours_infer"))) : "", ver);
            o.printf("%-16s load average before each round: %s%n", "", e.get("load_avg_before"));
        }
        double g = ceilings.flopsPerS();
        o.printf("floor     step %.1f GFLOP of multiply-adds, inference %.1f GFLOP: at this run's GEMM ceiling (%.1f GFLOP/s) %.0f ms and %.0f ms%n",
                num(anchors.get("train_step_mac_flops")) / 1e9, num(anchors.get("infer_mac_flops")) / 1e9, g / 1e9,
                num(anchors.get("train_step_mac_flops")) / g * 1e3, num(anchors.get("infer_mac_flops")) / g * 1e3);
        for (Object eo : (List<Object>) anchors.get("engines")) {
            Map<String, Object> e = (Map<String, Object>) eo;
            if (!"ours".equals(e.get("id"))) continue;
            o.printf("floor     ours: step %.2f× its floor, inference %.2f× (median ms over floor ms)%n",
                    num(e.get("train_step_ms")) / (num(anchors.get("train_step_mac_flops")) / g * 1e3),
                    num(e.get("infer_ms")) / (num(anchors.get("infer_mac_flops")) / g * 1e3));
            if (e.get("floor_ratio_train_per_round") instanceof List<?> fr && !fr.isEmpty())
                o.printf("floor     per round, at the GEMM ceiling measured around our run in that round (%s GFLOP/s): step %.2f× "
                                + "(median; rounds %s), inference %.2f× (the figure to read: one ceiling measured in a slow "
                                + "moment lowers the floor)%n", rounds(e.get("gemm_ceiling_gflop_s_per_round"), "%.0f"),
                        num(e.get("floor_ratio_train")), rounds(fr, "%.2f"), num(e.get("floor_ratio_infer")));
        }
    }

    private static double num(Object v) { return v instanceof Number n ? n.doubleValue() : Double.NaN; }

    /** Per-round values, comma-separated ("–" for a round without one). */
    private static String rounds(Object v, String fmt) {
        if (!(v instanceof List<?> l)) return "–";
        StringBuilder b = new StringBuilder();
        for (Object x : l) b.append(b.length() == 0 ? "" : ", ").append(x instanceof Number n ? String.format(fmt, n.doubleValue()) : "–");
        return b.toString();
    }

    private static double speed(double ratio) { return ratio < 1 ? 1 / ratio : ratio; }

    private static String word(double ratio) { return ratio < 1 ? "faster" : "slower"; }

    /** Our median time divided by PyTorch's eager median time, for the step and for inference. */
    public Map<String, Object> ratios() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (torch == null) return m;
        m.put("train_step", model.trainMedianMs() / num(torch.get("train_step_ms")));
        m.put("inference", model.inferMedianMs() / num(torch.get("infer_ms")));
        if (model.devicePeak() != null && torch.get("peak_device_bytes") != null)
            m.put("peak_device_memory", model.devicePeak()[0] / num(torch.get("peak_device_bytes")));
        return m;
    }

    // ------------------------------------------------------------------ JSON

    private static Map<String, Object> rowJson(Row r, Ceilings c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", r.op());
        m.put("layer", r.layer());
        m.put("pass", r.pass());
        m.put("shape", r.shape());
        m.put("median_ms", r.medianMs());
        m.put("min_ms", r.minMs());
        m.put("bytes", r.cost().bytes());
        m.put("flops", r.cost().flops());
        m.put("gb_s", r.gbPerS());
        m.put("gflop_s", r.gflopPerS());
        if (c != null) {
            m.put("pct_roofline", r.pctRoofline(c));
            m.put("bound", r.bound(c));
        }
        Baseline b = r.baseline();
        if (b != null) {
            m.put("baseline", b.name());
            m.put("baseline_ms", b.medianMs());
            m.put("baseline_min_ms", b.minMs());
            if (Double.isFinite(b.extraMs())) m.put("baseline_extra_ms", b.extraMs());
            m.put("baseline_note", b.note());
            m.put("ratio_ours_over_baseline", r.ratioToBaseline());
        }
        return m;
    }

    private static List<Object> list(double[] a) {
        List<Object> l = new ArrayList<>();
        for (double v : a) l.add(v);
        return l;
    }

    public Map<String, Object> toJson() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("schema", SCHEMA);
        j.put("backend", backend);
        j.put("describe", describe);
        j.put("timing", timing);
        j.put("command", command);
        j.put("java", System.getProperty("java.version"));
        j.put("cpu_threads", Runtime.getRuntime().availableProcessors());
        j.put("date", java.time.Instant.now().toString());
        // Other processes on the machine slow both us and PyTorch; the ratio is meaningful, absolute times less so.
        j.put("load_avg_1m", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("batch", config.batch());
        cfg.put("size", config.size());
        cfg.put("base_c", config.baseC());
        cfg.put("classes", config.classes());
        cfg.put("warmup", config.warmup());
        cfg.put("reps", config.reps());
        cfg.put("steps", config.steps());
        j.put("config", cfg);
        Map<String, Object> ceil = new LinkedHashMap<>();
        ceil.put("copy_gb_s", ceilings.bytesPerS() / 1e9);
        ceil.put("gemm_gflop_s", ceilings.flopsPerS() / 1e9);
        ceil.put("copy", rowJson(ceilings.copy(), null));
        ceil.put("gemm", rowJson(ceilings.gemm(), null));
        j.put("ceilings", ceil);
        List<Object> rs = new ArrayList<>();
        for (Row r : rows) rs.add(rowJson(r, ceilings));
        j.put("rows", rs);
        if (baselines != null) j.put("baseline_status", baselines);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("params", model.params());
        m.put("train_step_ms", model.trainMedianMs());
        m.put("train_steps_ms", list(model.trainMs()));
        m.put("warmup_steps", ModelBench.warmupSteps(config));
        m.put("train_images_s", config.batch() / (model.trainMedianMs() * 1e-3));
        m.put("last_loss", model.lastLoss());
        m.put("infer_ms", model.inferMedianMs());
        m.put("infer_runs_ms", list(model.inferMs()));
        m.put("infer_images_s", config.batch() / (model.inferMedianMs() * 1e-3));
        m.put("peak_heap_bytes", model.peakHeapBytes());
        m.put("max_heap_bytes", model.maxHeapBytes());
        m.put("memory_note", model.memoryNote());
        if (model.stepAllocBytes() >= 0) {
            m.put("heap_alloc_bytes_last_step", model.stepAllocBytes());
            m.put("heap_alloc_bytes_last_inference", model.inferAllocBytes());
        }
        if (model.devicePeak() != null) {
            m.put("peak_device_bytes", model.devicePeak()[0]);
            m.put("peak_device_reserved_bytes", model.devicePeak()[1]);
        }
        m.put("step_breakdown", breakdownJson(model.breakdown()));
        m.put("infer_breakdown", breakdownJson(model.inferBreakdown()));
        j.put("model", m);
        j.put("torch", torch);
        if (torchError != null) j.put("torch_error", torchError);
        j.put("ratio_ours_over_torch", ratios());
        if (anchors != null) j.put("anchors", anchors);
        return j;
    }

    /**
     * Per op: ms, share, calls, heap, and its multiply-add FLOPs at the run's GEMM ceiling: its
     * share of the FLOP floor and the milliseconds it spends above that share (all of them, for an
     * op with no FLOPs).
     */
    private void printBreakdown(PrintStream o, String title, Map<String, double[]> ops) {
        if (ops == null || ops.isEmpty()) return;
        double sum = 0;
        for (double[] v : ops.values()) sum += v[0];
        double rate = ceilings.flopsPerS(), gflop = 0, over = 0;
        o.println();
        o.printf("%-22s %10s %6s %6s %10s %8s %8s %8s %10s%n", title, "ms", "%", "calls", "heap MiB",
                "GFLOP", "GFLOP/s", "% ceil", "over floor");
        for (Map.Entry<String, double[]> e : ops.entrySet()) {
            double[] v = e.getValue();
            double g = v.length > 3 ? v[3] : 0, floorMs = g * 1e12 / rate;
            gflop += g;
            over += v[0] - floorMs;
            // heap MiB far above an op's output size points at boxed Vector-API values (see bench/NOTES.md)
            o.printf("%-22s %10.2f %6.1f %6d %10.1f %8s %8s %8s %10.2f%n", e.getKey(), v[0], 100 * v[0] / sum,
                    (long) v[1], v[2], g > 0 ? String.format("%.2f", g) : "-", g > 0 ? String.format("%.1f", g / v[0] * 1e3) : "-",
                    g > 0 ? String.format("%.1f", 100 * floorMs / v[0]) : "-", v[0] - floorMs);
        }
        o.printf("%-22s %10.2f %6s %6s %10s %8.2f %8.1f %8.1f %10.2f%n", "sum of ops", sum, "", "", "", gflop,
                gflop / sum * 1e3, 100 * gflop * 1e12 / rate / sum, over);
    }

    private static List<Object> breakdownJson(Map<String, double[]> ops) {
        List<Object> br = new ArrayList<>();
        for (Map.Entry<String, double[]> e : ops.entrySet()) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("op", e.getKey());
            b.put("ms", e.getValue()[0]);
            b.put("calls", (long) e.getValue()[1]);
            b.put("heap_mib", e.getValue()[2]);
            if (e.getValue().length > 3 && e.getValue()[3] > 0) b.put("gflop", e.getValue()[3]);
            br.add(b);
        }
        return br;
    }
}
