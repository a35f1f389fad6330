package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuBackend.dwconv7BackwardInto, which adds dx into the held gradient as each plane is folded, is
 * bit for bit the interface's default (dwconv7Backward, then addInPlace of each gradient) — dx,
 * dw and db, each slot held or not — at 1 thread and at every thread the pool has, on odd planes,
 * the smallest legal plane and one wider than two vectors plus a tail. DwConv7ParityTest checks it
 * against float64 on every backend.
 */
class CpuDwConv7IntoTest {
    private static final CpuBackend BE = new CpuBackend();

    @Test void oddPlanes() { run(2, 3, 13, 17, 1); }

    @Test void smallestPlane() { run(1, 2, 4, 5, 2); }

    @Test void widePlane() { run(2, 2, 9, 45, 3); }

    private static void run(int n, int c, int h, int w, long seed) {
        Random r = new Random(seed);
        Tensor x = CpuTestTensors.randn(BE, r, 0.3, n, c, h, w), wt = CpuTestTensors.randn(BE, r, 0, c, 1, 7, 7);
        Tensor dy = CpuTestTensors.randn(BE, r, 0.1, n, c, h, w);
        Tensor hx = CpuTestTensors.randn(BE, r, -0.2, n, c, h, w), hw = CpuTestTensors.randn(BE, r, 0, c, 1, 7, 7);
        Tensor hb = CpuTestTensors.randn(BE, r, 0, c);
        Tensor[] fresh = BE.dwconv7Backward(x, wt, dy);
        CpuTestTensors.checkHeldSubsets(BE, n + "x" + c + "x" + h + "x" + w, fresh, new Tensor[] {hx, hw, hb},
                into -> BE.dwconv7BackwardInto(x, wt, dy, into[0], into[1], into[2]));
    }

    @Test void heldGradientOfAnotherShapeIsRefusedBeforeWork() {
        Random r = new Random(4);
        Tensor x = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7), wt = CpuTestTensors.randn(BE, r, 0, 2, 1, 7, 7);
        Tensor dy = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7), held = CpuTestTensors.randn(BE, r, 0, 1, 2, 7, 6);
        float[] before = BE.download(held);
        var e = assertThrows(IllegalArgumentException.class, () -> BE.dwconv7BackwardInto(x, wt, dy, held, null, null));
        assertTrue(e.getMessage().contains("dwconv7Backward"), e.getMessage());
        assertArrayEquals(before, BE.download(held), "the held gradient is untouched");
    }
}
