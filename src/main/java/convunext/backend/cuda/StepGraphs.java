package convunext.backend.cuda;

import convunext.backend.Backend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA backend's queue of device work, and CUDA Graphs for work that repeats (a training step,
 * an inference tile, a verify step): every launch, memset and copy of the backend goes through
 * here to the {@link Device}. Outside a step scope it is passed on at once. A {@link Backend#step}
 * scope with a key runs eagerly until one run needs no new device memory (the caching pool is in
 * its steady state: usually the second run); the next time its device work is recorded (not
 * executed) and, at the end of the scope, captured into a graph and launched; from then on the
 * scope's work is not sent to the device at all but compared, call by call, with the graph's, and
 * the graph is launched at the end. The pool's free lists are put in address order at the start
 * and end of every scope, so the same sequence of allocations gets the same buffers.
 *
 * <p>The comparison is what makes replaying safe: a captured launch keeps the arguments it had,
 * so a replay is only right when the step's Java code would issue exactly the same kernels with
 * exactly the same arguments and addresses (the same buffers from the pool). A host scalar that
 * changes from step to step and is passed as a kernel argument (AdamW's learning rate was) shows up
 * here as a difference: the work recorded so far is then issued eagerly, the rest of the step runs
 * eagerly, and the graph is captured again next time (after {@link #MAX_FAILURES} misses the key
 * stays eager); {@link #stats} names the first difference. Per-step values therefore go through
 * device memory (copies from pinned staging buffers, which the graph reads at replay time).
 * Anything that needs the device's results inside a scope (a download, a synchronise, an event)
 * ends the recording or replay the same way. On the emulator the identical path runs (its graphs
 * are recorded call lists), so CI exercises capture, replay and the comparison.
 */
public final class StepGraphs {
    /** Misses after which a key stays eager. */
    static final int MAX_FAILURES = 3;

    private enum Mode { EAGER, RECORD, REPLAY }

    /** One queued call: a launch, a memset, a device copy or a copy from a pinned staging buffer. */
    private static final class Op {
        final int type;   // 0 launch, 1 memset, 2 copyDtoD, 3 copy from staging
        final String kernel;
        final int[] grid, block;
        final int shared;
        final KernelArgs args;
        final long a, b, c;   // memset: ptr, value, bytes; copyDtoD: dst, src, bytes; staging: dst, slot, bytes

        Op(int type, String kernel, int[] grid, int[] block, int shared, KernelArgs args, long a, long b, long c) {
            this.type = type;
            this.kernel = kernel;
            this.grid = grid;
            this.block = block;
            this.shared = shared;
            this.args = args;
            this.a = a;
            this.b = b;
            this.c = c;
        }

        String describe(int i) {
            switch (type) {
                case 0: return "launch " + i + " (" + kernel + ")";
                case 1: return "memset " + i + " (" + c + " bytes at 0x" + Long.toHexString(a) + ")";
                case 2: return "device copy " + i + " (" + c + " bytes)";
                default: return "host-to-device copy " + i + " (" + c + " bytes to 0x" + Long.toHexString(a) + ")";
            }
        }
    }

    private static final class Graph {
        final List<Op> ops = new ArrayList<>();
        final List<long[]> staging = new ArrayList<>();   // {pinned handle, bytes} per staged copy
        long handle;                                       // the device's graph, 0 until captured
        long done;                                         // an event after its last launch
    }

    private static final class Slot {
        int runs, failures;
        boolean steadyRun;   // the last eager run made no driver allocation: the pool is in its steady state
        Graph graph;
        String lastMiss;
    }

    private final Device device;
    private final boolean enabled;
    private Runnable steady = () -> {};   // the pool's canonicalize(): same buffers for the same step
    private java.util.function.LongSupplier driverAllocs = () -> 0;   // the pool's count of driver allocations
    private final Map<String, Slot> slots = new HashMap<>();
    private Mode mode = Mode.EAGER;
    private Slot current;
    private Graph building;            // RECORD: the graph being recorded; REPLAY: the graph compared with
    private int next;                  // REPLAY: index of the next op to compare
    private int stagedNext;            // RECORD/REPLAY: index of the next staging buffer
    private long captured, replayed, misses;

    /** {@code enabled}: false keeps every scope eager (-Dconvunext.cuda.graphs=false, cuBLAS in use). */
    StepGraphs(Device device, boolean enabled) {
        this.device = device;
        this.enabled = enabled;
    }

    public Device device() { return device; }

    /** Run at the start and end of every scope: puts the pool's free lists in a canonical order. */
    void steadyPool(Runnable canonicalize, java.util.function.LongSupplier driverAllocations) {
        steady = canonicalize;
        driverAllocs = driverAllocations;
    }

    /** Whether work is being passed to the device at once (no step is being recorded or compared). */
    public boolean eager() { return mode == Mode.EAGER; }

    // ------------------------------------------------------------------ the queue

    public void launch(String kernel, int[] grid, int[] block, int shared, KernelArgs args) {
        if (mode == Mode.EAGER) { device.launch(kernel, grid, block, shared, args); return; }
        queue(new Op(0, kernel, grid, block, shared, args, 0, 0, 0));
    }

    public void memset(long ptr, int value, long bytes) {
        if (mode == Mode.EAGER) { device.memset(ptr, value, bytes); return; }
        queue(new Op(1, null, null, null, 0, null, ptr, value, bytes));
    }

    public void copyDtoD(long dst, long src, long bytes) {
        if (mode == Mode.EAGER) { device.copyDtoD(dst, src, bytes); return; }
        queue(new Op(2, null, null, null, 0, null, dst, src, bytes));
    }

    /** A copy from a Java array: inside a scope it goes through a pinned staging buffer of the graph. */
    public void copyHtoD(long dst, float[] src, int off, int count) {
        if (mode == Mode.EAGER) { device.copyHtoD(dst, src, off, count); return; }
        long bytes = 4L * count;
        if (mode == Mode.RECORD) {
            long h = device.hostAlloc(bytes);
            building.staging.add(new long[]{h, bytes});
            device.hostWrite(h, 0, src, off, count);
            building.ops.add(new Op(3, null, null, null, 0, null, dst, building.staging.size() - 1, bytes));
            return;
        }
        Op op = new Op(3, null, null, null, 0, null, dst, stagedNext, bytes);
        if (!matches(op)) {
            device.copyHtoD(dst, src, off, count);
            return;
        }
        if (stagedNext == 0 && building.done != 0) device.eventSynchronize(building.done);   // the last replay read them
        device.hostWrite(building.staging.get(stagedNext)[0], 0, src, off, count);
        stagedNext++;
        next++;
    }

    /** Before a copy to the host, a synchronise or an event: a scope's queued work must be real now. */
    public void needResults(String why) {
        if (mode != Mode.EAGER) miss(why + " inside the step");
    }

    private void queue(Op op) {
        if (mode == Mode.RECORD) building.ops.add(op);
        else if (matches(op)) next++;
        else issue(op, null);   // the step goes on eagerly
    }

    /**
     * REPLAY: whether op is the graph's next call; on a difference, the calls compared so far are
     * issued eagerly, the step goes on eagerly (the caller issues op) and the graph is dropped.
     */
    private boolean matches(Op op) {
        String why = null;
        if (next >= building.ops.size()) {
            why = "the step issues more work than the graph holds (" + op.describe(next) + ")";
        } else {
            Op g = building.ops.get(next);
            if (g.type != op.type) why = op.describe(next) + " where the graph has " + g.describe(next);
            else if (op.type == 0) {
                if (!g.kernel.equals(op.kernel)) why = op.describe(next) + " where the graph has " + g.describe(next);
                else if (!Arrays.equals(g.grid, op.grid) || !Arrays.equals(g.block, op.block) || g.shared != op.shared)
                    why = op.describe(next) + ": grid " + Arrays.toString(op.grid) + " block " + Arrays.toString(op.block)
                            + " differ from the captured " + Arrays.toString(g.grid) + " " + Arrays.toString(g.block);
                else if (!g.args.sameAs(op.args)) why = op.describe(next) + ": " + argDifference(g.args, op.args);
            } else if (g.a != op.a || g.b != op.b || g.c != op.c) {
                why = op.describe(next) + " differs from the captured " + g.describe(next);
            }
        }
        if (why == null) return true;
        miss(why);
        return false;
    }

    private static String argDifference(KernelArgs captured, KernelArgs now) {
        for (int i = 0; i < Math.min(captured.size(), now.size()); i++)
            if (captured.slot(i) != now.slot(i) || captured.kind(i) != now.kind(i)) {
                boolean scalar = now.kind(i) != KernelArgs.Kind.PTR;
                return "argument " + i + " is " + now.value(i) + ", captured as " + captured.value(i)
                        + (scalar ? " (a host scalar baked into a captured launch: pass per-step values in device memory)"
                                  : " (another buffer than at capture)");
            }
        return "argument count " + now.size() + " vs " + captured.size();
    }

    /** Ends recording or replay for this step: what was queued so far is issued eagerly, in order. */
    private void miss(String why) {
        Slot s = current;
        Graph g = building;
        int upTo = mode == Mode.RECORD ? g.ops.size() : next;
        Mode was = mode;
        mode = Mode.EAGER;
        misses++;
        s.failures++;
        s.lastMiss = (was == Mode.RECORD ? "recording" : "replay") + " ended: " + why;
        for (int i = 0; i < upTo; i++) issue(g.ops.get(i), g);
        if (was == Mode.RECORD) free(g);
        else {
            free(s.graph);
            s.graph = null;
        }
        building = null;
    }

    private void issue(Op op, Graph g) {
        switch (op.type) {
            case 0: device.launch(op.kernel, op.grid, op.block, op.shared, op.args); break;
            case 1: device.memset(op.a, (int) op.b, op.c); break;
            case 2: device.copyDtoD(op.a, op.b, op.c); break;
            default: device.copyHostToDevice(op.a, g.staging.get((int) op.b)[0], 0, op.c); break;
        }
    }

    private void free(Graph g) {
        if (g == null) return;
        device.synchronize();   // queued copies may still read its pinned buffers, a launch its graph
        if (g.handle != 0) device.graphDestroy(g.handle);
        if (g.done != 0) device.eventDestroy(g.done);
        for (long[] h : g.staging) device.hostFree(h[0]);
    }

    // ------------------------------------------------------------------ scopes

    /** See {@link Backend#step}: the scope for one run of the repeated work {@code key}. */
    Backend.StepScope step(String key) {
        if (!enabled || mode != Mode.EAGER || current != null) return Backend.StepScope.NONE;   // no nesting
        Slot s = slots.computeIfAbsent(key, k -> new Slot());
        s.runs++;
        steady.run();
        if (!s.steadyRun || s.failures >= MAX_FAILURES) {   // warm-up until a run needs no new memory, or given up
            long before = driverAllocs.getAsLong();
            return () -> {
                steady.run();
                s.steadyRun = driverAllocs.getAsLong() == before;
            };
        }
        current = s;
        next = 0;
        stagedNext = 0;
        if (s.graph == null) {
            mode = Mode.RECORD;
            building = new Graph();
        } else {
            mode = Mode.REPLAY;
            building = s.graph;
        }
        return this::endStep;
    }

    private void endStep() {
        steady.run();
        Slot s = current;
        current = null;
        if (mode == Mode.EAGER) return;   // a miss ended it; everything was issued
        Graph g = building;
        building = null;
        if (mode == Mode.RECORD) {
            mode = Mode.EAGER;
            try {
                g.handle = device.graphCapture(() -> { for (Op op : g.ops) issue(op, g); });
                g.done = device.eventCreate();
            } catch (RuntimeException e) {   // capture refused: run the step's work eagerly instead
                for (Op op : g.ops) issue(op, g);
                free(g);
                s.failures++;
                s.lastMiss = "capture failed: " + e.getMessage();
                misses++;
                return;
            }
            s.graph = g;
            captured++;
        } else {
            mode = Mode.EAGER;
            if (next != g.ops.size()) {   // the step issued less than the graph holds
                s.failures++;
                s.lastMiss = "replay ended: the step issued " + next + " of the graph's " + g.ops.size() + " calls";
                misses++;
                for (int i = 0; i < next; i++) issue(g.ops.get(i), g);
                free(g);
                s.graph = null;
                return;
            }
            replayed++;
        }
        device.graphLaunch(g.handle);
        device.eventRecord(g.done);
    }

    /** Graphs captured, replays, misses, and per key its runs and last miss. */
    public String stats() {
        StringBuilder b = new StringBuilder(String.format("graphs: %d captured, %d replays, %d misses%s", captured, replayed,
                misses, enabled ? "" : " (disabled)"));
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            Slot s = e.getValue();
            b.append("; ").append(e.getKey()).append(": ").append(s.runs).append(" runs")
                    .append(s.graph != null ? ", " + s.graph.ops.size() + " calls in its graph" : "")
                    .append(s.failures >= MAX_FAILURES ? ", eager (gave up)" : "")
                    .append(s.lastMiss != null ? ", last miss: " + s.lastMiss : "");
        }
        return b.toString();
    }

    long captured() { return captured; }

    long replayed() { return replayed; }

    long misses() { return misses; }

    void close() {
        for (Slot s : slots.values()) free(s.graph);
        slots.clear();
    }
}
