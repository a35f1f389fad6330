package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;
/**
 * One torch.optim.AdamW step in float64, in place, mirroring {@code Backend.adamw}:
 * p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * p ← p − lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps), t = step ≥ 1 (PyTorch's grouping).
 */
public final class RefAdamW {
    private RefAdamW() {}

    public static void adamw(D p, D g, D m, D v, double lr, double beta1, double beta2,
                             double eps, double weightDecay, int step) {
        OpShapes.adamw(p.shape, g.shape, m.shape, v.shape, step);
        int n = p.numel();
        double bc1 = 1 - Math.pow(beta1, step), bc2sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        double stepSize = lr / bc1;
        for (int i = 0; i < n; i++) {
            double gi = g.data[i];
            p.data[i] *= 1 - lr * weightDecay;
            m.data[i] = beta1 * m.data[i] + (1 - beta1) * gi;
            v.data[i] = beta2 * v.data[i] + (1 - beta2) * gi * gi;
            p.data[i] -= stepSize * m.data[i] / (Math.sqrt(v.data[i]) / bc2sqrt + eps);
        }
    }
}
