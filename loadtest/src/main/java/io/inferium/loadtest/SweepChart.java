package io.inferium.loadtest;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/**
 * A concurrency sweep drawn with Java2D: throughput (top; log scale when the ceiling line is far
 * above it) and p99 latency (bottom, log scale) against concurrency (log 2 scale), one line per
 * series, and an optional ceiling line.
 */
public final class SweepChart {

  /** One line: closed-loop results ordered by concurrency. */
  public record Series(String name, List<LoadResult> points) {}

  private static final int W = 960;
  private static final int PANEL_H = 330;
  private static final int LEFT = 90;
  private static final int RIGHT = 230;
  private static final int TOP = 50;
  private static final int GAP = 60;
  private static final Color[] COLORS = {
      new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd),
      new Color(0x8c564b)};

  private SweepChart() {}

  public static void write(Path png, String title, List<Series> series, double ceilingPerSecond) throws IOException {
    BufferedImage img = new BufferedImage(W, TOP + 2 * PANEL_H + GAP + 50, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
      g.drawString(title, LEFT, 28);
      int[] xs = concurrencies(series);
      double served = max(series, LoadResult::throughput);
      if (ceilingPerSecond > 5 * served) {
        // A ceiling far above the served rates would flatten them on a linear axis.
        double lo = Math.pow(10, Math.floor(Math.log10(Math.max(1, min(series, LoadResult::throughput)))));
        double hi = Math.pow(10, Math.ceil(Math.log10(ceilingPerSecond)));
        panel(g, TOP, "throughput (ok/s, log)", xs, series, LoadResult::throughput, lo, hi, true, ceilingPerSecond);
      } else {
        double maxTput = Math.max(ceilingPerSecond, served) * 1.1;
        panel(g, TOP, "throughput (ok/s)", xs, series, LoadResult::throughput, 0, Math.max(1, maxTput), false,
            ceilingPerSecond);
      }
      double maxP99 = Math.max(1, max(series, r -> r.latencyMs(99)));
      double minP99 = Math.max(0.01, min(series, r -> r.latencyMs(99)));
      panel(g, TOP + PANEL_H + GAP, "p99 latency (ms, log)", xs, series, r -> r.latencyMs(99),
          Math.pow(10, Math.floor(Math.log10(minP99))), Math.pow(10, Math.ceil(Math.log10(maxP99))), true, 0);
      legend(g, series, ceilingPerSecond > 0);
    } finally {
      g.dispose();
    }
    ImageIO.write(img, "png", png.toFile());
  }

  private static void panel(Graphics2D g, int top, String yLabel, int[] xs, List<Series> series,
      ToDoubleFunction<LoadResult> value, double lo, double hi, boolean log, double ceiling) {
    int plotW = W - LEFT - RIGHT;
    int bottom = top + PANEL_H - 40;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, top, plotW, bottom - top);
    g.drawString(yLabel, LEFT, top - 8);
    // y grid
    g.setColor(new Color(0xdddddd));
    int ticks = log ? (int) Math.round(Math.log10(hi / lo)) : 5;
    for (int i = 0; i <= ticks; i++) {
      double v = log ? lo * Math.pow(10, i) : lo + (hi - lo) * i / ticks;
      int y = yOf(v, top, bottom, lo, hi, log);
      g.setColor(new Color(0xdddddd));
      g.drawLine(LEFT, y, LEFT + plotW, y);
      g.setColor(Color.BLACK);
      String label = v >= 100 ? String.format("%.0f", v) : v >= 1 ? String.format("%.1f", v) : String.format("%.2f", v);
      g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
    }
    // x ticks at each concurrency
    for (int x : xs) {
      int px = xOf(x, xs, plotW);
      g.setColor(new Color(0xeeeeee));
      g.drawLine(px, top, px, bottom);
      g.setColor(Color.BLACK);
      String label = Integer.toString(x);
      g.drawString(label, px - g.getFontMetrics().stringWidth(label) / 2, bottom + 16);
    }
    g.drawString("concurrency", LEFT + plotW / 2 - 30, bottom + 32);
    if (ceiling > 0) {
      Stroke old = g.getStroke();
      g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
      g.setColor(Color.DARK_GRAY);
      int y = yOf(ceiling, top, bottom, lo, hi, log);
      g.drawLine(LEFT, y, LEFT + plotW, y);
      g.setStroke(old);
    }
    for (int s = 0; s < series.size(); s++) {
      g.setColor(COLORS[s % COLORS.length]);
      g.setStroke(new BasicStroke(2f));
      int prevX = -1;
      int prevY = -1;
      for (LoadResult r : series.get(s).points()) {
        double v = value.applyAsDouble(r);
        if (Double.isNaN(v)) {
          continue;
        }
        int px = xOf(r.concurrency(), xs, plotW);
        int py = yOf(Math.max(lo, v), top, bottom, lo, hi, log);
        g.fillOval(px - 3, py - 3, 7, 7);
        if (prevX >= 0) {
          g.drawLine(prevX, prevY, px, py);
        }
        prevX = px;
        prevY = py;
      }
    }
    g.setStroke(new BasicStroke(1f));
  }

  private static void legend(Graphics2D g, List<Series> series, boolean ceiling) {
    int x = W - RIGHT + 20;
    int y = TOP + 10;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int s = 0; s < series.size(); s++) {
      g.setColor(COLORS[s % COLORS.length]);
      g.fillRect(x, y + 18 * s - 9, 14, 10);
      g.setColor(Color.BLACK);
      g.drawString(series.get(s).name(), x + 20, y + 18 * s);
    }
    if (ceiling) {
      g.setColor(Color.DARK_GRAY);
      int yy = y + 18 * series.size();
      g.drawLine(x, yy - 4, x + 14, yy - 4);
      g.setColor(Color.BLACK);
      g.drawString("ORT in-process ceiling", x + 20, yy);
    }
  }

  private static int[] concurrencies(List<Series> series) {
    return series.stream().flatMap(s -> s.points().stream()).mapToInt(LoadResult::concurrency).distinct().sorted().toArray();
  }

  private static int xOf(int concurrency, int[] xs, int plotW) {
    if (xs.length <= 1) {
      return LEFT + plotW / 2;
    }
    double lo = Math.log(xs[0]);
    double hi = Math.log(xs[xs.length - 1]);
    double f = hi == lo ? 0.5 : (Math.log(concurrency) - lo) / (hi - lo);
    return LEFT + 20 + (int) Math.round(f * (plotW - 40));
  }

  private static int yOf(double v, int top, int bottom, double lo, double hi, boolean log) {
    double f = log ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v - lo) / (hi - lo);
    f = Math.max(0, Math.min(1, f));
    return bottom - (int) Math.round(f * (bottom - top));
  }

  private static double max(List<Series> series, ToDoubleFunction<LoadResult> f) {
    return series.stream().flatMap(s -> s.points().stream()).mapToDouble(f).filter(v -> !Double.isNaN(v)).max().orElse(1);
  }

  private static double min(List<Series> series, ToDoubleFunction<LoadResult> f) {
    return series.stream().flatMap(s -> s.points().stream()).mapToDouble(f).filter(v -> !Double.isNaN(v)).min().orElse(1);
  }
}
