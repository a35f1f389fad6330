package convunext.data;

/**
 * The training augmentation recipe: resize the short side to U(minScale, maxScale)·baseSize
 * (an integer drawn uniformly from [⌊minScale·base⌋, ⌊maxScale·base⌋]), flip horizontally and
 * vertically with probability {@code flipP} each, then a random crop of cropSize² (padding with
 * image 0 / mask 255 on the bottom and right where smaller). The reference values live in
 * {@code train.Recipe} ({@code Recipe.augment}).
 */
public record AugmentConfig(int baseSize, double minScale, double maxScale, int cropSize, double flipP) {
    public AugmentConfig {
        if (baseSize <= 0 || cropSize <= 0 || !(minScale > 0) || !(maxScale >= minScale) || flipP < 0 || flipP > 1)
            throw new IllegalArgumentException("AugmentConfig: bad values base=" + baseSize + " scale=[" + minScale
                    + "," + maxScale + "] crop=" + cropSize + " flipP=" + flipP);
    }

    public int minShortSide() { return Math.max(1, (int) (minScale * baseSize)); }

    public int maxShortSide() { return Math.max(minShortSide(), (int) (maxScale * baseSize)); }
}
