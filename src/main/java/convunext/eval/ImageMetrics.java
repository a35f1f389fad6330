package convunext.eval;

/** Metrics of one image: one {@link ClassMetrics} per class, index = class. */
public record ImageMetrics(String id, ClassMetrics[] classes) {
    /** Mean Dice over the foreground classes 1..K−1 (the usual headline number). */
    public double foregroundDice() {
        double s = 0;
        for (int c = 1; c < classes.length; c++) s += classes[c].dice();
        return classes.length > 1 ? s / (classes.length - 1) : classes[0].dice();
    }
}
