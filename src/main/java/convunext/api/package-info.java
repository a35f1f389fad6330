/**
 * ConvUNeXt segmentation from Java code: {@link convunext.api.Segmenter} loads a checkpoint on a
 * device and turns images into {@link convunext.api.Segmentation}s, with the same code (and so
 * the same masks) as {@code convunext predict}; {@link convunext.api.SegmenterOptions} carries
 * predict's tiling and test-time-augmentation settings.
 *
 * <pre>{@code
 * try (Segmenter s = Segmenter.open(Path.of("best.safetensors"), "auto")) {
 *     Segmentation r = s.segment(Path.of("fundus.tif"));
 *     r.writeMask(Path.of("fundus.png"));        // 0/255 for two classes, as predict writes
 *     float[] vessel = r.probabilities(1);        // row-major, width() × height()
 * }
 * }</pre>
 *
 * <p>Nothing else in the jar is API: other packages may change between versions.
 */
package convunext.api;
