package convunext.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The one worker team of the CPU backend: the calling thread plus THREADS − 1 daemon workers,
 * THREADS the available processors (override with {@code -Dconvunext.cpu.threads=N}). Ops split
 * their work into a few coarse tasks and call {@link #parallelFor}; the caller takes tasks too,
 * each thread takes the next task index until none is left, and the caller returns once all are
 * done. Which thread runs a task never changes what it computes (tasks are fixed by the op's
 * shape), so results do not depend on the schedule. Nested calls, and calls while another thread
 * holds the team, run inline.
 *
 * <p>Why not ForkJoinPool (this class's pool until round 21): a training step makes about 350
 * regions of 0.1–5 ms. Through {@code ForkJoinPool.invoke} the caller parked while one worker
 * woke, that worker woke the second, and the caller waited parked until the last task woke it;
 * measured per step on a 2-core VM: 13–17 ms before the first task started, 15–36 ms from the
 * last task's end to the caller's return, the second of two tasks starting 0.2 ms late, and
 * 16–22 % of the two threads' time idle inside regions. Here the caller starts its task at once
 * and a worker that is still awake takes the next region without a wake-up: training steps
 * 0.89–0.92× the ForkJoinPool time (bench/NOTES.md, CPU round 21).
 *
 * <p>An idle worker and the waiting caller poll for {@link #spinNanos} (200 µs by default,
 * {@code -Dconvunext.cpu.spinNanos=0} parks at once) before parking: on this 2-vCPU VM a wake-up
 * takes long enough that a short region's second task was often taken by the caller before the
 * worker ran. Alternated in one JVM: training steps 0.977, 0.983, 0.984 (80, 80, 60 pairs; 57, 53,
 * 39 faster), 1 ms 0.975, 50 µs 0.991 (not resolved); inference 0.990 (100 pairs, 63 faster)
 * (bench/NOTES.md, CPU round 26; round 21's 5–6 whole-JVM pairs could not resolve it). A
 * thread polls at most that long after a region, then parks: an idle process burns nothing.
 */
public final class CpuThreads {
    private CpuThreads() {}

    private static final int THREADS = Math.max(1,
            Integer.getInteger("convunext.cpu.threads", Runtime.getRuntime().availableProcessors()));
    private static final Team TEAM = THREADS > 1 ? new Team(THREADS - 1) : null;
    private static volatile int limit = THREADS;
    /** How long an idle worker and the waiting caller poll before parking (0: park at once; see the class comment). */
    static volatile long spinNanos = Math.max(0L, Long.getLong("convunext.cpu.spinNanos", 200_000L));

    /** Number of threads ops may use now. */
    public static int threads() { return limit; }

    /** Caps the threads used (1 … team size), for benchmarks that compare 1 and N threads. */
    public static void setThreads(int n) { limit = Math.max(1, Math.min(THREADS, n)); }

    /** Runs body(0 … tasks-1), spread over the team; returns when all are done. */
    public static void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        int helpers = TEAM == null ? 0 : Math.min(Math.min(limit, tasks) - 1, TEAM.workers.length);
        if (helpers <= 0 || Thread.currentThread() instanceof Worker || TEAM.lock.isHeldByCurrentThread()
                || !TEAM.lock.tryLock()) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        try {
            Region r = new Region(body, tasks, helpers);
            TEAM.start(r);
            r.work();
            r.await();
            Throwable t = r.failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new RuntimeException(t);
        } finally {
            TEAM.lock.unlock();
        }
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

    /** One parallelFor: tasks handed out by index to whichever thread asks next. */
    private static final class Region {
        final IntConsumer body;
        final int tasks, helpers;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        volatile Throwable failure;
        volatile Thread waiter;

        Region(IntConsumer body, int tasks, int helpers) {
            this.body = body;
            this.tasks = tasks;
            this.helpers = helpers;
        }

        /** Takes tasks until none is left; the first failure is kept and later tasks are skipped. */
        void work() {
            for (int i; (i = next.getAndIncrement()) < tasks; ) {
                try {
                    if (failure == null) body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                }
                if (done.incrementAndGet() == tasks) {
                    Thread w = waiter;
                    if (w != null) LockSupport.unpark(w);
                }
            }
        }

        /** The caller, after its own tasks: polls for spinNanos, then parks until the last task wakes it. */
        void await() {
            long spin = spinNanos;
            if (spin > 0) {
                long end = System.nanoTime() + spin;
                while (done.get() < tasks && System.nanoTime() < end) Thread.onSpinWait();
            }
            while (done.get() < tasks) {
                waiter = Thread.currentThread();
                if (done.get() < tasks) LockSupport.parkNanos(this, 1_000_000);   // bounded: a lost wake-up costs 1 ms, never a hang
            }
        }
    }

    private static final class Team {
        final Worker[] workers;
        final ReentrantLock lock = new ReentrantLock();
        volatile Region region;   // the latest; a worker tells a new one by identity (it holds the last it saw)

        Team(int n) {
            workers = new Worker[n];
            for (int i = 0; i < n; i++) {
                workers[i] = new Worker(this, i);
                workers[i].start();
            }
        }

        /** Publishes r, then wakes the helpers that parked (one still running sees it by itself). */
        void start(Region r) {
            region = r;
            for (int i = 0; i < r.helpers; i++)
                if (workers[i].parked) LockSupport.unpark(workers[i]);
        }
    }

    private static final class Worker extends Thread {
        private final Team team;
        private final int index;
        volatile boolean parked;

        Worker(Team team, int index) {
            super("convunext-cpu-" + (index + 1));
            this.team = team;
            this.index = index;
            setDaemon(true);
        }

        @Override public void run() {
            Region seen = null;
            for (;;) {
                Region r = next(seen);
                seen = r;
                if (index < r.helpers) r.work();
            }
        }

        /** The first region other than seen, parking until start() unparks it. */
        private Region next(Region seen) {
            long spin = spinNanos;
            if (spin > 0) {
                long end = System.nanoTime() + spin;
                do {
                    Region r = team.region;
                    if (r != null && r != seen) return r;
                    Thread.onSpinWait();
                } while (System.nanoTime() < end);
            }
            for (;;) {
                Region r = team.region;
                if (r != null && r != seen) return r;
                parked = true;
                r = team.region;   // re-read after announcing: start() either sees parked or we see r
                if (r == null || r == seen) LockSupport.park(this);
                parked = false;
            }
        }
    }
}
