package convunext.eval;

import convunext.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Plots a training log as a PNG with Java2D on an off-screen image (headless): losses (columns
 * ending in "loss") on the left axis, scores (columns containing "dice" or "iou") on a right axis
 * fixed to 0..1, epochs along x, with ticks, grid, axis titles and a legend.
 */
public final class TrainingCurves {
    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private TrainingCurves() {}

    public static final int WIDTH = 900, HEIGHT = 520;
    private static final int LEFT = 80, RIGHT = 80, TOP = 50, BOTTOM = 60;
    /** Series colours, in column order (losses first, then scores). */
    public static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14),
            new Color(44, 160, 44), new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75)};

    private record Series(String name, double[] y, boolean right, Color color) {}

    public static void plot(Path png, TrainingLog.Table table, String title) {
        BufferedImage im = render(table, title);
        AtomicFiles.write(png, out -> {
            if (!ImageIO.write(im, "png", out)) throw new IOException("no PNG writer available");
        });
    }

    /** Reads a metrics.csv and plots it. */
    public static void plot(Path csv, Path png, String title) { plot(png, TrainingLog.readTable(csv), title); }

    public static BufferedImage render(TrainingLog.Table t, String title) {
        int n = t.rows().size();
        double[] x = t.series("epoch");
        if (x == null) {
            x = new double[n];
            for (int i = 0; i < n; i++) x[i] = i + 1;
        }
        List<Series> series = new ArrayList<>();
        int k = 0;
        for (String c : t.columns())
            if (c.endsWith("loss")) series.add(new Series(c, t.series(c), false, COLORS[k++ % COLORS.length]));
        for (String c : t.columns())
            if (c.contains("dice") || c.contains("iou")) series.add(new Series(c, t.series(c), true, COLORS[k++ % COLORS.length]));

        double xMin = min(x), xMax = max(x);
        if (!(xMax > xMin)) { xMin = Double.isFinite(xMin) ? xMin - 1 : 0; xMax = xMin + 2; }
        double lMax = 0;
        for (Series s : series) if (!s.right) lMax = Math.max(lMax, max(s.y));
        if (!(lMax > 0)) lMax = 1;
        double[] lTicks = ticks(0, lMax * 1.05);
        double lTop = lTicks[lTicks.length - 1];
        double[] xTicks = ticks(xMin, xMax);

        BufferedImage im = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = im.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            int pw = WIDTH - LEFT - RIGHT, ph = HEIGHT - TOP - BOTTOM;
            final double fxMin = xMin, fxMax = xMax;
            java.util.function.DoubleUnaryOperator px = v -> LEFT + (v - fxMin) / (fxMax - fxMin) * pw;
            java.util.function.DoubleUnaryOperator pyL = v -> TOP + ph - v / lTop * ph;
            java.util.function.DoubleUnaryOperator pyR = v -> TOP + ph - v * ph;
            // grid
            g.setColor(new Color(230, 230, 230));
            for (double v : lTicks) g.drawLine(LEFT, (int) pyL.applyAsDouble(v), LEFT + pw, (int) pyL.applyAsDouble(v));
            for (double v : xTicks) if (v >= xMin && v <= xMax) g.drawLine((int) px.applyAsDouble(v), TOP, (int) px.applyAsDouble(v), TOP + ph);
            // series
            g.setStroke(new BasicStroke(2f));
            for (Series s : series) {
                g.setColor(s.color);
                Path2D.Double path = new Path2D.Double();
                boolean pen = false;
                for (int i = 0; i < n; i++) {
                    // epochs without a value (validation every k epochs) are skipped, the line joins across
                    if (!Double.isFinite(s.y[i]) || !Double.isFinite(x[i])) continue;
                    double xx = px.applyAsDouble(x[i]);
                    double yy = s.right ? pyR.applyAsDouble(s.y[i]) : pyL.applyAsDouble(s.y[i]);
                    if (pen) path.lineTo(xx, yy); else path.moveTo(xx, yy);
                    pen = true;
                    g.fillOval((int) xx - 3, (int) yy - 3, 7, 7);
                }
                g.draw(path);
            }
            // axes
            g.setStroke(new BasicStroke(1f));
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, pw, ph);
            for (double v : lTicks) g.drawLine(LEFT - 5, (int) pyL.applyAsDouble(v), LEFT, (int) pyL.applyAsDouble(v));
            for (int i = 0; i <= 5; i++) g.drawLine(LEFT + pw, (int) pyR.applyAsDouble(i / 5.0), LEFT + pw + 5, (int) pyR.applyAsDouble(i / 5.0));
            for (double v : xTicks) if (v >= xMin && v <= xMax) g.drawLine((int) px.applyAsDouble(v), TOP + ph, (int) px.applyAsDouble(v), TOP + ph + 5);
            text(g, series, title, lTicks, xTicks, xMin, xMax, px, pyL, pyR, pw, ph);
        } finally {
            g.dispose();
        }
        return im;
    }

    // Labels need a font; a JRE without any fonts throws from the font system, and the curves
    // are still worth having, so text is skipped then.
    private static void text(Graphics2D g, List<Series> series, String title, double[] lTicks, double[] xTicks,
                             double xMin, double xMax, java.util.function.DoubleUnaryOperator px,
                             java.util.function.DoubleUnaryOperator pyL, java.util.function.DoubleUnaryOperator pyR,
                             int pw, int ph) {
        try {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            FontMetrics fm = g.getFontMetrics();
            g.setColor(Color.BLACK);
            for (double v : lTicks) {
                String s = label(v);
                g.drawString(s, LEFT - 8 - fm.stringWidth(s), (int) pyL.applyAsDouble(v) + fm.getAscent() / 2 - 1);
            }
            for (int i = 0; i <= 5; i++) {
                String s = label(i / 5.0);
                g.drawString(s, LEFT + pw + 8, (int) pyR.applyAsDouble(i / 5.0) + fm.getAscent() / 2 - 1);
            }
            for (double v : xTicks) {
                if (v < xMin || v > xMax) continue;
                String s = label(v);
                g.drawString(s, (int) px.applyAsDouble(v) - fm.stringWidth(s) / 2, TOP + ph + 8 + fm.getAscent());
            }
            g.drawString("epoch", LEFT + pw / 2 - fm.stringWidth("epoch") / 2, HEIGHT - 12);
            Graphics2D r = (Graphics2D) g.create();
            r.rotate(-Math.PI / 2);
            r.drawString("loss", -(TOP + ph / 2) - fm.stringWidth("loss") / 2, 20);
            r.drawString("Dice / IoU", -(TOP + ph / 2) - fm.stringWidth("Dice / IoU") / 2, WIDTH - 12);
            r.dispose();
            if (title != null && !title.isEmpty()) {
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
                g.drawString(title, LEFT, TOP - 16);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            }
            // legend, top right inside the plot
            int lw = 0;
            for (Series s : series) lw = Math.max(lw, fm.stringWidth(s.name + (s.right ? " (right)" : "")));
            int bx = LEFT + pw - lw - 50, by = TOP + 10, lh = fm.getHeight() + 2;
            g.setColor(new Color(255, 255, 255, 220));
            g.fillRect(bx, by, lw + 40, lh * series.size() + 8);
            g.setColor(Color.GRAY);
            g.drawRect(bx, by, lw + 40, lh * series.size() + 8);
            for (int i = 0; i < series.size(); i++) {
                Series s = series.get(i);
                int yy = by + 4 + lh * i + lh / 2;
                g.setColor(s.color);
                g.setStroke(new BasicStroke(2f));
                g.drawLine(bx + 6, yy, bx + 28, yy);
                g.setColor(Color.BLACK);
                g.drawString(s.name + (s.right ? " (right)" : ""), bx + 34, yy + fm.getAscent() / 2 - 1);
            }
        } catch (Error | RuntimeException noFonts) {
            // no usable font in this JRE: keep the image without labels
        }
    }

    static String label(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
        String s = String.format(Locale.ROOT, "%.3g", v);
        return s.contains("e") || !s.contains(".") ? s : s.replaceFirst("\\.?0+$", "");
    }

    /** "Nice" tick values (steps of 1, 2 or 5 × 10^k) covering [lo, hi], about 5 of them. */
    static double[] ticks(double lo, double hi) {
        double span = hi - lo;
        if (!(span > 0)) return new double[] {lo};
        double raw = span / 5, mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        double start = Math.floor(lo / step) * step, end = Math.ceil(hi / step - 1e-9) * step;
        int count = (int) Math.round((end - start) / step) + 1;
        double[] t = new double[count];
        for (int i = 0; i < count; i++) t[i] = start + i * step;
        return t;
    }

    private static double min(double[] a) {
        double m = Double.POSITIVE_INFINITY;
        for (double v : a) if (Double.isFinite(v)) m = Math.min(m, v);
        return m;
    }

    private static double max(double[] a) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : a) if (Double.isFinite(v)) m = Math.max(m, v);
        return m;
    }
}
