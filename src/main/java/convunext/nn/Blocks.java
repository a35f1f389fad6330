package convunext.nn;

import convunext.autograd.F;
import convunext.autograd.Tape;
import convunext.autograd.Var;
import java.util.SplittableRandom;

/** ConvUNeXt's composite modules: Block, Down and Up (names as the reference state_dict). */
final class Blocks {
    private Blocks() {}

    /** 7×7 depthwise (reflect) → norm → 1×1 expand 4× → GELU → 1×1 → norm → GELU(x + ·). */
    static final class Block {
        final Layers.DwConv7 dwconv;
        final Layers.Norm2d norm1, norm2;
        final Layers.Linear pw1, pw2;

        Block(ParamStore ps, SplittableRandom rng, String p, int c, Norm norm) {
            dwconv = new Layers.DwConv7(ps, rng, p + ".dwconv", c);
            norm1 = new Layers.Norm2d(ps, p + ".norm1", c, norm);
            pw1 = new Layers.Linear(ps, rng, p + ".pwconv1", c, 4 * c);
            pw2 = new Layers.Linear(ps, rng, p + ".pwconv2", 4 * c, c);
            norm2 = new Layers.Norm2d(ps, p + ".norm2", c, norm);
        }

        Var forward(Tape t, Var x, boolean train) { return forward(t, x, train, false); }

        /** statsOut: the output goes to a BatchNorm next (the next stage's norm): see Norm2d.forwardAddGelu. */
        Var forward(Tape t, Var x, boolean train, boolean statsOut) {
            try (Tape.Scope s = t.scope()) {
                Var y = norm1.forwardOfDwconv(t, dwconv, x, train);
                y = F.mlp(t, y, pw1.w.var(), pw1.b.var(), pw2.w.var(), pw2.b.var());   // pwconv1 → GELU → pwconv2
                return s.keep(norm2.forwardAddGelu(t, x, y, train, statsOut));   // GELU(x + norm2(·)), in the norm's pass
            }
        }
    }

    /** Sequential(norm(cin), Conv2d(cin, cout, 2, stride 2), Block(cout) × blocks). */
    static final class Down {
        final Layers.Norm2d norm;
        final Layers.Conv2d conv;
        final Block[] blocks;

        Down(ParamStore ps, SplittableRandom rng, String p, int cin, int cout, int nBlocks, Norm n) {
            norm = new Layers.Norm2d(ps, p + ".0", cin, n);
            conv = new Layers.Conv2d(ps, rng, p + ".1", cin, cout, 2, 2, 0, false);
            blocks = new Block[nBlocks];
            for (int i = 0; i < nBlocks; i++) blocks[i] = new Block(ps, rng, p + "." + (2 + i), cout, n);
        }

        /**
         * x stays alive (it is a skip connection); each block's input is freed once the next one
         * exists. The last block's output goes to the next stage's norm (statsOut).
         */
        Var forward(Tape t, Var x, boolean train) {
            Var y;
            try (Tape.Scope s = t.scope()) {
                y = s.keep(conv.forward(t, norm.forward(t, x, train)));
            }
            for (int i = 0; i < blocks.length; i++)
                try (Tape.Scope s = t.scope(y)) {
                    y = s.keep(blocks[i].forward(t, y, train, i == blocks.length - 1));
                }
            return y;
        }
    }

    /**
     * norm(low) → bilinear ×2 (align_corners) → zero-pad to the skip's size → gated attention on
     * the skip → Conv1×1(cat[skip', low]) → Block.
     */
    static final class Up {
        final Layers.Norm2d norm;
        final Layers.Linear gate, linear1, linear2;
        final Layers.Conv2d conv1x1;
        final Block block;

        Up(ParamStore ps, SplittableRandom rng, String p, int cin, int cout, Norm n) {
            int c = cin / 2;
            norm = new Layers.Norm2d(ps, p + ".norm", c, n);
            gate = new Layers.Linear(ps, rng, p + ".gate", c, 3 * c);
            linear1 = new Layers.Linear(ps, rng, p + ".linear1", c, c);
            linear2 = new Layers.Linear(ps, rng, p + ".linear2", c, c);
            conv1x1 = new Layers.Conv2d(ps, rng, p + ".conv1x1", cin, cout, 1, 1, 0, false);
            block = new Block(ps, rng, p + ".conv.0", cout, n);
        }

        /** Consumes low and skip: in inference both are freed when the stage's result exists. */
        Var forward(Tape t, Var low, Var skip, boolean train) { return forward(t, low, skip, train, false); }

        /** statsOut: the result goes to the next Up stage's norm (see Block.forward). */
        Var forward(Tape t, Var low, Var skip, boolean train, boolean statsOut) {
            try (Tape.Scope scope = t.scope(low, skip)) {
                Var l = F.upsample2x(t, norm.forward(t, low, train));
                int dy = skip.value.dim(2) - l.value.dim(2), dx = skip.value.dim(3) - l.value.dim(3);
                l = F.pad2d(t, l, dy / 2, dy - dy / 2, dx / 2, dx - dx / 2);
                // gate(l) → gateIn → linear1 → gateOut → linear2, then Conv1×1(cat[s2, l]) without the
                // concatenated tensor, as one tape node (F.gateChainCat)
                Var y = F.gateChainCat(t, l, skip, gate.w.var(), gate.b.var(), linear1.w.var(), linear1.b.var(), linear2.w.var(),
                        linear2.b.var(), conv1x1.w.var(), conv1x1.b.var());
                return scope.keep(block.forward(t, y, train, statsOut));
            }
        }
    }
}
