package convunext.train;

import java.io.PrintStream;

/**
 * The live progress line: epoch, step/total, loss, lr, images/s and ETA for the epoch. On a
 * terminal it rewrites one line; in a log (no console) it prints a line every ~10 s.
 */
final class Progress {
    private final PrintStream out;
    private final boolean tty = System.console() != null;
    private long epochStart = System.nanoTime(), lastPrint;
    private int images;
    private boolean open;

    Progress(PrintStream out) { this.out = out; }

    /** Starts the epoch's clock, before its first step (so images/s counts that step's time too). */
    void beginEpoch() {
        epochStart = System.nanoTime();
        lastPrint = epochStart;
        images = 0;
    }

    void step(int epoch, int epochs, int step, int steps, double loss, double lr, int batch) {
        images += batch;
        long now = System.nanoTime();
        double secs = (now - epochStart) / 1e9;
        double ips = images / Math.max(secs, 1e-9);
        double eta = secs / step * (steps - step);
        String line = String.format("epoch %d/%d  step %d/%d  loss %.4f  lr %.2e  %.2f img/s  ETA %s",
                epoch, epochs, step, steps, loss, lr, ips, fmt(eta));
        if (tty) {
            out.print("\r" + line + "   ");
            out.flush();
            open = true;
        } else if (now - lastPrint > 10e9 || step == steps) {
            out.println(line);
            lastPrint = now;
        }
    }

    void endEpoch() {
        if (open) { out.println(); open = false; }
    }

    static String fmt(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String.format("%d:%02d", t / 60, t % 60);
    }
}
