package convunext.data;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Validation / prediction batches: each image whole (sizes may differ, so one image per batch),
 * normalised, no augmentation, in data-set order. Targets carry the ROI as ignore (255); they are
 * null for images without a mask.
 */
public final class WholeImageBatches implements Iterator<Batch> {
    private final SampleCache data;
    private final Normalization norm;
    private int next;

    public WholeImageBatches(SampleCache data, Normalization norm) {
        this.data = data;
        this.norm = norm;
    }

    @Override public boolean hasNext() { return next < data.size(); }

    @Override public Batch next() {
        if (!hasNext()) throw new NoSuchElementException();
        LoadedSample ls = data.get(next++);
        return toBatch(ls, norm);
    }

    /** One whole image as a batch of one. */
    public static Batch toBatch(LoadedSample ls, Normalization norm) {
        FloatImage im = ls.image();
        float[] x = new float[im.data().length];
        norm.apply(im, x, 0);
        float[] t = null;
        if (ls.labels() != null) {
            int[] lab = ls.targets().labels();
            t = new float[lab.length];
            for (int i = 0; i < lab.length; i++) t[i] = lab[i];
        }
        return new Batch(1, im.channels(), im.height(), im.width(), x, t, List.of(ls.sample().id()));
    }
}
