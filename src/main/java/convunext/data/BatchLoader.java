package convunext.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs a batch iterator on a daemon thread, a few batches ahead through a bounded queue, so
 * decoding and augmentation overlap compute. The batches are exactly those of the wrapped
 * iterator, in order. An exception in the producer is rethrown by the consumer's
 * {@link #hasNext}/{@link #next} (a {@link RuntimeException} as is, anything else wrapped in a
 * {@link DataException}). {@link #close} stops the thread; use try-with-resources.
 */
public final class BatchLoader implements Iterator<Batch>, AutoCloseable {
    private static final Object END = new Object();

    private record Failure(Throwable error) {}

    private final BlockingQueue<Object> queue;
    private final Thread thread;
    private volatile boolean closed;
    private Object head; // taken from the queue, not yet returned
    private boolean finished;

    public BatchLoader(Iterator<Batch> source, int prefetch) {
        if (prefetch < 1) throw new IllegalArgumentException("BatchLoader: prefetch must be >= 1, got " + prefetch);
        queue = new ArrayBlockingQueue<>(prefetch);
        thread = new Thread(() -> produce(source), "batch-loader");
        thread.setDaemon(true);
        thread.start();
    }

    private void produce(Iterator<Batch> source) {
        try {
            while (!closed && source.hasNext()) {
                Batch b = source.next();
                queue.put(b);
            }
            if (!closed) queue.put(END);
        } catch (InterruptedException e) {
            // closed by the consumer: nothing more to deliver
        } catch (Throwable t) {
            try {
                if (!closed) queue.put(new Failure(t));
            } catch (InterruptedException ignored) {
                // closed meanwhile
            }
        }
    }

    @Override public boolean hasNext() {
        if (closed) return false;
        if (head == null && !finished) {
            try {
                head = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DataException("interrupted while waiting for the next batch", e);
            }
            if (head == END) { finished = true; head = null; }
            else if (head instanceof Failure f) {
                finished = true;
                head = null;
                Throwable t = f.error();
                if (t instanceof RuntimeException re) throw re;
                if (t instanceof Error er) throw er;
                throw new DataException("batch loading failed: " + t, t);
            }
        }
        return head != null;
    }

    @Override public Batch next() {
        if (!hasNext()) throw new NoSuchElementException();
        Batch b = (Batch) head;
        head = null;
        return b;
    }

    /** Stops the producer and waits (briefly) for its thread to end. Idempotent. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        thread.interrupt();
        queue.clear();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the producer thread has ended (for tests). */
    public boolean producerAlive() { return thread.isAlive(); }
}
