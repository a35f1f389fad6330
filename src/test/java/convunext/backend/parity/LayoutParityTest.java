package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/** pad2d, its crop, concat, sliceChannels and concatBackward on every backend: copies, so exact. */
class LayoutParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void padAndCrop(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 32)) {
            Tensor[] x = p.normalT(1, 0.5, 2, 5, 13, 17), s = p.gaussT(2, 3, 5, 7), dy = p.gaussT(2, 3, 8, 10);
            p.check("pad2d", p.be.pad2d(x[0], 1, 2, 0, 3), p.ref.pad2d(x[1], 1, 2, 0, 3), 0);
            p.check("pad2d small", p.be.pad2d(s[0], 1, 2, 0, 3), p.ref.pad2d(s[1], 1, 2, 0, 3), 0);
            p.check("pad2d crop", p.be.pad2dBackward(x[0], 2, 3, 9, 11), p.ref.pad2dBackward(x[1], 2, 3, 9, 11), 0);
            p.check("pad2d crop small", p.be.pad2dBackward(dy[0], 1, 0, 5, 7), p.ref.pad2dBackward(dy[1], 1, 0, 5, 7), 0);
        }
    }

    @OnEveryBackend void concatAndSlice(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 61)) {
            Tensor[] a = p.gaussT(2, 3, 7, 9), c = p.normalT(1, 1, 2, 4, 7, 9), x = p.normalT(1, 0.5, 2, 5, 13, 17);
            Tensor[] y = {p.be.concat(a[0], c[0]), p.ref.concat(a[1], c[1])};
            p.check("concat", y[0], y[1], 0);
            p.check("slice a", p.be.sliceChannels(y[0], 0, 3), p.ref.sliceChannels(y[1], 0, 3), 0);
            p.check("slice b", p.be.sliceChannels(y[0], 3, 7), p.ref.sliceChannels(y[1], 3, 7), 0);
            p.check("slice mid", p.be.sliceChannels(y[0], 2, 5), p.ref.sliceChannels(y[1], 2, 5), 0);
            p.check("sliceChannels", p.be.sliceChannels(x[0], 1, 4), p.ref.sliceChannels(x[1], 1, 4), 0);
            Tensor[] sc = p.be.concatBackward(y[0], 3), sr = p.ref.concatBackward(y[1], 3);
            p.check("concatBackward a", sc, sr, 0, 0);
            p.check("concatBackward b", sc, sr, 1, 0);
        }
    }
}
