package convunext.bench;

/**
 * One benchmark row: an op (the project-wide op name), the model layer whose shape it uses, the
 * pass (fwd, bwd, step), the shape in words, the median and minimum time, and its {@link OpCost}.
 */
public record Row(String op, String layer, String pass, String shape, double medianMs, double minMs, OpCost cost) {

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
