package convunext.bench;

/**
 * Shapes and repetitions of one benchmark run. The presets follow the issue: the reference
 * training configuration (batch 4, 3×480×480, base_c 32) on a GPU, batch 2 at 256×256 on the
 * CPU, and a tiny one (batch 1, 64×64, base_c 4) for the CI smoke test and the emulated device.
 */
public record BenchConfig(int batch, int size, int baseC, int classes, int warmup, int reps, int steps) {
    public BenchConfig {
        if (batch < 1) throw new IllegalArgumentException("batch must be ≥ 1, got " + batch);
        if (size < convunext.nn.ConvUNeXt.MIN_SIDE)
            throw new IllegalArgumentException("size must be ≥ " + convunext.nn.ConvUNeXt.MIN_SIDE + ", got " + size);
        if (baseC < 1) throw new IllegalArgumentException("base_c must be ≥ 1, got " + baseC);
        if (classes < 2) throw new IllegalArgumentException("classes must be ≥ 2, got " + classes);
        if (warmup < 0 || reps < 1 || steps < 1)
            throw new IllegalArgumentException("need warmup ≥ 0, reps ≥ 1, steps ≥ 1; got " + warmup + ", " + reps + ", " + steps);
    }

    /** Reference training configuration, for GPUs. */
    public static BenchConfig gpu() { return new BenchConfig(4, 480, 32, 2, 3, 20, 10); }

    /** The CPU configuration (a reference-size step takes minutes on two cores). */
    public static BenchConfig cpu() { return new BenchConfig(2, 256, 32, 2, 1, 5, 3); }

    /** Seconds on the CPU and the emulated device: every row, meaningless numbers. */
    public static BenchConfig tiny() { return new BenchConfig(1, 64, 4, 2, 1, 3, 2); }

    /** The preset for a backend name: {@link #gpu()} for "cuda", else {@link #cpu()}. */
    public static BenchConfig forBackend(String name) { return "cuda".equals(name) ? gpu() : cpu(); }

    public BenchConfig with(Integer batch, Integer size, Integer baseC, Integer warmup, Integer reps, Integer steps) {
        return new BenchConfig(batch != null ? batch : this.batch, size != null ? size : this.size,
                baseC != null ? baseC : this.baseC, classes, warmup != null ? warmup : this.warmup,
                reps != null ? reps : this.reps, steps != null ? steps : this.steps);
    }

    public String describe() {
        return String.format("batch %d, %d×%d, base_c %d, %d classes; %d warm-up + %d timed reps, %d timed steps",
                batch, size, size, baseC, classes, warmup, reps, steps);
    }
}
