package convunext.backend.cuda;

import convunext.backend.cuda.ops.DwConv7Ops;
import convunext.backend.parity.BackendParity;
import convunext.backend.parity.DwConv7ParityTest;
import convunext.backend.parity.OnEveryDevice;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * dwconv7.cu's tiled weight/bias-gradient reduction with fewer blocks than tiles
 * ({@link DwConv7Ops#setWeightGradBlocks} lowered), so each block loops over several tiles; the
 * checks are parity.DwConv7ParityTest's.
 */
class DwConv7OpsTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryDevice void weightGradBlocksLoopOverTiles(String backend) throws Exception {
        int old = DwConv7Ops.setWeightGradBlocks(2);
        try (BackendParity p = BACKENDS.open(backend, 31)) {
            DwConv7ParityTest.dw(p, 1, 2, 70, 45);   // 6 tiles per plane, 1 block per plane: each block loops over 6
            DwConv7ParityTest.dw(p, 2, 1, 40, 36);   // 4 tiles, 1 block per plane
        } finally {
            DwConv7Ops.setWeightGradBlocks(old);
        }
    }
}
