package convunext.bench;

import convunext.backend.cpu.CpuBackend;
import convunext.backend.cpu.CpuGemm;
import convunext.backend.cpu.CpuThreads;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.TrainStep;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * CPU micro-benchmark at the real shapes of a ConvUNeXt step (batch 2, 3×256×256, base_c 32):
 * median milliseconds per op with GFLOP/s (GEMM-like ops) or GB/s (memory-bound ops, counting
 * the bytes each op must read and write once), at 1 thread and at all threads; then whole
 * training steps with the time per op. Not a unit test. Run:
 * {@code java --add-modules jdk.incubator.vector -cp target/classes convunext.bench.CpuOpsBench [reps] [steps]}
 * (reps 0: training steps only).
 */
public final class CpuOpsBench {
    private CpuOpsBench() {}

    private static final CpuBackend BE = new CpuBackend();
    private static final Random RNG = new Random(1);
    private static final int B = 2;

    private static Tensor rand(int... shape) {
        Tensor t = BE.empty(shape);
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) a[i] = (float) RNG.nextGaussian();
        return t;
    }

    private static double median(int reps, Runnable r) {
        r.run();                       // warm-up (JIT, first touch)
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    /** flops &gt; 0: report GFLOP/s; else bytes: report GB/s. */
    private static void row(String name, int reps, double flops, double bytes, Runnable r) {
        int all = Runtime.getRuntime().availableProcessors();
        CpuThreads.setThreads(1);
        double t1 = median(reps, r);
        CpuThreads.setThreads(all);
        double tn = median(reps, r);
        String unit = flops > 0 ? "GFLOP/s" : "GB/s";
        double work = flops > 0 ? flops : bytes;
        System.out.printf("%-34s %9.2f %9.2f   %7.1f %7.1f %s%n", name, t1, tn, work / t1 / 1e6, work / tn / 1e6, unit);
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        System.out.println(BE.describe());
        if (reps == 0) {              // only the training steps
            trainStep(steps);
            return;
        }
        System.out.printf("%-34s %9s %9s   %15s%n", "op (batch 2)", "ms 1thr", "ms all", "rate 1thr / all");
        linear("linear 32→128 @256²", 32, 128, 256, reps);
        linear("linear 128→32 @256²", 128, 32, 256, reps);
        linear("linear 32→96 @256² (gate)", 32, 96, 256, reps);
        linear("linear 256→1024 @32²", 256, 1024, 32, reps);
        linear("linear 1024→256 @32²", 1024, 256, 32, reps);
        conv("conv2d 7x7 reflect 3→32 @256²", 3, 32, 256, 7, 1, 3, true, reps);
        conv("conv2d 2x2 s2 32→64 256²→128²", 32, 64, 256, 2, 2, 0, false, reps);
        int p = 256 * 256;
        Tensor x = rand(B, 32, 256, 256), w = rand(32, 1, 7, 7), b = rand(32), dy = rand(B, 32, 256, 256);
        row("dwconv7 32ch @256²", reps, 2.0 * 49 * B * 32 * p, 0, () -> BE.dwconv7(x, w, b));
        row("dwconv7 bwd 32ch @256²", reps, 4.0 * 49 * B * 32 * p, 0, () -> BE.dwconv7Backward(x, w, dy));
        Tensor g = rand(32), be = rand(32), rm = BE.zeros(32), rv = BE.zeros(32);
        BE.fill(rv, 1f);
        double t32 = 4.0 * B * 32 * p;    // bytes of one [2,32,256,256] tensor
        row("batchnorm 32ch @256²", reps, 0, 3 * t32, () -> BE.batchnormTrain(x, g, be, rm, rv, 0.1f, 1e-5f));
        Tensor[] st = BE.batchnormTrain(x, g, be, rm, rv, 0.1f, 1e-5f);
        row("batchnorm bwd 32ch @256²", reps, 0, 5 * t32, () -> BE.batchnormBackward(x, dy, g, st[1], st[2]));
        row("layernorm 32ch @256²", reps, 0, 3 * t32, () -> BE.layernorm(x, g, be, 1e-6f));
        Tensor xg = rand(B, 128, 256, 256), dyg = rand(B, 128, 256, 256);
        row("gelu 128ch @256²", reps, 0, 8 * t32, () -> BE.gelu(xg));
        row("gelu bwd 128ch @256²", reps, 0, 12 * t32, () -> BE.geluBackward(xg, dyg));
        row("add 32ch @256²", reps, 0, 3 * t32, () -> BE.add(x, dy));
        Tensor xu = rand(B, 32, 128, 128);
        row("upsample2x 32ch 128²→256²", reps, 0, 1.25 * t32, () -> BE.upsample2x(xu));
        row("upsample2x bwd 32ch", reps, 0, 1.25 * t32, () -> BE.upsample2xBackward(dy));
        Tensor gg = rand(B, 96, 256, 256);
        row("gateOut 32ch @256²", reps, 0, 6 * t32, () -> BE.gateOut(x, dy, gg));
        int np = 3_500_000;
        Tensor pp = rand(np), pg = rand(np), pm = BE.zeros(np), pv = BE.zeros(np);
        row("adamw 3.5M params", reps, 0, 4.0 * 7 * np, () -> BE.adamw(pp, pg, pm, pv, 1e-3f, 0.9f, 0.999f, 1e-8f, 5e-5f, 1));
        trainStep(steps);
    }

    private static void linear(String name, int ci, int co, int side, int reps) {
        int p = side * side;
        Tensor x = rand(B, ci, side, side), w = rand(co, ci), b = rand(co), dy = rand(B, co, side, side);
        double f = 2.0 * B * ci * co * p;
        row(name, reps, f, 0, () -> BE.linear(x, w, b));
        row(name + " bwd dx+dW", reps, 2 * f, 0, () -> BE.linearBackward(x, w, dy, true, true));
    }

    private static void conv(String name, int ci, int co, int side, int k, int s, int pad, boolean reflect, int reps) {
        int o = (side + 2 * pad - k) / s + 1;
        Tensor x = rand(B, ci, side, side), w = rand(co, ci, k, k), b = rand(co), dy = rand(B, co, o, o);
        double f = 2.0 * B * co * ci * k * k * o * o;
        boolean dx = ci > 3;
        row(name, reps, f, 0, () -> BE.conv2d(x, w, b, s, pad, reflect));
        row(name + (dx ? " bwd dx+dW" : " bwd dW"), reps, dx ? 2 * f : f, 0,
                () -> BE.conv2dBackward(x, w, dy, s, pad, reflect, dx, true));
    }

    /** Whole AdamW training steps of ConvUNeXt (BatchNorm), timed per op through {@link TimedBackend}. */
    private static void trainStep(int steps) {
        TimedBackend tb = new TimedBackend(BE);
        ConvUNeXt model = new ConvUNeXt(new ConvUNeXt.Config(3, 2, 32, Norm.BATCH), tb, 7);
        AdamW opt = AdamW.withDefaults(model.params);
        Tensor img = rand(B, 3, 256, 256);
        float[] t = new float[B * 256 * 256];
        for (int i = 0; i < t.length; i++) t[i] = RNG.nextInt(2);
        Tensor tgt = BE.upload(t, B, 256, 256);
        TrainStep.run(model, opt, img, tgt, 1e-3);   // warm-up
        double[] ms = new double[steps], cpu = new double[steps];
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        tb.reset();
        for (int i = 0; i < steps; i++) {
            long c0 = os.getProcessCpuTime(), a0 = TimedBackend.allocatedBytes(), t0 = System.nanoTime();
            TrainStep.Result r = TrainStep.run(model, opt, img, tgt, 1e-3);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            cpu[i] = (os.getProcessCpuTime() - c0) / 1e6;
            System.out.printf("train step %d: %.0f ms, process CPU %.0f ms, heap allocated %.0f MB (loss %.4f, load avg %.1f)%n",
                    i + 1, ms[i], cpu[i], (TimedBackend.allocatedBytes() - a0) / 1e6, r.loss(), os.getSystemLoadAverage());
        }
        Arrays.sort(ms);
        Arrays.sort(cpu);
        System.out.printf("train step (batch 2, 3x256x256, base_c 32, %d threads): median %.0f ms, process CPU median %.0f ms%n",
                CpuThreads.threads(), ms[steps / 2], cpu[steps / 2]);
        double total = 0;
        for (long[] s : tb.stats().values()) total += s[0];
        System.out.println("time per step by op:");
        for (Map.Entry<String, long[]> e : tb.stats().entrySet())
            System.out.printf("  %-22s %8.1f ms %5.1f%%  (%d calls, %.0f MB heap)%n", e.getKey(), e.getValue()[0] / 1e6 / steps,
                    100 * e.getValue()[0] / total, e.getValue()[1] / steps, e.getValue()[2] / 1e6 / steps);
        System.out.printf("  %-22s %8.1f ms%n", "sum of ops", total / 1e6 / steps);
        System.out.println("GEMM kernel: " + CpuGemm.describe());
    }
}
