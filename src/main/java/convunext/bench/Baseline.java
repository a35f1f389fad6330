package convunext.bench;

/**
 * The same op through a vendor library, timed like its row (same inputs, same run): {@code name}
 * ("cuDNN 9.1.0", "cuBLAS 12.6.4"), median and minimum ms of its timed region, {@code extraMs}
 * the median of work the library cannot do that was left out of that region and timed on its own
 * (cuDNN's missing reflect padding; NaN when none), and a short note saying what is in and out.
 */
public record Baseline(String name, double medianMs, double minMs, double extraMs, String note) {}
