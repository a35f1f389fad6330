package convunext.data;

import java.util.List;

/**
 * Decodes samples on demand, keeping them in memory when {@code cache} is set (small data sets:
 * the synthetic set, DRIVE's 20 images ≈ 80 MB as floats) so later epochs skip decoding.
 */
public final class SampleCache {
    private final List<Sample> samples;
    private final int numClasses, channels, minSize;
    private final LoadedSample[] cached;

    public SampleCache(List<Sample> samples, int numClasses, int channels, int minSize, boolean cache) {
        if (samples.isEmpty()) throw new DataException("no samples to load");
        this.samples = List.copyOf(samples);
        this.numClasses = numClasses;
        this.channels = channels;
        this.minSize = minSize;
        this.cached = cache ? new LoadedSample[samples.size()] : null;
    }

    public int size() { return samples.size(); }

    public Sample sample(int i) { return samples.get(i); }

    public synchronized LoadedSample get(int i) {
        if (cached != null && cached[i] != null) return cached[i];
        LoadedSample ls = LoadedSample.load(samples.get(i), numClasses, channels, minSize);
        if (cached != null) cached[i] = ls;
        return ls;
    }
}
