package convunext.data;

/**
 * The training augmentation recipe: resize the short side to U(minScale, maxScale)·baseSize
 * (an integer drawn uniformly from [⌊minScale·base⌋, ⌊maxScale·base⌋]), flip horizontally and
 * vertically with probability {@code flipP} each, then a random crop of cropSize² (padding with
 * image 0 / mask 255 on the bottom and right where smaller).
 */
public record AugmentConfig(int baseSize, double minScale, double maxScale, int cropSize, double flipP) {
    public AugmentConfig {
        if (baseSize <= 0 || cropSize <= 0 || !(minScale > 0) || !(maxScale >= minScale) || flipP < 0 || flipP > 1)
            throw new IllegalArgumentException("AugmentConfig: bad values base=" + baseSize + " scale=[" + minScale
                    + "," + maxScale + "] crop=" + cropSize + " flipP=" + flipP);
    }

    /** The reference recipe: base 512, scale U(0.8, 1.5), flips p 0.5, crop {@code cropSize}. */
    public static AugmentConfig reference(int cropSize) { return new AugmentConfig(512, 0.8, 1.5, cropSize, 0.5); }

    /** Same recipe with a different base size (small data sets such as the synthetic one). */
    public static AugmentConfig of(int baseSize, int cropSize) { return new AugmentConfig(baseSize, 0.8, 1.5, cropSize, 0.5); }

    public int minShortSide() { return Math.max(1, (int) (minScale * baseSize)); }

    public int maxShortSide() { return Math.max(minShortSide(), (int) (maxScale * baseSize)); }
}
