package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import convunext.backend.Backend;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The memory ops on every backend: fill and copy through views, a view of a view, release, bounds. */
class MemoryParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void fillCopyAndViews(String name) throws Exception {
        try (BackendParity p = BACKENDS.open(name, 51)) {
            Backend be = p.be;
            Tensor base = be.upload(p.gauss(100), 100);
            Tensor v = be.view(base, 17, 5, 6);
            be.fill(v, 2.5f);
            float[] all = be.download(base);
            for (int i = 17; i < 47; i++) assertEquals(2.5f, all[i], "filled " + i);
            be.fill(v, 0f);
            Tensor src = be.upload(p.gauss(30), 30);
            Tensor dst = be.view(base, 60, 30);
            be.copy(src, dst);
            float[] after = be.download(base), want = be.download(src);
            for (int i = 0; i < 30; i++) {
                assertEquals(want[i], after[60 + i], "copied " + i);
                assertEquals(0f, after[17 + i], "zero-filled " + i);
            }
            // a view of a view, and an op reading through a view offset
            Tensor vv = be.view(v, 5, 2, 3);
            assertArrayEquals(new int[] {2, 3}, vv.shape());
            p.check("gelu through a view", be.gelu(be.view(base, 60, 30)), p.ref.gelu(p.ref.upload(want, 30)), 1e-5);
            be.release(v);   // views are ignored
            be.release(base);
            assertThrows(IllegalArgumentException.class, () -> be.view(base, 90, 20));
        }
    }
}
