package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The CPU backend's worker team: every task once, failures, nesting, concurrent callers, parking. */
class CpuThreadsTest {

    @Test void everyTaskRunsExactlyOnceAtEveryThreadCount() {
        int saved = CpuThreads.threads();
        try {
            for (int t = 1; t <= Math.max(2, saved); t++) {
                CpuThreads.setThreads(t);
                for (int tasks = 1; tasks <= 40; tasks++) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                    for (int rep = 0; rep < 50; rep++) CpuThreads.parallelFor(tasks, runs::incrementAndGet);
                    for (int i = 0; i < tasks; i++) assertEquals(50, runs.get(i), "task " + i + " of " + tasks + ", " + t + " thread(s)");
                }
            }
        } finally {
            CpuThreads.setThreads(saved);
        }
    }

    @Test void aFailingTaskThrowsInTheCallerAndTheTeamGoesOn() {
        for (int bad = 0; bad < 4; bad++) {
            int b = bad;
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> CpuThreads.parallelFor(4, i -> {
                if (i == b) throw new IllegalStateException("task " + i);
            }));
            assertEquals("task " + bad, e.getMessage());
        }
        AtomicIntegerArray runs = new AtomicIntegerArray(8);
        CpuThreads.parallelFor(8, runs::incrementAndGet);
        for (int i = 0; i < 8; i++) assertEquals(1, runs.get(i));
    }

    /** With two threads, two tasks run at the same time (each waits for the other to start), also after the team parked. */
    @Test void twoTasksRunAtTheSameTime() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(CpuThreads.threads() >= 2, "one thread");
        for (int rep = 0; rep < 3; rep++) {
            twoTasksMeet("");
            Thread.sleep(5);   // the worker parks; start() must wake it
        }
    }

    /** Two tasks of one region, each waiting for the other to start: both threads run at once. */
    private static void twoTasksMeet(String what) {
        CountDownLatch both = new CountDownLatch(2);
        AtomicIntegerArray met = new AtomicIntegerArray(2);
        CpuThreads.parallelFor(2, i -> {
            both.countDown();
            try {
                if (both.await(20, java.util.concurrent.TimeUnit.SECONDS)) met.set(i, 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(1, met.get(0), what + "task 0 never saw task 1 start");
        assertEquals(1, met.get(1), what + "task 1 never saw task 0 start");
    }

    /** Parking at once (spinNanos 0) and polling longer than the gaps between regions (50 ms) both run every task, two at a time. */
    @Test void bothWaitPoliciesRunEveryTask() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(CpuThreads.threads() >= 2, "one thread");
        long saved = CpuThreads.spinNanos;
        try {
            for (long spin : new long[] {0L, 50_000_000L}) {
                CpuThreads.spinNanos = spin;
                for (int rep = 0; rep < 3; rep++) {
                    twoTasksMeet("spin " + spin + " ns: ");
                    AtomicIntegerArray runs = new AtomicIntegerArray(7);
                    CpuThreads.parallelFor(7, runs::incrementAndGet);
                    for (int i = 0; i < 7; i++) assertEquals(1, runs.get(i), "spin " + spin + " ns, task " + i);
                    Thread.sleep(1);   // within the long poll; past the zero one
                }
            }
        } finally {
            CpuThreads.spinNanos = saved;
        }
    }

    @Test void nestedCallsRunInline() {
        AtomicIntegerArray runs = new AtomicIntegerArray(6 * 5);
        CpuThreads.parallelFor(6, i -> CpuThreads.parallelFor(5, j -> runs.incrementAndGet(i * 5 + j)));
        for (int i = 0; i < 30; i++) assertEquals(1, runs.get(i));
    }

    /** A second thread that finds the team busy runs its region inline: both finish, each task once. */
    @Test void concurrentCallersBothComplete() throws Exception {
        int n = 64;
        AtomicIntegerArray a = new AtomicIntegerArray(n), b = new AtomicIntegerArray(n);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> err = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                go.await();
                for (int rep = 0; rep < 200; rep++) CpuThreads.parallelFor(n, b::incrementAndGet);
            } catch (Throwable t) {
                err.set(t);
            }
        });
        other.start();
        go.countDown();
        for (int rep = 0; rep < 200; rep++) CpuThreads.parallelFor(n, a::incrementAndGet);
        other.join(60_000);
        assertSame(null, err.get());
        for (int i = 0; i < n; i++) {
            assertEquals(200, a.get(i));
            assertEquals(200, b.get(i));
        }
    }

    /** Tasks that outlast the caller's: the caller and the workers park and are woken, nothing is lost. */
    @Test void longTasksParkAndWake() {
        long t0 = System.nanoTime();
        AtomicIntegerArray runs = new AtomicIntegerArray(4);
        for (int rep = 0; rep < 5; rep++)
            CpuThreads.parallelFor(4, i -> {
                runs.incrementAndGet(i);
                if (i > 0) LockSupportSleep.millis(3);
            });
        for (int i = 0; i < 4; i++) assertEquals(5, runs.get(i));
        // and after an idle gap, the parked workers take tasks again
        LockSupportSleep.millis(5);
        AtomicIntegerArray again = new AtomicIntegerArray(16);
        CpuThreads.parallelFor(16, again::incrementAndGet);
        for (int i = 0; i < 16; i++) assertEquals(1, again.get(i));
        assertTrue(System.nanoTime() - t0 < 30_000_000_000L);
    }

    private static final class LockSupportSleep {
        static void millis(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
