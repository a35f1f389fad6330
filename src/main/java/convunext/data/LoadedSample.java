package convunext.data;

/**
 * A decoded sample. {@code labels} (null without a mask) are the mask's class indices;
 * {@code roi} (null without one) is true inside the field of view.
 */
public record LoadedSample(Sample sample, FloatImage image, LabelMap labels, boolean[] roi) {
    /** Default smallest accepted side: 4 downsamplings with reflect padding 3 need ≥ 64 pixels. */
    public static final int DEFAULT_MIN_SIZE = 64;

    /**
     * Decodes a sample and checks it: mask and ROI sizes equal the image's, both sides ≥
     * {@code minSize}, and, when {@code channels > 0}, the image has that many channels (a gray
     * image is replicated to 3 channels; any other mismatch is refused).
     */
    public static LoadedSample load(Sample s, int numClasses, int channels, int minSize) {
        FloatImage img = ImageFiles.readImage(s.image());
        if (img.height() < minSize || img.width() < minSize)
            throw new DataException("image " + s.image() + " is " + img.width() + "×" + img.height()
                    + ", smaller than the minimum " + minSize + "×" + minSize);
        if (channels > 0) img = toChannels(img, channels, "image " + s.image());
        LabelMap labels = null;
        if (s.mask() != null) {
            labels = ImageFiles.readLabels(s.mask(), numClasses);
            if (labels.height() != img.height() || labels.width() != img.width())
                throw new DataException("mask " + s.mask() + " is " + labels.width() + "×" + labels.height()
                        + " but image " + s.image() + " is " + img.width() + "×" + img.height());
        }
        boolean[] roi = s.roi() == null ? null : ImageFiles.readRoi(s.roi(), img.height(), img.width());
        return new LoadedSample(s, img, labels, roi);
    }

    /** Labels with pixels outside the ROI set to {@link LabelMap#IGNORE} (the training target). */
    public LabelMap targets() {
        if (labels == null) throw new IllegalStateException("sample " + sample.id() + " has no mask");
        if (roi == null) return labels;
        int[] t = labels.labels().clone();
        for (int i = 0; i < t.length; i++) if (!roi[i]) t[i] = LabelMap.IGNORE;
        return new LabelMap(labels.height(), labels.width(), t);
    }

    /**
     * The one channel rule of training, validation and inference ({@code predict}, {@code evaluate},
     * the API): an image with the model's {@code channels} is used as it is, a gray one for a
     * 3-channel model is replicated to RGB, anything else is refused naming {@code name}.
     */
    public static FloatImage toChannels(FloatImage img, int channels, String name) {
        if (img.channels() == channels) return img;
        if (img.channels() == 1 && channels == 3) return replicate(img, 3);
        throw new DataException(name + " has " + img.channels() + " channels, the model expects " + channels);
    }

    public static FloatImage replicate(FloatImage g, int c) {
        int n = g.pixels();
        float[] d = new float[c * n];
        for (int k = 0; k < c; k++) System.arraycopy(g.data(), 0, d, k * n, n);
        return new FloatImage(c, g.height(), g.width(), d);
    }
}
