package convunext.bench;

/**
 * The roofline ceilings measured in the same run: bandwidth from a large {@code copy}, FLOP/s from
 * a large {@code linear}. They are what this backend achieves at its best, not the hardware's
 * datasheet peaks; a row at 100% runs as fast as our best copy or GEMM would allow.
 */
public record Ceilings(Row copy, Row gemm) {
    public double bytesPerS() { return copy.cost().bytes() / (copy.medianMs() * 1e-3); }

    public double flopsPerS() { return gemm.cost().flops() / (gemm.medianMs() * 1e-3); }

    /**
     * The faster of two measurements of each ceiling (before and after the op rows): a ceiling is
     * an upper bound, and on a shared machine a single measurement may land in a busy moment.
     */
    public static Ceilings best(Ceilings a, Ceilings b) {
        return new Ceilings(a.copy.medianMs() <= b.copy.medianMs() ? a.copy : b.copy,
                a.gemm.medianMs() <= b.gemm.medianMs() ? a.gemm : b.gemm);
    }
}
