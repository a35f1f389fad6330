package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Memory ops honour views and offsets, and reject mismatched sizes. */
class CpuMemoryTest {
    private final CpuBackend be = new CpuBackend();

    @Test void viewsCopyFillAdd() {
        Tensor base = be.upload(new float[] {1, 2, 3, 4, 5, 6, 7}, 7);
        Tensor v = be.view(base, 2, 2, 2);
        assertArrayEquals(new float[] {3, 4, 5, 6}, be.download(v));
        Tensor w = be.upload(new float[] {10, 20, 30, 40}, 4);
        be.addInPlace(v, w);
        assertArrayEquals(new float[] {1, 2, 13, 24, 35, 46, 7}, be.download(base));
        be.fill(be.view(base, 5, 2), -1f);
        assertArrayEquals(new float[] {1, 2, 13, 24, 35, -1, -1}, be.download(base));
        Tensor dst = be.zeros(3);
        be.copy(be.view(base, 4, 3), dst);
        assertArrayEquals(new float[] {35, -1, -1}, be.download(dst));
        assertThrows(IllegalArgumentException.class, () -> be.view(base, 5, 3));
        assertThrows(IllegalArgumentException.class, () -> be.copy(base, dst));
        assertThrows(IllegalArgumentException.class, () -> be.upload(new float[3], 2, 2));
    }
}
