package convunext.data;

import java.nio.file.Path;

/**
 * One image of a split with its label mask and optional region-of-interest (field-of-view) mask.
 * {@code mask} is null for unlabelled images (prediction); {@code roi} is null when there is none.
 */
public record Sample(String id, Path image, Path mask, Path roi) {}
