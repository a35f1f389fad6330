package convunext.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The one worker pool of the CPU backend, sized to the available processors (override with
 * {@code -Dconvunext.cpu.threads=N}). Ops split their work into a few coarse tasks and call
 * {@link #parallelFor}; nested calls from a worker run inline so the pool never deadlocks.
 */
public final class CpuThreads {
    private CpuThreads() {}

    private static final int THREADS = Math.max(1,
            Integer.getInteger("convunext.cpu.threads", Runtime.getRuntime().availableProcessors()));
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;
    private static volatile int limit = THREADS;

    /** Number of threads ops may use now. */
    public static int threads() { return limit; }

    /** Caps the threads used (1 … pool size), for benchmarks that compare 1 and N threads. */
    public static void setThreads(int n) { limit = Math.max(1, Math.min(THREADS, n)); }

    /** Runs body(0 … tasks-1), spread over the pool; returns when all are done. */
    public static void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (tasks == 1 || limit == 1 || POOL == null || java.util.concurrent.ForkJoinTask.getPool() == POOL) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        POOL.invoke(new Range(body, 0, tasks));
    }

    /**
     * Splits [0,n) into at most {@link #threads()}·{@code perThread} contiguous chunks of at least
     * {@code grain} items and runs body(from, to) on each.
     */
    public static void chunks(int n, int grain, int perThread, RangeBody body) {
        if (n <= 0) return;
        int maxTasks = Math.max(1, Math.min(threads() * perThread, (n + grain - 1) / Math.max(1, grain)));
        int tasks = Math.min(maxTasks, n);
        if (tasks == 1) { body.run(0, n); return; }
        parallelFor(tasks, t -> body.run((int) ((long) n * t / tasks), (int) ((long) n * (t + 1) / tasks)));
    }

    @FunctionalInterface
    public interface RangeBody { void run(int from, int to); }

    private static final class Range extends RecursiveAction {
        private final IntConsumer body;
        private final int lo, hi;

        Range(IntConsumer body, int lo, int hi) { this.body = body; this.lo = lo; this.hi = hi; }

        @Override protected void compute() {
            if (hi - lo == 1) { body.accept(lo); return; }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Range(body, lo, mid), new Range(body, mid, hi));
        }
    }
}
