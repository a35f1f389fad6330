package convunext.nn;

import convunext.autograd.Tape;
import convunext.autograd.Var;
import convunext.backend.Backend;
import convunext.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * ConvUNeXt (Han, Jian, Wang, Knowledge-Based Systems 2022): state_dict names and shapes of the
 * authors' release; see reference/convunext_torch.py. With (3, 2, 32, batch) it has
 * 3,505,730 parameters and 265 state_dict entries.
 */
public final class ConvUNeXt implements AutoCloseable {
    /** Model configuration (stored in checkpoints). */
    public record Config(int inChannels, int numClasses, int baseC, Norm norm) {
        public Config {
            if (inChannels < 1) throw new IllegalArgumentException("in_channels must be ≥ 1, got " + inChannels);
            if (numClasses < 2) throw new IllegalArgumentException("num_classes must be ≥ 2, got " + numClasses);
            if (baseC < 1) throw new IllegalArgumentException("base_c must be ≥ 1, got " + baseC);
        }

        /**
         * The model's parameter count without building it: 3327·b² + (2941 + 49·in + classes)·b +
         * classes for base_c b (3,505,730 at 3, 2, 32; the same with either norm); Long.MAX_VALUE
         * where that does not fit a long. ConvUNeXtStructureTest checks it against built models.
         */
        public long parameters() {
            long b = baseC;
            try {
                return Math.addExact(Math.multiplyExact(3327L * b, b), (2941L + 49L * inChannels + numClasses) * b + numClasses);
            } catch (ArithmeticException beyondLong) {
                return Long.MAX_VALUE;
            }
        }
    }

    /** Each side must stay ≥ 4 after four halvings (7×7 reflect padding at the deepest level). */
    public static final int MIN_SIDE = 64;

    public final Config config;
    public final ParamStore params = new ParamStore();
    private final Backend backend;
    private final Layers.Conv2d stem;
    private final Layers.Norm2d stemNorm;
    private final Blocks.Block stemBlock;
    private final Blocks.Down down1, down2, down3, down4;
    private final Blocks.Up up1, up2, up3, up4;
    private final Layers.Conv2d out;

    public ConvUNeXt(Config cfg, Backend backend, long seed) {
        this.config = cfg;
        this.backend = backend;
        SplittableRandom rng = new SplittableRandom(seed);
        int b = cfg.baseC();
        Norm n = cfg.norm();
        stem = new Layers.Conv2d(params, rng, "in_conv.0", cfg.inChannels(), b, 7, 1, 3, true);
        stemNorm = new Layers.Norm2d(params, "in_conv.1", b, n);
        stemBlock = new Blocks.Block(params, rng, "in_conv.3", b, n);
        down1 = new Blocks.Down(params, rng, "down1", b, 2 * b, 1, n);
        down2 = new Blocks.Down(params, rng, "down2", 2 * b, 4 * b, 1, n);
        down3 = new Blocks.Down(params, rng, "down3", 4 * b, 8 * b, 3, n);
        down4 = new Blocks.Down(params, rng, "down4", 8 * b, 8 * b, 1, n);
        up1 = new Blocks.Up(params, rng, "up1", 16 * b, 4 * b, n);
        up2 = new Blocks.Up(params, rng, "up2", 8 * b, 2 * b, n);
        up3 = new Blocks.Up(params, rng, "up3", 4 * b, b, n);
        up4 = new Blocks.Up(params, rng, "up4", 2 * b, b, n);
        out = new Layers.Conv2d(params, rng, "out_conv.0", b, cfg.numClasses(), 1, 1, 0, false);
        params.materialize(backend);
    }

    public Backend backend() { return backend; }

    /** Refuses inputs the model cannot take, naming the shape and the minimum. */
    public void checkInput(int[] shape) {
        if (shape.length != 4 || shape[1] != config.inChannels())
            throw new IllegalArgumentException("input must be [N," + config.inChannels() + ",H,W], got "
                    + java.util.Arrays.toString(shape));
        if (shape[2] < MIN_SIDE || shape[3] < MIN_SIDE)
            throw new IllegalArgumentException("input " + shape[2] + "×" + shape[3] + " is too small: each side must be ≥ "
                    + MIN_SIDE + " (it must stay ≥ 4 after four halvings, for the 7×7 reflect padding)");
    }

    /** Logits [N,classes,H,W]. In train mode BatchNorm uses (and updates) batch statistics. */
    public Var forward(Tape t, Tensor input, boolean train) {
        checkInput(input.shape());
        Var x = Var.constant(input);
        // In inference each scope frees what nothing needs any more (Tape.scope; a no-op in training):
        // the encoder's outputs live until the Up stage that consumes them as its skip.
        Var x1;
        try (Tape.Scope s = t.scope()) {
            x1 = s.keep(stemBlock.forward(t, stemNorm.forwardAddGelu(t, null, stem.forward(t, x), train), train, true));   // GELU in the norm's pass
        }
        Var x2 = down1.forward(t, x1, train);
        Var x3 = down2.forward(t, x2, train);
        Var x4 = down3.forward(t, x3, train);
        Var x5 = down4.forward(t, x4, train);
        // each stage's output but the last goes to the next stage's BatchNorm: its producer sums the statistics
        Var y = up1.forward(t, x5, x4, train, true);
        y = up2.forward(t, y, x3, train, true);
        y = up3.forward(t, y, x2, train, true);
        y = up4.forward(t, y, x1, train, false);
        try (Tape.Scope s = t.scope(y)) {
            return s.keep(out.forward(t, y));
        }
    }

    @Override public void close() { params.release(); }
}
