package convunext.bench;

import convunext.backend.Backend;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/** One benchmark run on a backend: ceilings, optionally every layer, then the whole model. */
public final class Bench {
    private Bench() {}

    /**
     * @param layers  time every op row ({@link LayerBench}); else only the ceilings and the model
     * @param progress where to print each row as it completes (null: silent)
     */
    public static BenchReport run(Backend be, BenchConfig cfg, boolean layers, boolean breakdown, String command,
                                  PrintStream progress) {
        String timing = Timing.method(be);
        if (progress != null) {
            progress.println("bench on " + be.describe());
            progress.println(cfg.describe());
            progress.println("timing: " + timing);
            progress.println("whole model: " + cfg.steps() + " training steps and inferences ...");
        }
        // The model runs first, so that what the backend reports about its memory afterwards
        // (describe(), e.g. a device pool's peak) belongs to the model and not to the big op rows.
        ModelBench.Result m = ModelBench.run(be, cfg, breakdown);
        // Vendor baselines (cuDNN, cuBLAS) only for the op rows; closed before the backend is.
        try (Baselines base = layers ? Baselines.open(be) : null) {
            LayerBench lb = new LayerBench(be, cfg, progress == null ? null : r -> progress.println(BenchReport.format(r, null)), base);
            if (progress != null) progress.println(base != null && base.any() ? BenchReport.HEADER_BASE : BenchReport.HEADER);
            Ceilings c = lb.ceilings();
            List<Row> rows = layers ? lb.rows() : List.of();
            if (layers) c = Ceilings.best(c, lb.ceilings());
            return new BenchReport(be.name(), be.describe(), timing, command, cfg, c, rows,
                    base == null ? null : base.status(), m, null, null);
        }
    }

    /** The same report with PyTorch's numbers (or the reason they are missing) attached. */
    public static BenchReport withTorch(BenchReport r, Map<String, Object> torch, String error) {
        return new BenchReport(r.backend(), r.describe(), r.timing(), r.command(), r.config(), r.ceilings(), r.rows(), r.baselines(), r.model(),
                torch, error);
    }
}
