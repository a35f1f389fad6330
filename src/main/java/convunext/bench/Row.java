package convunext.bench;

/**
 * One benchmark row: an op (the project-wide op name), the model layer whose shape it uses, the
 * pass (fwd, bwd, step), the shape in words, the median and minimum time, its {@link OpCost}, and
 * the same op through a vendor library ({@link Baseline}, null where none ran).
 */
public record Row(String op, String layer, String pass, String shape, double medianMs, double minMs, OpCost cost,
                  Baseline baseline) {

    public Row(String op, String layer, String pass, String shape, double medianMs, double minMs, OpCost cost) {
        this(op, layer, pass, shape, medianMs, minMs, cost, null);
    }

    /** Our median time over the baseline's (below 1: ours is faster); NaN without a baseline. */
    public double ratioToBaseline() { return baseline == null ? Double.NaN : medianMs / baseline.medianMs(); }

    /** "op layer pass", unique per row. */
    public String id() { return op + " " + layer + " " + pass; }

    public double gbPerS() { return cost.bytes() / (medianMs * 1e-3) / 1e9; }

    public double gflopPerS() { return cost.flops() / (medianMs * 1e-3) / 1e9; }

    /** Share of the roofline time bound achieved: bound / measured, in percent. */
    public double pctRoofline(Ceilings c) {
        return 100 * cost.boundSeconds(c.bytesPerS(), c.flopsPerS()) / (medianMs * 1e-3);
    }

    /** "memory" when the bandwidth term of the roofline dominates, else "compute". */
    public String bound(Ceilings c) {
        return cost.bytes() / c.bytesPerS() >= cost.flops() / c.flopsPerS() ? "memory" : "compute";
    }
}
