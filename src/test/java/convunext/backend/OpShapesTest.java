package convunext.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.RefBackend;
import convunext.backend.parity.BackendParity;
import convunext.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shape rule of {@link OpShapes} with its one message, then the same bad calls through every
 * backend (the float64 oracle included): each throws OpShapes' message before doing any work.
 */
class OpShapesTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    private static final int[] X = {2, 3, 9, 11};

    private static void message(String want, Executable call) {
        assertEquals(want, assertThrows(IllegalArgumentException.class, call).getMessage());
    }

    @Test void outputShapes() {
        assertArrayEquals(new int[] {2, 8, 9, 11}, OpShapes.conv2d(X, new int[] {8, 3, 7, 7}, new int[] {8}, 1, 3, true));
        assertArrayEquals(new int[] {2, 6, 4, 5}, OpShapes.conv2d(X, new int[] {6, 3, 2, 2}, null, 2, 0, false));
        assertArrayEquals(new int[] {2, 12, 9, 11}, OpShapes.linear(X, new int[] {12, 3}, null));
        assertArrayEquals(new int[] {2, 12, 9, 11}, OpShapes.linearGelu(X, new int[] {12, 3, 1, 1}, new int[] {12}));
        assertArrayEquals(X, OpShapes.linearBackwardDataGelu(new int[] {5, 3}, new int[] {2, 5, 9, 11}, X));
        assertArrayEquals(new int[] {2, 9, 9, 11}, OpShapes.gateInBackward(X, 9));
        assertArrayEquals(new int[] {2, 3, 18, 22}, OpShapes.upsample2x(X));
        assertArrayEquals(X, OpShapes.upsample2xBackward(new int[] {2, 3, 18, 22}));
        assertArrayEquals(new int[] {2, 3, 12, 14}, OpShapes.pad2d(X, 1, 2, 0, 3));
        assertArrayEquals(new int[] {2, 3, 5, 7}, OpShapes.pad2dBackward(X, 1, 2, 5, 7));
        assertArrayEquals(new int[] {2, 7, 9, 11}, OpShapes.concat(X, new int[] {2, 4, 9, 11}));
        assertArrayEquals(new int[] {2, 2, 9, 11}, OpShapes.sliceChannels(X, 1, 3));
        assertArrayEquals(new int[] {2, 9, 11}, OpShapes.layernormStats(X));
    }

    /** The 1×1-conv-is-linear predicate the backends route on. */
    @Test void conv2dIsLinear() {
        assertTrue(OpShapes.conv2dIsLinear(new int[] {8, 3, 1, 1}, 1, 0));
        assertFalse(OpShapes.conv2dIsLinear(new int[] {8, 3, 1, 1}, 2, 0));
        assertFalse(OpShapes.conv2dIsLinear(new int[] {8, 3, 1, 1}, 1, 1));
        assertFalse(OpShapes.conv2dIsLinear(new int[] {8, 3, 3, 3}, 1, 0));
    }

    /** One line per rule: the exact message. */
    @Test void everyRuleHasOneMessage() {
        int[] w7 = {8, 3, 7, 7};
        message("conv2d: x must have rank 4 [N,C,H,W], got [3, 9, 11]", () -> OpShapes.conv2d(new int[] {3, 9, 11}, w7, null, 1, 3, true));
        message("conv2d: x is required", () -> OpShapes.conv2d(null, w7, null, 1, 3, true));
        message("conv2d: w must be [Co,3,k,k] for x [2, 3, 9, 11], got [8, 4, 7, 7]",
                () -> OpShapes.conv2d(X, new int[] {8, 4, 7, 7}, null, 1, 3, true));
        message("conv2d: w must be [Co,3,k,k] for x [2, 3, 9, 11], got [8, 3, 7, 5]",
                () -> OpShapes.conv2d(X, new int[] {8, 3, 7, 5}, null, 1, 3, true));
        message("conv2d: stride must be ≥ 1 and pad ≥ 0, got stride 0, pad 3", () -> OpShapes.conv2d(X, w7, null, 0, 3, true));
        message("conv2d: reflect padding 9 needs pad < H and W, got x [2, 3, 9, 11]", () -> OpShapes.conv2d(X, w7, null, 1, 9, true));
        message("conv2d: kernel 7 larger than the padded input, got x [2, 3, 4, 11], pad 1",
                () -> OpShapes.conv2d(new int[] {2, 3, 4, 11}, w7, null, 1, 1, false));
        message("conv2d: b must be [8], got [3]", () -> OpShapes.conv2d(X, w7, new int[] {3}, 1, 3, true));
        message("conv2dBackward: dy must be [2, 8, 9, 11], got [2, 8, 9, 10]",
                () -> OpShapes.conv2dBackward(X, w7, new int[] {2, 8, 9, 10}, 1, 3, true));

        message("linear: w must be [Co,3] (or [Co,3,1,1]) for x [2, 3, 9, 11], got [4, 2]", () -> OpShapes.linear(X, new int[] {4, 2}, null));
        message("linear: w must be [Co,3] (or [Co,3,1,1]) for x [2, 3, 9, 11], got [4, 3, 3, 3]",
                () -> OpShapes.linear(X, new int[] {4, 3, 3, 3}, null));
        message("linear: b must be [4], got [5]", () -> OpShapes.linear(X, new int[] {4, 3}, new int[] {5}));
        message("linearBackward: dy must be [2, 4, 9, 11], got [2, 3, 9, 11]", () -> OpShapes.linearBackward(X, new int[] {4, 3}, X));
        message("linearGelu: w must be [Co,3] (or [Co,3,1,1]) for x [2, 3, 9, 11], got [4, 5]",
                () -> OpShapes.linearGelu(X, new int[] {4, 5}, null));
        message("linearBackwardDataGelu: w must be [Co,6] (or [Co,6,1,1]) for pre [1, 6, 2, 2], got [4, 5]",
                () -> OpShapes.linearBackwardDataGelu(new int[] {4, 5}, new int[] {1, 4, 2, 2}, new int[] {1, 6, 2, 2}));

        message("dwconv7: w must be [3, 1, 7, 7], got [3, 1, 5, 5]", () -> OpShapes.dwconv7(X, new int[] {3, 1, 5, 5}, new int[] {3}));
        message("dwconv7: H and W must be ≥ 4 for reflect padding 3, got x [1, 1, 3, 8]",
                () -> OpShapes.dwconv7(new int[] {1, 1, 3, 8}, new int[] {1, 1, 7, 7}, new int[] {1}));
        message("dwconv7: b is required, [3]", () -> OpShapes.dwconv7(X, new int[] {3, 1, 7, 7}, null));
        message("dwconv7Backward: dy must have the shape of x [2, 3, 9, 11], got [2, 3, 9, 10]",
                () -> OpShapes.dwconv7Backward(X, new int[] {3, 1, 7, 7}, new int[] {2, 3, 9, 10}));

        int[] c3 = {3};
        message("batchnormTrain: gamma must be [3], got [4]", () -> OpShapes.batchnormTrain(X, new int[] {4}, c3, c3, c3));
        message("batchnormTrain: needs more than one value per channel (N·H·W > 1), got x [1, 2, 1, 1]",
                () -> OpShapes.batchnormTrain(new int[] {1, 2, 1, 1}, new int[] {2}, new int[] {2}, null, null));
        message("batchnormEval: runVar must be [3], got [2]", () -> OpShapes.batchnormEval(X, c3, c3, c3, new int[] {2}));
        message("batchnormBackward: invstd must be [3], got [9]", () -> OpShapes.batchnormBackward(X, X, c3, c3, new int[] {9}));
        message("layernorm: beta must be [3], got [2]", () -> OpShapes.layernorm(X, c3, new int[] {2}));
        message("layernormBackward: mean must be [2, 9, 11], got [3]", () -> OpShapes.layernormBackward(X, X, c3, c3, c3));

        message("geluBackward: dy must have the shape of x [2, 3, 9, 11], got [2, 3, 11, 9]",
                () -> OpShapes.geluBackward(X, new int[] {2, 3, 11, 9}));
        message("add: b must have the shape of a [2, 3], got [3, 2]", () -> OpShapes.add(new int[] {2, 3}, new int[] {3, 2}));
        message("addInPlace: src must have as many elements as dst [3], got [1, 4]", () -> OpShapes.addInPlace(new int[] {3}, new int[] {1, 4}));
        message("addGelu: b must have the shape of a [1, 2, 3, 3], got [1, 2, 3, 4]",
                () -> OpShapes.addGelu(new int[] {1, 2, 3, 3}, new int[] {1, 2, 3, 4}));

        message("gateIn: g must be [2, 9, 9, 11], got [2, 3, 9, 11]", () -> OpShapes.gateIn(X, X));
        message("gateOut: a must have the shape of s [2, 3, 9, 11], got [2, 3, 9, 10]",
                () -> OpShapes.gateOut(new int[] {2, 3, 9, 10}, X, new int[] {2, 9, 9, 11}));
        message("gateOutBackward: dout must have the shape of s [2, 3, 9, 11], got [2, 3, 1, 1]",
                () -> OpShapes.gateOutBackward(X, X, new int[] {2, 9, 9, 11}, new int[] {2, 3, 1, 1}));
        message("gateInBackward: threeC must be 3 × the channels of du [2, 3, 9, 11], got 8", () -> OpShapes.gateInBackward(X, 8));

        message("upsample2x: x must have rank 4 [N,C,H,W], got [3, 9]", () -> OpShapes.upsample2x(new int[] {3, 9}));
        message("upsample2xBackward: dy must have even H and W, got [2, 3, 9, 11]", () -> OpShapes.upsample2xBackward(X));

        message("pad2d: paddings must be ≥ 0, got top -1, bottom 0, left 0, right 0", () -> OpShapes.pad2d(X, -1, 0, 0, 0));
        message("pad2dBackward: the crop (1,2) 9×7 must lie inside dy [2, 3, 9, 11]", () -> OpShapes.pad2dBackward(X, 1, 2, 9, 7));
        message("concat: a and b must agree in N, H, W, got [1, 2, 3, 4] and [1, 2, 3, 5]",
                () -> OpShapes.concat(new int[] {1, 2, 3, 4}, new int[] {1, 2, 3, 5}));
        message("sliceChannels: channels [1,4) must lie inside x [2, 3, 9, 11]", () -> OpShapes.sliceChannels(X, 1, 4));

        message("ceDiceLoss: needs at least one image, class and pixel, got logits [1, 0, 1, 2]",
                () -> OpShapes.ceDiceLoss(new int[] {1, 0, 1, 2}, new int[] {1, 1, 2}));
        message("ceDiceLoss: target must be [1, 1, 2], got [1, 2, 1]", () -> OpShapes.ceDiceLoss(new int[] {1, 2, 1, 2}, new int[] {1, 2, 1}));

        message("adamw: p, g, m and v must have as many elements each, got p [3], g [4], m [3], v [3]",
                () -> OpShapes.adamw(new int[] {3}, new int[] {4}, new int[] {3}, new int[] {3}, 1));
        message("adamw: step must be ≥ 1, got 0", () -> OpShapes.adamw(new int[] {3}, new int[] {3}, new int[] {3}, new int[] {3}, 0));
    }

    static Stream<String> backendsAndRef() { return Stream.concat(Stream.of("ref"), BackendParity.backends()); }

    /** A bad call per op through {@code be}, and the OpShapes call it must fail like. */
    private record Bad(String what, Consumer<Backend> call, Executable rule) {}

    private static List<Bad> badCalls() {
        List<Bad> b = new ArrayList<>();
        int[] x = {1, 2, 8, 8};
        b.add(new Bad("conv2d", be -> be.conv2d(be.zeros(x), be.zeros(3, 4, 3, 3), null, 1, 1, false),
                () -> OpShapes.conv2d(x, new int[] {3, 4, 3, 3}, null, 1, 1, false)));
        b.add(new Bad("conv2dBackward", be -> be.conv2dBackward(be.zeros(x), be.zeros(3, 2, 3, 3), be.zeros(1, 3, 8, 7), 1, 1, false, true, true),
                () -> OpShapes.conv2dBackward(x, new int[] {3, 2, 3, 3}, new int[] {1, 3, 8, 7}, 1, 1, false)));
        b.add(new Bad("linear", be -> be.linear(be.zeros(1, 3, 2, 2), be.zeros(4, 5), null),
                () -> OpShapes.linear(new int[] {1, 3, 2, 2}, new int[] {4, 5}, null)));
        b.add(new Bad("linearBackward", be -> be.linearBackward(be.zeros(x), be.zeros(4, 2), be.zeros(x), true, true),
                () -> OpShapes.linearBackward(x, new int[] {4, 2}, x)));
        b.add(new Bad("linearGelu", be -> be.linearGelu(be.zeros(1, 3, 2, 2), be.zeros(4, 5), null, true),
                () -> OpShapes.linearGelu(new int[] {1, 3, 2, 2}, new int[] {4, 5}, null)));
        b.add(new Bad("linearBackwardDataGelu", be -> be.linearBackwardDataGelu(be.zeros(4, 5), be.zeros(1, 4, 2, 2), be.zeros(1, 6, 2, 2)),
                () -> OpShapes.linearBackwardDataGelu(new int[] {4, 5}, new int[] {1, 4, 2, 2}, new int[] {1, 6, 2, 2})));
        b.add(new Bad("dwconv7", be -> be.dwconv7(be.zeros(x), be.zeros(3, 1, 7, 7), be.zeros(2)),
                () -> OpShapes.dwconv7(x, new int[] {3, 1, 7, 7}, new int[] {2})));
        b.add(new Bad("dwconv7 too small", be -> be.dwconv7(be.zeros(1, 1, 3, 8), be.zeros(1, 1, 7, 7), be.zeros(1)),
                () -> OpShapes.dwconv7(new int[] {1, 1, 3, 8}, new int[] {1, 1, 7, 7}, new int[] {1})));
        b.add(new Bad("dwconv7Backward", be -> be.dwconv7Backward(be.zeros(x), be.zeros(2, 1, 7, 7), be.zeros(1, 2, 8, 9)),
                () -> OpShapes.dwconv7Backward(x, new int[] {2, 1, 7, 7}, new int[] {1, 2, 8, 9})));
        b.add(new Bad("batchnormTrain", be -> be.batchnormTrain(be.zeros(1, 2, 1, 1), be.zeros(2), be.zeros(2), be.zeros(2), be.zeros(2), 0.1f, 1e-5f),
                () -> OpShapes.batchnormTrain(new int[] {1, 2, 1, 1}, new int[] {2}, new int[] {2}, new int[] {2}, new int[] {2})));
        b.add(new Bad("batchnormEval", be -> be.batchnormEval(be.zeros(x), be.zeros(2), be.zeros(2), be.zeros(2), be.zeros(3), 1e-5f),
                () -> OpShapes.batchnormEval(x, new int[] {2}, new int[] {2}, new int[] {2}, new int[] {3})));
        b.add(new Bad("batchnormBackward", be -> be.batchnormBackward(be.zeros(x), be.zeros(1, 2, 8, 7), be.zeros(2), be.zeros(2), be.zeros(2)),
                () -> OpShapes.batchnormBackward(x, new int[] {1, 2, 8, 7}, new int[] {2}, new int[] {2}, new int[] {2})));
        b.add(new Bad("layernorm", be -> be.layernorm(be.zeros(x), be.zeros(3), be.zeros(2), 1e-6f),
                () -> OpShapes.layernorm(x, new int[] {3}, new int[] {2})));
        b.add(new Bad("layernormBackward", be -> be.layernormBackward(be.zeros(x), be.zeros(x), be.zeros(2), be.zeros(2), be.zeros(1, 8, 8)),
                () -> OpShapes.layernormBackward(x, x, new int[] {2}, new int[] {2}, new int[] {1, 8, 8})));
        b.add(new Bad("geluBackward", be -> be.geluBackward(be.zeros(x), be.zeros(1, 2, 8, 7)),
                () -> OpShapes.geluBackward(x, new int[] {1, 2, 8, 7})));
        b.add(new Bad("add", be -> be.add(be.zeros(2, 3, 7, 5), be.zeros(2, 3, 7, 6)),
                () -> OpShapes.add(new int[] {2, 3, 7, 5}, new int[] {2, 3, 7, 6})));
        b.add(new Bad("addInPlace", be -> be.addInPlace(be.zeros(3), be.zeros(4)), () -> OpShapes.addInPlace(new int[] {3}, new int[] {4})));
        b.add(new Bad("addGelu", be -> be.addGelu(be.zeros(1, 3, 2, 2), be.zeros(1, 3, 2, 3), true),
                () -> OpShapes.addGelu(new int[] {1, 3, 2, 2}, new int[] {1, 3, 2, 3})));
        b.add(new Bad("gateIn", be -> be.gateIn(be.zeros(x), be.zeros(x)), () -> OpShapes.gateIn(x, x)));
        b.add(new Bad("gateOut", be -> be.gateOut(be.zeros(1, 2, 8, 7), be.zeros(x), be.zeros(1, 6, 8, 8)),
                () -> OpShapes.gateOut(new int[] {1, 2, 8, 7}, x, new int[] {1, 6, 8, 8})));
        b.add(new Bad("gateOutBackward", be -> be.gateOutBackward(be.zeros(x), be.zeros(x), be.zeros(1, 6, 8, 8), be.zeros(2)),
                () -> OpShapes.gateOutBackward(x, x, new int[] {1, 6, 8, 8}, new int[] {2})));
        b.add(new Bad("gateInBackward", be -> be.gateInBackward(be.zeros(x), 5), () -> OpShapes.gateInBackward(x, 5)));
        b.add(new Bad("upsample2x", be -> be.upsample2x(be.zeros(2, 8)), () -> OpShapes.upsample2x(new int[] {2, 8})));
        b.add(new Bad("upsample2xBackward", be -> be.upsample2xBackward(be.zeros(1, 2, 3, 4)),
                () -> OpShapes.upsample2xBackward(new int[] {1, 2, 3, 4})));
        b.add(new Bad("pad2d", be -> be.pad2d(be.zeros(x), -1, 0, 0, 0), () -> OpShapes.pad2d(x, -1, 0, 0, 0)));
        b.add(new Bad("pad2dBackward", be -> be.pad2dBackward(be.zeros(x), 2, 0, 7, 8), () -> OpShapes.pad2dBackward(x, 2, 0, 7, 8)));
        b.add(new Bad("concat", be -> be.concat(be.zeros(1, 2, 3, 4), be.zeros(1, 2, 3, 5)),
                () -> OpShapes.concat(new int[] {1, 2, 3, 4}, new int[] {1, 2, 3, 5})));
        b.add(new Bad("sliceChannels", be -> be.sliceChannels(be.zeros(1, 2, 3, 4), 1, 3), () -> OpShapes.sliceChannels(new int[] {1, 2, 3, 4}, 1, 3)));
        b.add(new Bad("ceDiceLoss", be -> be.ceDiceLoss(be.zeros(1, 2, 1, 2), be.zeros(1, 2, 1)),
                () -> OpShapes.ceDiceLoss(new int[] {1, 2, 1, 2}, new int[] {1, 2, 1})));
        b.add(new Bad("adamw sizes", be -> be.adamw(be.zeros(3), be.zeros(4), be.zeros(3), be.zeros(3), 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                () -> OpShapes.adamw(new int[] {3}, new int[] {4}, new int[] {3}, new int[] {3}, 1)));
        b.add(new Bad("adamw step", be -> be.adamw(be.zeros(3), be.zeros(3), be.zeros(3), be.zeros(3), 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 0),
                () -> OpShapes.adamw(new int[] {3}, new int[] {3}, new int[] {3}, new int[] {3}, 0)));
        return b;
    }

    @ParameterizedTest(name = "{0}") @MethodSource("backendsAndRef")
    void everyBackendFailsWithTheRulesMessage(String name) throws Exception {
        if (name.equals("ref")) {
            failsLikeTheRules(name, new RefBackend());
            return;
        }
        try (BackendParity p = BACKENDS.open(name, 1)) {
            failsLikeTheRules(name, p.be);
        }
    }

    private static void failsLikeTheRules(String name, Backend be) {
        for (Bad bad : badCalls()) {
            String want = assertThrows(IllegalArgumentException.class, bad.rule(), bad.what()).getMessage();
            String got = assertThrows(IllegalArgumentException.class, () -> bad.call().accept(be), bad.what() + " on " + name).getMessage();
            assertEquals(want, got, bad.what() + " on " + name);
        }
        Tensor probe = be.zeros(1);   // the backend still works
        assertEquals(1, be.download(probe).length);
    }
}
