package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * gate.cu takes an image's C*H*W as an int (CP): every gate launcher refuses an image over
 * 2^31 - 1 elements in one line instead of launching with the wrapped count. The tensors here are
 * shapes over a small buffer (nothing that large is allocated): refused before any launch, they are
 * never read. gateInBackward took C*H*W from Tensor.spatial, which wraps (2^32 + 2^16 became 2^16):
 * it launched and wrote only the first 2^16 elements of each image, silently.
 */
class GateImageSizeTest {
    @Test void everyGateLauncherRefusesAnImageOverTheIntRange() {
        try (Parity p = new Parity(97)) {
            int c = 1, h = 1 << 16, w = (1 << 16) + 1;   // C*H*W = 2^32 + 2^16
            Tensor buf = p.cuda.zeros(4 << 16);
            Tensor s = new Tensor(p.cuda, buf.storage(), 0, 1, c, h, w);
            Tensor g = new Tensor(p.cuda, buf.storage(), 0, 1, 3 * c, h, w);
            String[] ops = {"gateIn", "gateOut", "gateOutBackward", "gateInBackward"};
            org.junit.jupiter.api.function.Executable[] calls = {
                    () -> p.cuda.gateIn(g, s),
                    () -> p.cuda.gateOut(s, s, g),
                    () -> p.cuda.gateOutBackward(s, s, g, s),
                    () -> p.cuda.gateInBackwardInto(s, 3 * c, g)};
            for (int i = 0; i < ops.length; i++) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, calls[i], ops[i]);
                assertTrue(e.getMessage().startsWith(ops[i] + ": image too large"), ops[i] + ": " + e.getMessage());
            }
        }
    }
}
