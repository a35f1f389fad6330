package convunext.nn;

import java.util.SplittableRandom;

/**
 * PyTorch's default initialisation (torch.nn.Conv2d / Linear reset_parameters): weights
 * kaiming_uniform(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), and biases U(−1/√fan_in, 1/√fan_in).
 * Norm weights 1, biases 0; running mean 0, running var 1.
 */
final class Init {
    private Init() {}

    static float[] uniform(SplittableRandom rng, int n, int fanIn) {
        double bound = 1.0 / Math.sqrt(fanIn);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        return a;
    }

    static float[] constant(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
