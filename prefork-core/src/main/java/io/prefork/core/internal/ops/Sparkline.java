package io.prefork.core.internal.ops;

import java.util.List;
import java.util.Locale;

/** The status page's sparklines: one figure of the history as a small inline SVG. */
final class Sparkline {
  private Sparkline() {}

  /** A sparkline of one figure over the history's window, time running left to right. */
  static void draw(
      StringBuilder b,
      String id,
      String label,
      List<StatusHistory.Sample> history,
      int windowSeconds,
      long nowMillis,
      double max,
      java.util.function.ToDoubleFunction<StatusHistory.Sample> value,
      String css) {
    final int w = 600;
    final int h = 64;
    b.append("<figure class=\"spark ")
        .append(css)
        .append("\" id=\"")
        .append(id)
        .append("\" data-samples=\"")
        .append(history.size())
        .append("\"><figcaption>")
        .append(PageText.esc(label));
    if (!history.isEmpty()) {
      b.append(" <b>")
          .append(number(value.applyAsDouble(history.get(history.size() - 1))))
          .append("</b> now");
    }
    b.append("<span class=\"scale\">scale 0–").append(number(max)).append("</span>");
    b.append("</figcaption><svg viewBox=\"0 0 ")
        .append(w)
        .append(' ')
        .append(h)
        .append("\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"")
        .append(PageText.esc(label))
        .append("\">");
    for (int i = 1; i <= 3; i++) {
      b.append("<line class=\"grid\" x1=\"0\" x2=\"")
          .append(w)
          .append("\" y1=\"")
          .append(h * i / 4)
          .append("\" y2=\"")
          .append(h * i / 4)
          .append("\"/>");
    }
    if (history.size() >= 2) {
      StringBuilder points = new StringBuilder();
      double firstX = -1;
      double lastX = 0;
      for (StatusHistory.Sample sample : history) {
        double age = (nowMillis - sample.atMillis()) / 1000.0;
        double x = w - age / windowSeconds * w;
        if (x < 0) {
          continue;
        }
        double y = h - 1 - Math.min(1, value.applyAsDouble(sample) / max) * (h - 2);
        if (firstX < 0) {
          firstX = x;
        }
        lastX = x;
        points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
      }
      if (firstX >= 0) {
        b.append(
            String.format(
                Locale.ROOT,
                "<polygon class=\"area\" points=\"%.1f,%d %s%.1f,%d\"/>",
                firstX,
                h,
                points,
                lastX,
                h));
        b.append("<polyline class=\"line\" points=\"").append(points).append("\"/>");
      }
    } else {
      b.append("<text x=\"8\" y=\"")
          .append(h / 2 + 4)
          .append("\" class=\"wait\">collecting: one sample a second</text>");
    }
    b.append("</svg><div class=\"axis\"><span>-")
        .append(number(windowSeconds / 60.0))
        .append(" min</span><span>-")
        .append(number(windowSeconds / 120.0))
        .append(" min</span><span>now</span></div></figure>");
  }

  /** 1, 2, 5 x 10^n at or above {@code v}. */
  static double niceCeiling(double v) {
    if (v <= 0) {
      return 0;
    }
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 5, 10}) {
      if (m * p >= v) {
        return m * p;
      }
    }
    return 10 * p;
  }

  /** A number for people: 3, 2.5, 6.74, 12.3 (no trailing zeros). */
  static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    String text = String.format(Locale.ROOT, Math.abs(v) < 10 ? "%.2f" : "%.1f", v);
    return text.replaceAll("0+$", "").replaceAll("\\.$", "");
  }
}
