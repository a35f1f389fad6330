package convunext.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Bilinear resizing for inference: PyTorch's align_corners=False values, and training's sampling bit for bit. */
class ResizeTest {
    @Test void halfPixelCentres() {
        // F.interpolate(torch.tensor([[[[0., 1.]]]]), size=(1, 4), mode="bilinear", align_corners=False) = [0, .25, .75, 1]
        assertArrayEquals(new float[] {0f, 0.25f, 0.75f, 1f}, Resize.planes(new float[] {0, 1}, 1, 1, 2, 1, 4), 0f);
        // ... and size=(1, 2) of [0, 1, 2, 3] = [0.5, 2.5]
        assertArrayEquals(new float[] {0.5f, 2.5f}, Resize.planes(new float[] {0, 1, 2, 3}, 1, 1, 4, 1, 2), 0f);
        // 3 → 5: positions (q + .5)·0.6 − .5 = −.2 (clamped to 0), .4, 1, 1.6, 2.2 (right neighbour clamped)
        assertArrayEquals(new float[] {0f, 4f, 10f, 16f, 20f}, Resize.planes(new float[] {0, 10, 20}, 1, 1, 3, 1, 5), 1e-5f);
    }

    @Test void sameSizeIsTheSameImage() {
        FloatImage img = new FloatImage(1, 2, 3, new float[6]);
        assertSame(img, Resize.bilinear(img, 2, 3));
    }

    /** An image resized here and normalised equals training's crop of it resized to the same size (no flip, crop = the whole). */
    @Test void sameBitsAsTheTrainingResize() {
        SplittableRandom r = new SplittableRandom(5);
        int c = 3, h = 71, w = 53;
        float[] d = new float[c * h * w];
        for (int i = 0; i < d.length; i++) d[i] = (float) (r.nextDouble() * 255);
        FloatImage src = new FloatImage(c, h, w, d);
        Normalization n = new Normalization(new float[] {0.5f, 0.4f, 0.3f}, new float[] {0.2f, 0.25f, 0.1f});
        for (int s : new int[] {40, 64, 97}) {   // down, between, up
            Augmenter a = new Augmenter(new AugmentConfig(s, 1, 1, s, 0), n);
            float[] viaTraining = new float[c * s * s];
            a.apply(src, null, new Augmenter.Plan(s, s, false, false, 0, 0), viaTraining, 0, null, 0);
            float[] viaInference = new float[c * s * s];
            n.apply(Resize.bilinear(src, s, s), viaInference, 0);
            assertArrayEquals(viaTraining, viaInference, 0f, "size " + s);
        }
    }

    @Test void shortSideRuleIsTraining() {
        assertArrayEquals(new int[] {579, 561}, Augmenter.shortSideTo(1752, 1695, 561));
        assertArrayEquals(new int[] {561, 748}, Augmenter.shortSideTo(1944, 2592, 561));
        assertArrayEquals(new int[] {50, 50}, Augmenter.shortSideTo(7, 7, 50));
    }
}
