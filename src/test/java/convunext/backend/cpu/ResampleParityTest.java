package convunext.backend.cpu;

import static convunext.backend.cpu.Parity.*;

import convunext.backend.cpu.ref.RefLayout;
import convunext.backend.cpu.ref.RefUpsample;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * upsample2x (align_corners=True) and its adjoint: 1e-6 normwise (float interpolation weights);
 * pad2d, its crop, concat and sliceChannels are copies: exact.
 */
class ResampleParityTest {
    @Test void upsampleAndAdjoint() {
        for (int[] s : new int[][] {{2, 5, 13, 17}, {1, 2, 1, 3}}) {
            Random r = new Random(31 + s[2]);
            Tensor x = randn(r, 0.5, s), dy = randn(r, 0, s[0], s[1], 2 * s[2], 2 * s[3]);
            check("upsample2x", RefUpsample.upsample2x(d(x)), BE.upsample2x(x), 1e-6);
            check("upsample2x adjoint", RefUpsample.upsample2xBackward(d(dy)), BE.upsample2xBackward(dy), 1e-6);
        }
    }

    @Test void padCropConcatSlice() {
        Random r = new Random(32);
        Tensor x = randn(r, 0.5, 2, 5, 13, 17), a = randn(r, 0, 2, 3, 7, 9), b = randn(r, 1, 2, 4, 7, 9);
        check("pad2d", RefLayout.pad2d(d(x), 1, 2, 0, 3), BE.pad2d(x, 1, 2, 0, 3), 0);
        check("pad2d crop", RefLayout.pad2dBackward(d(x), 2, 3, 9, 11), BE.pad2dBackward(x, 2, 3, 9, 11), 0);
        check("concat", RefLayout.concat(d(a), d(b)), BE.concat(a, b), 0);
        check("sliceChannels", RefLayout.sliceChannels(d(x), 1, 4), BE.sliceChannels(x, 1, 4), 0);
    }
}
