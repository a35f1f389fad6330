package convunext.bench;

import convunext.backend.Precision;
import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.Devices;
import convunext.io.AtomicFiles;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-kernel device times of the phases {@link StepPrediction} predicts (a training step, an
 * inference batch as predict runs it), measured launch by launch: the CUDA backend runs eager (no
 * graphs) on a {@link KernelTimingDevice}, which brackets every launch, memset and device copy with
 * CUDA events; each phase is recorded {@code --reps} times after {@code --warmups} unrecorded ones,
 * and each call's median and minimum over the repetitions are written, one line per call in launch
 * order, so the file lines up with the dry run's log call by call (StepPrediction joins them for its
 * "measured µs" column and refuses a file whose calls are not this build's). Every repetition must
 * issue the same calls.
 *
 * <pre>java -cp convunext.jar convunext.bench.KernelTimes --out kernels.tsv [--device cuda] [--batch 4 --size 480
 *     --base-c 32] [--reps 10 --warmups 3]</pre>
 */
public final class KernelTimes {
    /** The TSV's column header. */
    static final String HEADER = "phase\tindex\tkernel\tgrid\tblock\tshared\tbytes\tmedian_us\tmin_us";

    private KernelTimes() {}

    /** One call of a phase, measured: its kernel (or "memset" / "copy"), geometry and times. */
    record Measured(String phase, int index, String kernel, String grid, String block, int shared, long bytes,
                    double medianUs, double minUs) {
        /** As {@link KernelTimes#signature} of the call it measured: what a dry-run log is joined on. */
        String signature() { return kernel + " " + grid + " " + block + " " + bytes; }
    }

    static String dims(int[] d) {
        if (d == null) return "-";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < d.length; i++) b.append(i == 0 ? "" : ",").append(d[i]);
        return b.toString();
    }

    /** The name of a call in the TSV and in the join: the kernel, or the memory operation. */
    static String name(DryRunDevice.Call c) { return c.kernel() != null ? c.kernel() : c.memOp(); }

    /** Medians and minima per call over the repetitions of each phase; every repetition must issue the same calls. */
    static List<Measured> measure(CudaBackend be, KernelTimingDevice dev, int batch, int size, int baseC, int warmups, int reps) {
        Map<String, List<List<KernelTimingDevice.Timed>>> p = StepPrediction.phases(be, new StepPrediction.Recorder<>() {
            @Override public void start() { dev.record(); }
            @Override public List<KernelTimingDevice.Timed> stop() { return dev.stop(); }
        }, batch, size, baseC, warmups, reps, false);
        List<Measured> out = new ArrayList<>();
        for (Map.Entry<String, List<List<KernelTimingDevice.Timed>>> e : p.entrySet()) {
            List<List<KernelTimingDevice.Timed>> runs = e.getValue();
            List<KernelTimingDevice.Timed> first = runs.get(0);
            for (int k = 1; k < runs.size(); k++) {
                List<KernelTimingDevice.Timed> r = runs.get(k);
                for (int i = 0; i < Math.max(first.size(), r.size()); i++) {
                    String a = i < first.size() ? signature(first.get(i).call()) : "(none)";
                    String b = i < r.size() ? signature(r.get(i).call()) : "(none)";
                    if (!a.equals(b))
                        throw new IllegalStateException(e.getKey() + ": repetition " + k + " issued another call at " + i + ": " + b + " instead of " + a);
                }
            }
            for (int i = 0; i < first.size(); i++) {
                double[] us = new double[runs.size()];
                for (int k = 0; k < us.length; k++) us[k] = runs.get(k).get(i).us();
                Arrays.sort(us);
                double med = us.length % 2 == 1 ? us[us.length / 2] : 0.5 * (us[us.length / 2 - 1] + us[us.length / 2]);
                DryRunDevice.Call c = first.get(i).call();
                out.add(new Measured(e.getKey(), i, name(c), dims(c.grid()), dims(c.block()), c.shared(), c.bytes(), med, us[0]));
            }
        }
        return out;
    }

    static String signature(DryRunDevice.Call c) { return name(c) + " " + dims(c.grid()) + " " + dims(c.block()) + " " + c.bytes(); }

    static String tsv(List<Measured> rows, List<String> comments) {
        StringBuilder b = new StringBuilder();
        for (String c : comments) b.append("# ").append(c).append('\n');
        b.append(HEADER).append('\n');
        for (Measured m : rows)
            b.append(String.format(Locale.ROOT, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t%.2f\t%.2f%n", m.phase(), m.index(), m.kernel(), m.grid(),
                    m.block(), m.shared(), m.bytes(), m.medianUs(), m.minUs()));
        return b.toString();
    }

    /** Reads a file {@link #tsv} wrote (comment lines skipped); IllegalArgumentException naming the line otherwise. */
    static List<Measured> read(Path file) throws java.io.IOException {
        List<Measured> out = new ArrayList<>();
        List<String> lines = java.nio.file.Files.readAllLines(file);
        boolean header = false;
        for (int n = 0; n < lines.size(); n++) {
            String l = lines.get(n);
            if (l.startsWith("#") || l.isBlank()) continue;
            if (!header) {
                if (!l.equals(HEADER)) throw new IllegalArgumentException(file + ":" + (n + 1) + ": expected the header '" + HEADER + "'");
                header = true;
                continue;
            }
            String[] f = l.split("\t", -1);
            try {
                if (f.length != 9) throw new IllegalArgumentException("9 columns expected, found " + f.length);
                out.add(new Measured(f[0], Integer.parseInt(f[1]), f[2], f[3], f[4], Integer.parseInt(f[5]), Long.parseLong(f[6]),
                        Double.parseDouble(f[7]), Double.parseDouble(f[8])));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ":" + (n + 1) + ": " + e.getMessage(), e);
            }
        }
        if (!header) throw new IllegalArgumentException(file + ": no header line '" + HEADER + "'");
        return out;
    }

    /** Per phase: the sum of the medians and the kernels with the most time. */
    static String summary(List<Measured> rows) {
        StringBuilder b = new StringBuilder();
        Map<String, Map<String, double[]>> by = new TreeMap<>();
        for (Measured m : rows) {
            double[] a = by.computeIfAbsent(m.phase(), k -> new TreeMap<>()).computeIfAbsent(m.kernel(), k -> new double[2]);
            a[0] += m.medianUs();
            a[1]++;
        }
        for (Map.Entry<String, Map<String, double[]>> e : by.entrySet()) {
            double total = e.getValue().values().stream().mapToDouble(a -> a[0]).sum();
            long calls = Math.round(e.getValue().values().stream().mapToDouble(a -> a[1]).sum());
            b.append(String.format(Locale.ROOT, "%s: %d calls, sum of per-call medians %.3f ms%n", e.getKey(), calls, total / 1e3));
            e.getValue().entrySet().stream().sorted((x, y) -> Double.compare(y.getValue()[0], x.getValue()[0])).limit(12)
                    .forEach(k -> b.append(String.format(Locale.ROOT, "  %-44s %4d calls %9.1f us %5.1f %%%n", k.getKey(),
                            (int) k.getValue()[1], k.getValue()[0], 100 * k.getValue()[0] / total)));
        }
        return b.toString();
    }

    /** Exit 2 on a bad argument, 1 when the device or the run fails: one line either way. */
    public static void main(String[] args) {
        try {
            run(args);
        } catch (IllegalArgumentException e) {
            System.err.println("KernelTimes: " + e.getMessage());
            System.exit(2);
        } catch (RuntimeException e) {
            System.err.println("KernelTimes: " + e);
            System.exit(1);
        }
    }

    private static int intArg(String option, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " expects an integer, got '" + v + "'");
        }
    }

    static void run(String[] args) {
        String device = "cuda";
        int batch = 4, size = 480, baseC = 32, reps = 10, warmups = 3;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            switch (a) {
                case "--device" -> device = args[++i];
                case "--batch" -> batch = intArg(a, args[++i]);
                case "--size" -> size = intArg(a, args[++i]);
                case "--base-c" -> baseC = intArg(a, args[++i]);
                case "--reps" -> reps = intArg(a, args[++i]);
                case "--warmups" -> warmups = intArg(a, args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        if (out == null) throw new IllegalArgumentException("--out FILE is required");
        if (reps < 1 || warmups < 1 || batch < 1 || size < 64 || baseC < 1)
            throw new IllegalArgumentException("--reps and --warmups >= 1, --batch >= 1, --size >= 64, --base-c >= 1");
        KernelTimingDevice dev = new KernelTimingDevice(Devices.open(device));
        CudaBackend backend;
        try {
            backend = new CudaBackend(dev, true, Precision.FP32, false);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
        try (CudaBackend be = backend) {   // closes dev too
            List<Measured> rows = measure(be, dev, batch, size, baseC, warmups, reps);
            List<String> comments = List.of(
                    "per-call device times (CUDA events around each call, eager: no graphs), medians and minima of " + reps
                            + " recordings after " + warmups + " warm-ups; convunext.bench.KernelTimes",
                    "device: " + dev.describe(),
                    String.format(Locale.ROOT, "shape: batch %d, 3x%dx%d, base_c %d, 2 classes, batch norm, fp32, GELU epilogues fused",
                            batch, size, size, baseC),
                    "date: " + Instant.now());
            AtomicFiles.writeString(out, tsv(rows, comments));
            System.out.print(summary(rows));
            System.out.println("wrote " + out);
        }
    }
}
