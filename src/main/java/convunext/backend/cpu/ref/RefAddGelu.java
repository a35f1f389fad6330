package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * Residual add then GELU in float64, mirroring {@code Backend.addGelu}: the oracle for the fused
 * pass at the end of each ConvNeXt block, gelu(x + norm2(·)). Defined as the composition of
 * {@link RefAdd#add} and {@link RefGelu}, so a fused backend is tested against the
 * unfused math. Its backward is {@link RefGelu#geluBackward}(pre, dy), the same for a and b.
 */
public final class RefAddGelu {
    private RefAddGelu() {}

    /** {out = gelu(a + b), pre = a + b (null unless keepPre)}. */
    public static D[] addGelu(D a, D b, boolean keepPre) {
        OpShapes.addGelu(a.shape, b.shape);
        D pre = RefAdd.add(a, b);
        return new D[] {RefGelu.gelu(pre), keepPre ? pre : null};
    }
}
