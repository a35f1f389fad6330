package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches dwconv7.cu (3 launches per forward + backward): DW_TX-column x DW_TY-row output tiles (32 x 64), 32x8 threads, one plane (n,c) per grid z / y. */
public final class DwConv7Ops {
    private static final int TX = Kernels.DW_TX, TY = Kernels.DW_TY;
    private static final int[] BLOCK = {Kernels.DW_TX, Kernels.DW_THREADS / Kernels.DW_TX, 1};
    /** Blocks the weight gradient aims at (GPU fill); tests lower it to make blocks loop over tiles. */
    static volatile int weightGradBlocks = Kernels.CU_REDUCE_TARGET_BLOCKS;
    private final Launcher k;
    /** dwconv7_backward_weight's per-channel tickets (unsigned ints, zero between launches): allocated once, zeroed. */
    private DeviceBuffer tickets;
    private int ticketCap;

    /** For tests: sets the weight-gradient block target; returns the previous one. */
    public static int setWeightGradBlocks(int blocks) {
        int old = weightGradBlocks;
        weightGradBlocks = Math.max(1, blocks);
        return old;
    }

    public DwConv7Ops(Launcher k) { this.k = k; }

    /**
     * The address of at least c zeroed tickets. Allocated on first use (and grown, never per step):
     * every launch leaves them at zero again, so they are zeroed only here.
     */
    private long tickets(int c) {
        if (tickets == null || ticketCap < c) {
            int cap = Math.max(c, 1024);
            tickets = k.persistent(cap);   // the old buffer, if any, stays with the pool until close
            k.device().memsetZero(tickets.address(), cap * 4L);   // direct, not queued: never part of a step graph
            ticketCap = cap;
        }
        return tickets.address();
    }

    private static void check(String op, Tensor x, Tensor w, Tensor b) {
        Shapes.rank(op, "x", x, 4);
        int c = x.dim(1);
        Shapes.require(x.dim(2) >= 4 && x.dim(3) >= 4, op, "reflect padding 3 needs H, W >= 4, got x " + x.shapeString());
        Shapes.shape(op, "w", w, c, 1, 7, 7);
        if (b != null) Shapes.shape(op, "b", b, c);
    }

    public Tensor dwconv7(Tensor x, Tensor w, Tensor b) { return forward("dwconv7", x, w, b, 0L); }

    /**
     * dwconv7 whose epilogue also sums the BatchNorm statistics of its output: channel c's sum and
     * sum of squares (doubles, a fixed order) land in {@code stats}[2c], [2c+1] (C pairs: the
     * partial of batchnorm_forward_apply with S = 1). Needs a non-empty x.
     */
    public Tensor dwconv7Stats(String op, Tensor x, Tensor w, Tensor b, long stats) {
        Shapes.require(x.numel() > 0, op, "empty batch " + x.shapeString());
        return forward(op, x, w, b, stats);
    }

    private Tensor forward(String op, Tensor x, Tensor w, Tensor b, long stats) {
        check(op, x, w, b);
        Shapes.require(b != null, op, "bias is required");
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        Tensor y = k.empty(x.shape());
        if (y.numel() == 0) return y;
        int[] grid = {Launcher.ceilDiv(wd, TX), Launcher.ceilDiv(h, TY), n * c};
        // one (sum, sum of squares) double pair per block: S = N * tiles pairs per channel
        DeviceBuffer ws = stats != 0 ? k.workspace(4L * c * n * grid[0] * grid[1]) : null;
        try {
            Kernels.dwconv7_forward(k.at(op, new Tensor[]{x, w, b}, grid, BLOCK, 0))
                    .x(k.ptr(x)).w(k.ptr(w)).b(k.ptr(b)).y(k.ptr(y)).partial(ws != null ? ws.address() : 0L).stats(stats)
                    .tickets(stats != 0 ? tickets(c) : 0L).N(n).C(c).H(h).W(wd).launch();
        } finally {
            if (ws != null) k.free(ws);
        }
        return y;
    }

    public Tensor[] dwconv7Backward(Tensor x, Tensor w, Tensor dy) { return dwconv7BackwardInto(x, w, dy, null, null, null); }

    /**
     * The backward adding into {@code dxInto} / {@code dwInto} / {@code dbInto} where non-null
     * (returned in their slots; the kernels add in place).
     */
    public Tensor[] dwconv7BackwardInto(Tensor x, Tensor w, Tensor dy, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        String op = "dwconv7Backward";
        check(op, x, w, null);
        Shapes.same(op, x, dy);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        if (dxInto != null) Shapes.same(op, x, dxInto);
        if (dwInto != null) Shapes.shape(op, "dw", dwInto, c, 1, 7, 7);
        if (dbInto != null) Shapes.shape(op, "db", dbInto, c);
        Tensor dx = dxInto != null ? dxInto : k.empty(x.shape());
        Tensor dw = dwInto != null ? dwInto : k.empty(c, 1, 7, 7);
        Tensor db = dbInto != null ? dbInto : k.empty(c);
        int acc = (dwInto != null ? 1 : 0) | (dbInto != null ? 2 : 0);
        if (x.numel() == 0) {   // an empty sum
            if ((acc & 1) == 0) k.memsetZero(k.ptr(dw), dw.numel() * 4L);
            if ((acc & 2) == 0) k.memsetZero(k.ptr(db), db.numel() * 4L);
            return new Tensor[]{dx, dw, db};
        }
        Tensor[] inv = {x, w, dy, dx, dw, db};
        Kernels.dwconv7_backward_data(k.at(op, inv,
                        new int[]{Launcher.ceilDiv(wd, TX), Launcher.ceilDiv(h, TY), n * c}, BLOCK, 0))
                .dy(k.ptr(dy)).w(k.ptr(w)).dx(k.ptr(dx)).C(c).H(h).W(wd).accumulate(dxInto != null ? 1 : 0).launch();
        int tilesX = Launcher.ceilDiv(wd, TX), tiles = tilesX * Launcher.ceilDiv(h, TY);
        // Blocks per plane: about 1024 blocks in all; each loops over tpb tiles before reducing.
        int nb = Math.max(1, Math.min(tiles, Launcher.ceilDiv(weightGradBlocks, (long) n * c)));
        int tpb = Launcher.ceilDiv(tiles, nb);
        nb = Launcher.ceilDiv(tiles, tpb);
        int s = n * nb;
        DeviceBuffer ws = k.workspace((long) c * Kernels.DW_TAPS_AND_BIAS * s);
        try {
            // one launch: the last block of each channel sums the channel's partials (dwconv7.cu)
            Kernels.dwconv7_backward_weight(k.at(op, inv, new int[]{nb, n * c, 1}, BLOCK, 0))
                    .x(k.ptr(x)).dy(k.ptr(dy)).partial(ws.address()).tickets(tickets(c)).dw(k.ptr(dw)).db(k.ptr(db))
                    .C(c).H(h).W(wd).tilesX(tilesX).tiles(tiles).tpb(tpb).S(s).accumulate(acc).launch();
        } finally {
            k.free(ws);
        }
        return new Tensor[]{dx, dw, db};
    }
}
