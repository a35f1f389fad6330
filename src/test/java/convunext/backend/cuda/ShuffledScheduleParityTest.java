package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The parity checks of every op family (the cases of the *ParityTest classes of this package)
 * with the emulator in randomised-schedule mode, for two seeds: blocks run in a shuffled order on
 * two OS threads, threads resume in a random order after every barrier and dynamic shared memory
 * starts as NaN, so a missing barrier or a read of unwritten shared memory changes a result.
 * The emulator's previous scheduling mode is restored after each case, also when it fails.
 */
class ShuffledScheduleParityTest {
    private static final long[] SEEDS = {0x5eed1L, 0x5eed2L};

    private interface Case {
        void run(Parity p) throws Exception;
    }

    private static Map<String, Case> families() {
        Map<String, Case> m = new LinkedHashMap<>();
        m.put("gemm", p -> {
            LinearParityTest t = new LinearParityTest();
            t.smallMBm32Tile();
            t.largeMTwoRowTiles();
            t.conv2dOneByOneRoutesToGemm();
        });
        m.put("linear+gelu", p -> {
            LinearGeluParityTest t = new LinearGeluParityTest();
            t.bm32BiasKeepPre();
            t.bm64TwoRowTilesNoBiasKeepPre();
            t.bm64JustOver32BiasNoPre();
        });
        m.put("add+gelu", p -> {
            AddGeluParityTest t = new AddGeluParityTest();
            t.onePartialBlockKeepPre();
            t.severalBlocksNoPre();
        });
        m.put("conv2d", p -> {
            Conv2dParityTest t = new Conv2dParityTest();
            t.stem7x7Reflect();
            t.down2x2Stride2ManyChannels();
            t.zeroPad3x3();
            t.reflectPadNearlyH();
        });
        m.put("dwconv7", p -> {
            DwConv7ParityTest t = new DwConv7ParityTest();
            t.oddSize();
            t.severalTiles();
            t.weightGradBlocksLoopOverTiles();
        });
        m.put("batchnorm+layernorm", p -> {
            NormParityTest t = new NormParityTest();
            t.batchnormOdd();
            t.batchnormManyChunks();
            t.layernormOdd();
            t.layernormWideC();
        });
        m.put("gelu+add+gate", p -> {
            ElementwiseParityTest t = new ElementwiseParityTest();
            t.gelu();
            t.addAndInPlace();
            t.gate();
        });
        m.put("upsample+pad+concat", p -> {
            LayoutParityTest t = new LayoutParityTest();
            t.upsampleOdd();
            t.upsampleTiny();
            t.pad2dAndCrop();
            t.concatAndSlice();
        });
        m.put("ce_dice", p -> {
            LossParityTest t = new LossParityTest();
            t.threeClassesMissingOne();
            t.manyChunks();
        });
        m.put("adamw", p -> new AdamWParityTest().fiveSteps());
        return m;
    }

    @TestFactory
    List<DynamicTest> everyOpFamilyUnderShuffledSchedules() {
        // Before any backend is opened: on a GPU each case would open one only to skip.
        assumeTrue(Parity.onEmulator(), () -> "randomised schedules exist only on the emulator; the suite runs on " + Parity.DEVICE);
        List<DynamicTest> tests = new ArrayList<>();
        for (long seed : SEEDS)
            for (Map.Entry<String, Case> f : families().entrySet())
                tests.add(DynamicTest.dynamicTest(f.getKey() + " seed " + Long.toHexString(seed), () -> run(seed, f.getValue())));
        return tests;
    }

    private static void run(long seed, Case c) throws Exception {
        try (Parity p = new Parity(seed)) {
            assumeTrue(p.cuda.device() instanceof EmulatedDevice, "randomised schedules exist only on the emulator");
            EmulatedDevice emu = (EmulatedDevice) p.cuda.device();
            long[] before = EmuNative.state();   // [4] OS threads, [5] seed of the current mode
            Parity[] saved = setParity(p);
            emu.configure(2, seed, true);
            try {
                assertEquals(seed, EmuNative.state()[5], "shuffled mode is on");
                assertTrue(emu.describe().contains("shuffled"), emu.describe());
                c.run(p);
            } finally {
                emu.configure((int) before[4], before[5], true);
                restoreParity(saved);
            }
        }
    }

    /** Points the reused parity classes at {@code p}; returns what they held. */
    private static Parity[] setParity(Parity p) {
        Parity[] old = {LinearParityTest.p, Conv2dParityTest.p, DwConv7ParityTest.p, NormParityTest.p,
                ElementwiseParityTest.p, LayoutParityTest.p, LossParityTest.p, AdamWParityTest.p, LinearGeluParityTest.p,
                AddGeluParityTest.p};
        LinearParityTest.p = Conv2dParityTest.p = DwConv7ParityTest.p = NormParityTest.p = LinearGeluParityTest.p = p;
        AddGeluParityTest.p = p;
        ElementwiseParityTest.p = LayoutParityTest.p = LossParityTest.p = AdamWParityTest.p = p;
        return old;
    }

    private static void restoreParity(Parity[] old) {
        LinearParityTest.p = old[0];
        Conv2dParityTest.p = old[1];
        DwConv7ParityTest.p = old[2];
        NormParityTest.p = old[3];
        ElementwiseParityTest.p = old[4];
        LayoutParityTest.p = old[5];
        LossParityTest.p = old[6];
        AdamWParityTest.p = old[7];
        LinearGeluParityTest.p = old[8];
        AddGeluParityTest.p = old[9];
    }
}
