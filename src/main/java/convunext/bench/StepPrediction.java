package convunext.bench;

import convunext.backend.Precision;
import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.Kernels;
import convunext.nn.ConvUNeXt;
import convunext.nn.InferenceModel;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.Predictor;
import convunext.train.TrainStep;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The GPU prediction before measurement: the launch log of one training step (and of one
 * inference batch) at the reference shape, taken by the CUDA backend's own launchers on a
 * {@link DryRunDevice}, each launch costed by {@link KernelCost} (OpCost's conventions) and timed by
 * one stated model at H200 ceilings, with each kernel's efficiency read from its PTX
 * (bench/ptx-stats.tsv: shared loads and integer divisions per FMA, vector or scalar global loads)
 * and the launch's grid (too few blocks to fill the GPU). bench/NOTES.md's generated section is
 * this output; StepPredictionTest fails when it is stale, so a change to a kernel or a launcher
 * shows its predicted effect in the diff, and CI prints it.
 *
 * <pre>java -cp target/convunext.jar convunext.bench.StepPrediction [--notes bench/NOTES.md] [--batch 4 --size 480 --base-c 32]</pre>
 */
public final class StepPrediction {
    /**
     * What the H200 runs measured at the reference shape with `bench` (bench/results/gpu-h200-r1,
     * -r2, -r3 on the kernels before r5's dwconv7 change; -r5 after it): ours, PyTorch eager.
     */
    static final String MEASURED_TRAIN_MS = "37.5 / 38.1 / 38.1 → 36.7", MEASURED_INFER_MS = "9.90 / 10.06 / 10.08 → 9.85",
            MEASURED_TORCH_TRAIN_MS = "75.2 / 78.8 / 76.9 / 79.3", MEASURED_TORCH_INFER_MS = "21.4 / 22.4 / 21.7 / 22.1";

    /** H200 device-to-device copy, bytes read + written per second: measured on the lent machine (shared/device). */
    public static final double COPY_BYTES_PER_S = 4.3e12;
    /** H200 FP32 SIMT peak at load clocks: 132 SMs x 128 lanes x 2 FLOPs x ~1.78 GHz (datasheet 67 at boost). */
    public static final double FP32_FLOPS_PER_S = 60e12;
    /**
     * H200 dense tensor-core peaks (NVIDIA H200 datasheet: BF16 1,979 and TF32 989 TFLOP/s "with
     * sparsity", i.e. 989 and 494 dense), the ceilings of the _bf16 / _tf32 kernels.
     */
    public static final double BF16_TC_FLOPS_PER_S = 989e12, TF32_TC_FLOPS_PER_S = 494e12;
    /**
     * The fraction of that peak mma.sync (what WMMA compiles to; not Hopper's wgmma) keeps at load
     * clocks: microbenchmarks put mma.sync at about 2/3 of wgmma's rate on Hopper (Luo et al.,
     * "Benchmarking and Dissecting the Nvidia Hopper GPU Architecture", arXiv:2402.13499), times the
     * 0.9 clock ratio the FP32 ceiling uses (60 of 67 TFLOP/s).
     */
    static final double MMA_SYNC_EFFICIENCY = 0.6;
    /** SIMT issue slots per operand element rounded into the WMMA stage (shared load, cvt, shared store, index). */
    static final double ROUND_INSTR_PER_ELEMENT = 4;
    /** Fixed cost per kernel: ramp-up and tail of a launch back to back with the previous one. */
    public static final double LAUNCH_US = 2.0;
    static final int SMS = 132;

    /**
     * PTX statistics of one kernel (bench/ptx-stats.tsv): the entry's static counts and those of its
     * hot loop (the loop with the most FMAs; the entry's when it has none, e.g. fully unrolled).
     */
    record Ptx(int regs, int smem, int fma, int lds, int ldg, int ldgVec, int idiv, int loopFma, int loopLds, int loopIdiv) {
        int hotFma() { return loopFma > 0 ? loopFma : fma; }
        int hotLds() { return loopFma > 0 ? loopLds : lds; }
        int hotIdiv() { return loopFma > 0 ? loopIdiv : idiv; }
        double ldsPerFma() { return hotFma() == 0 ? 0 : (double) hotLds() / hotFma(); }
        double idivPerFma() { return hotFma() == 0 ? 0 : (double) hotIdiv() / hotFma(); }

        /** FMA issue efficiency: 4 warp instructions issue per SM clock, 1 shared load; a division is ~20 instructions. */
        double fmaEfficiency() {
            double f = hotFma();
            if (f == 0) return 1;
            return 0.88 * (f / 4) / Math.max((f + 20.0 * hotIdiv()) / 4, hotLds());
        }
    }

    static Map<String, Ptx> readPtxStats(Path tsv) throws IOException {
        Map<String, Ptx> m = new HashMap<>();
        if (!Files.isRegularFile(tsv)) return m;
        for (String line : Files.readAllLines(tsv, StandardCharsets.UTF_8)) {
            if (line.startsWith("#") || line.startsWith("kernel\t") || line.isBlank()) continue;
            String[] f = line.split("\t");
            int[] v = new int[10];
            for (int i = 0; i < 10; i++) v[i] = Integer.parseInt(f[i + 2]);
            m.put(f[0], new Ptx(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]));
        }
        return m;
    }

    /**
     * The model, per launch: t = max(bytes / (copy rate x e_mem x fill), FLOPs / (FP32 peak x e_fma x fill))
     * + LAUNCH_US, with e_fma = 0.88 x (FMA/4) / max((FMA + 20 IDIV)/4, LDS) over the PTX's hot loop
     * (an SM issues 4 warp instructions per clock but 1 warp shared load; an integer division is ~20
     * instructions; 0.88 issue efficiency), e_mem = 0.85 with vector global loads, 0.65 with scalar
     * ones (one 4-byte load in flight per thread), and fill = min(1, blocks / (2 x 132)) (a grid
     * too small to fill the GPU).
     */
    static double predictUs(String kernel, int[] grid, OpCost c, Ptx p) {
        double blocks = (double) grid[0] * (grid.length > 1 ? grid[1] : 1) * (grid.length > 2 ? grid[2] : 1);
        double fill = Math.min(1, blocks / (2.0 * SMS));
        double eFma = 1, eMem = 0.65;
        if (p != null) {
            eFma = p.fmaEfficiency();
            if (p.ldgVec() > 0) eMem = 0.85;
        }
        double mem = c.bytes() / (COPY_BYTES_PER_S * eMem * fill), cmp = c.flops() / (computePeak(kernel) * efficiency(kernel, p) * fill);
        return Math.max(mem, cmp) * 1e6 + LAUNCH_US;
    }

    /** The kernel's compute ceiling: the tensor cores' dense peak for a _bf16 / _tf32 form, else FP32 SIMT. */
    static double computePeak(String kernel) {
        return kernel.endsWith("_bf16") ? BF16_TC_FLOPS_PER_S : kernel.endsWith("_tf32") ? TF32_TC_FLOPS_PER_S : FP32_FLOPS_PER_S;
    }

    /** The compute efficiency against {@link #computePeak}: {@link #tensorCoreEfficiency} or the PTX's e_fma. */
    static double efficiency(String kernel, Ptx p) {
        if (kernel.endsWith("_bf16") || kernel.endsWith("_tf32")) return tensorCoreEfficiency(kernel);
        return p == null ? 1 : p.fmaEfficiency();
    }

    /**
     * e_tc of a tensor-core kernel (gemm_tc.cuh), per K slice of GT_BK on one SM: the tile's
     * 2·BM·BN·BK FLOPs take t_mma = 2·BM·BN·BK / (R × MMA_SYNC_EFFICIENCY) clocks (R = peak / (132 SMs
     * × 1.83 GHz): 4,096 FLOPs per clock bf16, 2,048 TF32), and the rounding of the slice's
     * (BM + BN)·BK operands into the WMMA stage takes (BM + BN)·BK·4 / 128 clocks of SIMT issue
     * (4 warp instructions per clock), not overlapped (a barrier separates them); e_tc =
     * (2·BM·BN·BK / R) / (t_mma + t_round). Thin tiles (32 wide) round as much per FLOP as they
     * multiply, so they stay far below the peak.
     */
    static double tensorCoreEfficiency(String kernel) {
        int[] t = tile(kernel);
        double r = computePeak(kernel) / (SMS * 1.83e9), flops = 2.0 * t[0] * t[1] * Kernels.GT_BK;
        double mma = flops / (r * MMA_SYNC_EFFICIENCY), round = (t[0] + t[1]) * (double) Kernels.GT_BK * ROUND_INSTR_PER_ELEMENT / 128;
        return flops / r / (mma + round);
    }

    /** {BM, BN} of a tile kernel from its name: _bm128 / _bm64 / _bm32 (geometry.h's GT_L/M/S) or _BMxBN. */
    static int[] tile(String kernel) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("_(\\d+)x(\\d+)(_(tf32|bf16))?$").matcher(kernel);
        if (m.find()) return new int[]{Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
        m = java.util.regex.Pattern.compile("_bm(\\d+)(_(tf32|bf16))?$").matcher(kernel);
        if (!m.find()) throw new IllegalArgumentException("no tile in the kernel name " + kernel);
        int bm = Integer.parseInt(m.group(1));
        return new int[]{bm, bm == Kernels.GT_S_BM ? Kernels.GT_S_BN : bm == Kernels.GT_M_BM ? Kernels.GT_M_BN : Kernels.GT_L_BN};
    }

    /** Aggregate of one kernel over a log. */
    static final class Row {
        final String kernel;
        int launches;
        double bytes, flops, us;
        Row(String kernel) { this.kernel = kernel; }
    }

    /** The costed log of one step or inference: per kernel, plus memsets/copies. */
    record Costed(Map<String, Row> rows, int launches, int memOps, double memBytes, double us) {}

    static Costed cost(List<DryRunDevice.Call> log, Map<String, Ptx> ptx) {
        Map<String, Row> rows = new TreeMap<>();
        int launches = 0, memOps = 0;
        double memBytes = 0, us = 0;
        for (DryRunDevice.Call c : log) {
            if (c.kernel() == null) {
                memOps++;
                double b = c.memOp().equals("copy") ? 2.0 * c.bytes() : c.bytes();
                memBytes += b;
                us += b / (COPY_BYTES_PER_S * 0.85) * 1e6 + LAUNCH_US;
                continue;
            }
            launches++;
            OpCost oc = KernelCost.of(c.kernel(), c.grid(), c.args());
            double t = predictUs(c.kernel(), c.grid(), oc, ptx.get(c.kernel()));
            Row r = rows.computeIfAbsent(c.kernel(), Row::new);
            r.launches++;
            r.bytes += oc.bytes();
            r.flops += oc.flops();
            r.us += t;
            us += t;
        }
        return new Costed(rows, launches, memOps, memBytes, us);
    }

    /** Records one phase: {@code start} before it, {@code stop} after, returning what it recorded. */
    interface Recorder<T> {
        void start();
        T stop();
    }

    /**
     * The phases the prediction costs and {@link KernelTimes} measures, run on {@code be} at batch x
     * 3 x size², base_c {@code baseC}, 2 classes, on fixed random images and labels: "train" (a
     * training step, after {@code warmups} of them), "infer" (one batch as Predictor runs it for
     * predict, evaluate, the API and validation: BatchNorm folded into {@link InferenceModel}, after
     * {@code warmups} batches) and, when {@code unfolded}, "unfolded" (TrainStep.inferLogits, the
     * eval forward with BatchNorm as an op), each recorded {@code reps} times.
     */
    static <T> Map<String, List<T>> phases(CudaBackend be, Recorder<T> rec, int batch, int size, int baseC,
                                           int warmups, int reps, boolean unfolded) {
        Map<String, List<T>> out = new LinkedHashMap<>();
        ConvUNeXt m = new ConvUNeXt(new ConvUNeXt.Config(3, 2, baseC, Norm.BATCH), be, 0);
        try (AdamW opt = AdamW.withDefaults(m.params)) {
            Random r = new Random(1);
            float[] xs = new float[batch * 3 * size * size], ys = new float[batch * size * size];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
            for (int i = 0; i < ys.length; i++) ys[i] = r.nextInt(2);
            Tensor x = be.upload(xs, batch, 3, size, size), y = be.upload(ys, batch, size, size);
            for (int w = 0; w < warmups; w++) TrainStep.run(m, opt, x, y, 1e-3);
            List<T> train = new ArrayList<>();
            for (int k = 0; k < reps; k++) {
                rec.start();
                TrainStep.run(m, opt, x, y, 1e-3);
                train.add(rec.stop());
            }
            out.put("train", train);
            try (InferenceModel im = InferenceModel.of(m)) {
                for (int w = 0; w < warmups; w++) Predictor.foldedLogits(im, be, x);   // the pool's first allocations
                List<T> infer = new ArrayList<>();
                for (int k = 0; k < reps; k++) {
                    rec.start();
                    Predictor.foldedLogits(im, be, x);
                    infer.add(rec.stop());
                }
                out.put("infer", infer);
            }
            if (unfolded) {
                List<T> u = new ArrayList<>();
                for (int k = 0; k < reps; k++) {
                    rec.start();
                    TrainStep.inferLogits(m, x);
                    u.add(rec.stop());
                }
                out.put("unfolded", u);
            }
        }
        return out;
    }

    /**
     * The launch logs of one training step (after a warm-up step), one inference batch as
     * predict / evaluate run it (Predictor: the BatchNorm-folded {@link InferenceModel}) and one
     * through the unfolded eval forward (TrainStep.inferLogits, BatchNorm as an op).
     */
    static List<List<DryRunDevice.Call>> logs(int batch, int size, int baseC) { return logs(batch, size, baseC, Precision.FP32); }

    /** The same in {@code precision} (the launcher picks the _tf32 / _bf16 forms). */
    static List<List<DryRunDevice.Call>> logs(int batch, int size, int baseC, Precision precision) {
        DryRunDevice dev = new DryRunDevice();
        try (CudaBackend be = new CudaBackend(dev, true, precision, false)) {
            Map<String, List<List<DryRunDevice.Call>>> p = phases(be, new Recorder<>() {
                @Override public void start() { dev.record(); }
                @Override public List<DryRunDevice.Call> stop() { return dev.stop(); }
            }, batch, size, baseC, 1, 1, true);
            return List.of(p.get("train").get(0), p.get("infer").get(0), p.get("unfolded").get(0));
        }
    }

    private static String f(String fmt, Object... a) { return String.format(Locale.ROOT, fmt, a); }

    /** bench/NOTES.md's generated section (between the markers). */
    static String markdown(int batch, int size, int baseC, Map<String, Ptx> ptx) throws IOException {
        return markdown(batch, size, baseC, ptx, Files.exists(MEASURED_KERNELS) ? KernelTimes.read(MEASURED_KERNELS) : List.of());
    }

    /** The same with {@code measured} (KernelTimes' rows; empty: none) joined call by call to the dry run's logs. */
    static String markdown(int batch, int size, int baseC, Map<String, Ptx> ptx, List<KernelTimes.Measured> measured) {
        List<List<DryRunDevice.Call>> logs = logs(batch, size, baseC);
        Costed train = cost(logs.get(0), ptx), infer = cost(logs.get(1), ptx), unfolded = cost(logs.get(2), ptx);
        Join trainJoin = join(logs.get(0), measured, "train"), inferJoin = join(logs.get(1), measured, "infer");
        List<List<DryRunDevice.Call>> tfLogs = logs(batch, size, baseC, Precision.TF32), bfLogs = logs(batch, size, baseC, Precision.BF16);
        Costed tf = cost(tfLogs.get(0), ptx), tfInfer = cost(tfLogs.get(1), ptx);
        Costed bf = cost(bfLogs.get(0), ptx), bfInfer = cost(bfLogs.get(1), ptx);
        StringBuilder b = new StringBuilder();
        b.append(f("**Predicted, not measured** (generated by `convunext.bench.StepPrediction` from the launch log of "
                + "one step on a dry-run device and `bench/ptx-stats.tsv`; `StepPredictionTest` fails when this section is stale). "
                + "Batch %d, 3×%d², base_c %d, fp32: **one training step %.1f ms** (%d kernel launches, %d memsets/copies), "
                + "**inference %.1f ms** per batch (%d launches).%n%n", batch, size, baseC, train.us() / 1e3, train.launches(),
                train.memOps(), infer.us() / 1e3, infer.launches()));
        b.append(f("**Measured** on an H200 at this shape (2026-12-04, `bench/results/gpu-h200-r1`, `-r2`, `-r3`, `-r5`; "
                + "`bench --device cuda`, CUDA events, medians): training step %s ms, inference %s ms per batch, "
                + "so the model below is about 2× optimistic (per kernel below: where); PyTorch 2.11 eager with TF32 off took %s ms and %s ms "
                + "in the same runs. Per-op times are in those runs' `bench.json`; per-kernel times (r7) are joined into the tables below.%n%n",
                MEASURED_TRAIN_MS, MEASURED_INFER_MS, MEASURED_TORCH_TRAIN_MS, MEASURED_TORCH_INFER_MS));
        b.append(f("Inference is what `predict`, `evaluate`, the API and validation run on every backend (Predictor: the eval "
                + "forward with BatchNorm folded into the neighbouring weights, `nn.InferenceModel`); the unfolded eval forward "
                + "(`TrainStep.inferLogits`, BatchNorm as an op) would take %.1f ms (%d launches).%n%n", unfolded.us() / 1e3,
                unfolded.launches()));
        b.append(f("With `--precision tf32`: **step %.1f ms**, inference %.1f ms; with `--precision bf16`: **step %.1f ms**, "
                + "**inference %.1f ms** (%d launches per step; the launcher runs the `_tf32` / `_bf16` form of every kernel that "
                + "has one, %d of them in this step).%n%n", tf.us() / 1e3, tfInfer.us() / 1e3, bf.us() / 1e3, bfInfer.us() / 1e3,
                bf.launches(), bf.rows().keySet().stream().filter(k -> k.endsWith("_bf16")).count()));
        b.append(f("Model per launch: t = max(bytes / (%.1f TB/s × e_mem × fill), FLOPs / (%.0f TFLOP/s × e_fma × fill)) + %.0f µs; "
                + "e_fma = 0.88 × (FMA/4) / max((FMA + 20·IDIV)/4, LDS) over the hot loop of the kernel's PTX (4 warp "
                + "instructions issue per SM clock, 1 shared load; an integer division ≈ 20 instructions); e_mem = 0.85 with vector "
                + "global loads, else 0.65; fill = min(1, blocks / 264). Bytes and FLOPs: `KernelCost` in `OpCost`'s conventions "
                + "(compulsory traffic; a multiply-add 2 FLOPs, a transcendental 1: GELU %.0f, GELU′ %.0f).%n%n",
                COPY_BYTES_PER_S / 1e12, FP32_FLOPS_PER_S / 1e12, LAUNCH_US, OpCost.GELU_FLOPS, OpCost.GELU_BACKWARD_FLOPS));
        b.append(f("Tensor-core forms (`_bf16`, `_tf32`): the same bytes (fp32 operands in memory), FLOPs against the H200's dense "
                + "peaks (datasheet: bf16 %.0f, TF32 %.0f TFLOP/s) × e_tc × fill, e_tc = (2·BM·BN·BK / R) / (t_mma + t_round) per "
                + "K slice: t_mma = 2·BM·BN·BK / (R × %.1f) (mma.sync, not wgmma, at load clocks), t_round = (BM + BN)·BK·%.0f / 128 "
                + "(the slice rounded into the WMMA stage, 4 warp instructions per clock, not overlapped), R = peak / (132 × 1.83 GHz): "
                + "e_tc = %.2f (bm128), %.2f (bm64), %.2f (bm32), %.2f (32x32) bf16; %.2f (bm128), %.2f (bm32) TF32.%n%n",
                BF16_TC_FLOPS_PER_S / 1e12, TF32_TC_FLOPS_PER_S / 1e12, MMA_SYNC_EFFICIENCY, ROUND_INSTR_PER_ELEMENT,
                tensorCoreEfficiency("gemm_forward_bm128_bf16"), tensorCoreEfficiency("gemm_forward_bm64_bf16"),
                tensorCoreEfficiency("gemm_forward_bm32_bf16"), tensorCoreEfficiency("gemm_backward_weight_part_32x32_bf16"),
                tensorCoreEfficiency("gemm_forward_bm128_tf32"), tensorCoreEfficiency("gemm_forward_bm32_tf32")));
        b.append(measuredNote(trainJoin, inferJoin, train, infer));
        b.append("Training step, per kernel (sorted by predicted time):\n\n");
        table(b, train, ptx, trainJoin);
        b.append(f("%nInference (one batch as Predictor runs it), per kernel (sorted by predicted time):%n%n"));
        table(b, infer, ptx, inferJoin);
        b.append(f("%nThe bf16 training step, per kernel (sorted by predicted time; e is e_tc for the tensor-core forms; "
                + "nothing measured in bf16 yet):%n%n"));
        table(b, bf, ptx, Join.NONE);
        return b.toString();
    }

    /**
     * Measured per-call times joined to a dry-run log: per kernel (and "memset" / "copy") the sum of
     * the calls' medians, or, when the measured calls are not the log's (another build, shape or
     * phase), why not and nothing.
     */
    record Join(Map<String, Double> us, double totalUs, int calls, String problem) {
        static final Join NONE = new Join(Map.of(), 0, 0, "not measured");
        boolean ok() { return problem == null; }
        String cell(String kernel) { return ok() && us.containsKey(kernel) ? f("%.1f", us.get(kernel)) : "—"; }
    }

    static Join join(List<DryRunDevice.Call> log, List<KernelTimes.Measured> measured, String phase) {
        List<KernelTimes.Measured> m = measured.stream().filter(r -> r.phase().equals(phase)).toList();
        if (m.isEmpty()) return Join.NONE;
        for (int i = 0; i < Math.max(log.size(), m.size()); i++) {
            String want = i < log.size() ? KernelTimes.signature(log.get(i)) : "(none)";
            String got = i < m.size() ? m.get(i).signature() : "(none)";
            if (!want.equals(got))
                return new Join(Map.of(), 0, 0, f("the measured %s calls are not this build's (call %d: measured %s, this build %s)",
                        phase, i, got, want));
        }
        Map<String, Double> us = new TreeMap<>();
        double total = 0;
        for (KernelTimes.Measured r : m) {
            us.merge(r.kernel(), r.medianUs(), Double::sum);
            total += r.medianUs();
        }
        return new Join(us, total, m.size(), null);
    }

    /** The paragraph on the per-kernel measurement: where it comes from and how far the prediction is off. */
    private static String measuredNote(Join train, Join infer, Costed tp, Costed ip) {
        if (train == Join.NONE)
            return "\"measured µs\" waits for per-kernel times from a GPU run (`convunext.bench.KernelTimes`).\n\n";
        if (!train.ok()) return "Per-kernel times in `" + MEASURED_KERNELS + "` are left out: " + train.problem() + ".\n\n";
        return f("**Measured per kernel** (`%s`, written by `convunext.bench.KernelTimes` on the H200: the step run eager with "
                + "CUDA events around every call, medians of each call over 10 recordings): the training step's %d calls sum to "
                + "%.1f ms against %.1f ms predicted (measured / predicted %.2f), inference's %s; the step measured as one "
                + "CUDA graph takes %s ms, so the rest is launch gaps the eager run has and the graph removes. \"%% of bound\" "
                + "is the time at the bound over the measured time.%n%n", MEASURED_KERNELS, train.calls(), train.totalUs() / 1e3,
                tp.us() / 1e3, train.totalUs() / tp.us(), infer.ok() ? f("%d calls %.1f ms against %.1f ms (%.2f)", infer.calls(),
                        infer.totalUs() / 1e3, ip.us() / 1e3, infer.totalUs() / ip.us()) : "not joined: " + infer.problem(),
                MEASURED_TRAIN_MS);
    }

    /** The per-kernel table of one costed log, and its totals line. */
    private static void table(StringBuilder b, Costed train, Map<String, Ptx> ptx, Join measured) {
        b.append("| kernel | file | launches | MB | GFLOP | regs | LDS/FMA (hot loop) | IDIV/FMA | e_fma | loads | predicted µs "
                + "| µs at the bound | share | measured µs | % of bound |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
        List<Row> rows = new ArrayList<>(train.rows().values());
        rows.sort((p, q) -> Double.compare(q.us, p.us));
        for (Row r : rows) {
            Ptx p = ptx.get(r.kernel);
            int id = Kernels.NAMES.indexOf(r.kernel);
            String file = id < 0 ? "?" : Kernels.SOURCES.get(id).replaceAll(":.*", "");
            double bound = Math.max(r.bytes / COPY_BYTES_PER_S, r.flops / computePeak(r.kernel)) * 1e6;
            boolean tc = computePeak(r.kernel) != FP32_FLOPS_PER_S;
            Double mu = measured.ok() ? measured.us().get(r.kernel) : null;
            b.append(f("| %s | %s | %d | %.1f | %.2f | %s | %s | %s | %s | %s | %.1f | %.1f | %.1f %% | %s | %s |%n", r.kernel, file, r.launches,
                    r.bytes / 1e6, r.flops / 1e9, p == null ? "?" : String.valueOf(p.regs()),
                    p == null || tc ? "?" : f("%.2f", p.ldsPerFma()), p == null || tc ? "?" : f("%.2f", p.idivPerFma()),
                    tc ? f("%.2f tc", efficiency(r.kernel, p)) : p == null ? "?" : f("%.2f", p.fmaEfficiency()),
                    p == null ? "?" : p.ldgVec() > 0 ? "vector" : "scalar", r.us, bound, 100 * r.us / train.us(),
                    measured.cell(r.kernel), mu == null || mu <= 0 ? "—" : f("%.0f %%", 100 * bound / mu)));
        }
        double memUs = measured.ok() ? measured.us().getOrDefault("memset", 0.0) + measured.us().getOrDefault("copy", 0.0) : 0;
        b.append(f("| memsets and device copies | | %d | %.1f | | | | | | | %.1f | | | %s | |%n", train.memOps(), train.memBytes() / 1e6,
                Math.max(0, train.us() - rows.stream().mapToDouble(r -> r.us).sum()), measured.ok() ? f("%.1f", memUs) : "—"));
        double bytes = rows.stream().mapToDouble(r -> r.bytes).sum() + train.memBytes(), flops = rows.stream().mapToDouble(r -> r.flops).sum();
        double ideal = rows.stream().mapToDouble(r -> Math.max(r.bytes / COPY_BYTES_PER_S, r.flops / computePeak(r.kernel))).sum()
                + train.memBytes() / COPY_BYTES_PER_S;
        b.append(f("%nStep totals: %.1f GB moved, %.0f GFLOP; the op-by-op ideal (every launch at its bound, no launch cost) is "
                + "%.1f ms; predicted %.1f ms%s.%n", bytes / 1e9, flops / 1e9, ideal * 1e3, train.us() / 1e3,
                measured.ok() ? f("; measured, the sum of the calls' medians, %.1f ms", measured.totalUs() / 1e3) : ""));
    }

    /** KernelTimes' file from the H200, joined into the generated section when its calls are this build's. */
    static final Path MEASURED_KERNELS = Path.of("bench/results/gpu-h200-r7/kernels.tsv");

    static final String BEGIN = "<!-- prediction:begin (generated by convunext.bench.StepPrediction; do not edit) -->";
    static final String END = "<!-- prediction:end -->";

    /** {@code notes} with its generated section replaced by {@code section}. */
    static String replace(String notes, String section) {
        int a = notes.indexOf(BEGIN), e = notes.indexOf(END);
        if (a < 0 || e < a) throw new IllegalArgumentException("bench/NOTES.md lacks the markers " + BEGIN + " ... " + END);
        return notes.substring(0, a + BEGIN.length()) + "\n" + section + notes.substring(e);
    }

    public static void main(String[] args) throws IOException {
        int batch = 4, size = 480, baseC = 32;
        Path notes = null, stats = Path.of("bench/ptx-stats.tsv");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--size" -> size = Integer.parseInt(args[++i]);
                case "--base-c" -> baseC = Integer.parseInt(args[++i]);
                case "--notes" -> notes = Path.of(args[++i]);
                case "--ptx-stats" -> stats = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        String md = markdown(batch, size, baseC, readPtxStats(stats));
        if (notes != null) {
            String before = Files.readString(notes, StandardCharsets.UTF_8), after = replace(before, md);
            if (!after.equals(before)) Files.writeString(notes, after, StandardCharsets.UTF_8);
            System.out.println((after.equals(before) ? "unchanged: " : "rewrote the prediction in ") + notes);
        }
        System.out.print(md);
    }
}
