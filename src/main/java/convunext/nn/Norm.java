package convunext.nn;

/** Which normalisation the model uses everywhere: BatchNorm2d (the reference) or channels-first LayerNorm. */
public enum Norm {
    BATCH, LAYER;

    public static Norm parse(String s) {
        return switch (s.toLowerCase()) {
            case "batch", "bn", "batchnorm" -> BATCH;
            case "layer", "ln", "layernorm" -> LAYER;
            default -> throw new IllegalArgumentException("unknown norm '" + s + "' (expected batch or layer)");
        };
    }

    public String key() { return this == BATCH ? "batch" : "layer"; }
}
