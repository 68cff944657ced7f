package io.prefork.core.internal.ops;

import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.MasterState;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.SlotState;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The endpoint's {@code /status} page, rendered by the master from one status read: a scoreboard of
 * every worker slot (httpd's mod_status, php-fpm's status page), the pool's figures, sparklines of
 * the last minutes and a row per worker. Self-contained: inline CSS and script, nothing fetched
 * from elsewhere. Its script fetches the page again every 2 s and swaps the content in (a {@code
 * noscript} meta refresh does the same without scripts), and says when the master stops answering.
 *
 * <p>The DOM is part of what tests check: {@code #scoreboard[data-slots]} holds one {@code
 * .cell[data-slot][data-state]} per slot, {@code #legend} one {@code li[data-state]} per state.
 */
final class StatusPage {
  private StatusPage() {}

  /** The page's Content-Security-Policy: its own inline style and script, requests to itself. */
  static final String POLICY =
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src"
          + " 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  /**
   * A cell's state: a slot's state, with FINISHING for a worker asked to exit and OPEN for none.
   */
  enum Cell {
    IDLE('_', "idle", "waiting for a connection"),
    BUSY('B', "busy", "serving a connection"),
    STARTING('S', "starting", "child JVM starting, job opening"),
    FINISHING(
        'G',
        "finishing",
        "asked to exit (restart, recycling, retiring, stop): finishes"
            + " its connection, then leaves"),
    EXITING('X', "exiting", "stopped accepting, child leaving"),
    OPEN('.', "open", "open slot: no child"),
    UNKNOWN('?', "unknown", "unreadable state (corrupt slot)");

    final char letter;
    final String css;
    final String meaning;

    Cell(char letter, String css, String meaning) {
      this.letter = letter;
      this.css = css;
      this.meaning = meaning;
    }

    static Cell of(WorkerStatus w) {
      if (w == null) {
        return OPEN;
      }
      return switch (w.state()) {
        case IDLE, BUSY, STARTING ->
            w.exitRequest() != ExitRequest.NONE
                ? FINISHING
                : w.state() == SlotState.IDLE
                    ? IDLE
                    : w.state() == SlotState.BUSY ? BUSY : STARTING;
        case EXITING -> EXITING;
        case UNUSED -> OPEN;
        default -> UNKNOWN;
      };
    }
  }

  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT).withZone(ZoneId.systemDefault());

  /** The status page. */
  static String render(
      ServerStatus s,
      List<StatusHistory.Sample> history,
      int historySeconds,
      HttpEndpoint.Verdict health,
      HttpEndpoint.Verdict readiness,
      Collection<String> paths) {
    int slots = s.maxChildren() * s.threadsPerChild();
    Map<Integer, WorkerStatus> bySlot = new HashMap<>();
    for (WorkerStatus w : s.workers()) {
      bySlot.put(w.slot(), w);
    }
    Map<Cell, Integer> counts = new java.util.EnumMap<>(Cell.class);
    for (Cell c : Cell.values()) {
      counts.put(c, 0);
    }
    for (int slot = 0; slot < slots; slot++) {
      counts.merge(Cell.of(bySlot.get(slot)), 1, Integer::sum);
    }
    String key = ShmKeys.toHex(s.shmKey());
    StringBuilder b = new StringBuilder(8192 + 160 * slots);

    // Header: who, state, health, readiness.
    b.append("<header id=\"top\"><h1>prefork <span class=\"key\">")
        .append(esc(key))
        .append("</span></h1>");
    b.append("<span id=\"master-state\" class=\"badge ")
        .append(stateClass(s.masterState()))
        .append("\">")
        .append(s.masterState().name())
        .append("</span>");
    badge(b, "health", health.ok(), health.ok() ? "healthy" : "unhealthy", health.why());
    badge(b, "ready", readiness.ok(), readiness.ok() ? "ready" : "not ready", readiness.why());
    b.append("<span class=\"where\">")
        .append(esc(StatusJson.listen(s)))
        .append(" · master pid ")
        .append(s.masterPid())
        .append(" · up ")
        .append(duration(s.uptimeMillis()))
        .append("</span></header>");
    if (s.spawnBackoffUntilMillis() > s.takenAtMillis()) {
      b.append("<p class=\"alert\" id=\"backoff\">Crash loop: children die soon after their start;")
          .append(" next spawn in ")
          .append(duration(s.spawnBackoffUntilMillis() - s.takenAtMillis()))
          .append(". See the master's log.</p>");
    }

    // Figures.
    long idle = s.count(SlotState.IDLE);
    long busy = s.count(SlotState.BUSY);
    long starting = s.count(SlotState.STARTING);
    long exiting = s.count(SlotState.EXITING);
    int used = s.workers().size();
    b.append("<section class=\"cards\" id=\"figures\">");
    card(
        b,
        "workers",
        "Workers",
        busy + "<small> busy of " + used + "</small>",
        bar(used == 0 ? 0 : (double) busy / used, busy == used && used > 0 ? "hot" : "")
            + idle
            + " idle · "
            + starting
            + " starting · "
            + exiting
            + " exiting");
    card(
        b,
        "children",
        "Children",
        s.children() + "<small> of " + s.minChildren() + ".." + s.maxChildren() + "</small>",
        s.threadsPerChild()
            + (s.threadsPerChild() == 1 ? " thread" : " threads")
            + " per child · "
            + slots
            + " slots");
    card(
        b,
        "calls",
        "Calls",
        String.format(Locale.ROOT, "%.1f<small>/s</small>", s.callsPerSecond()),
        s.totalCalls() + " total");
    int queue = s.listenQueue();
    int backlog = s.listenBacklog();
    card(
        b,
        "queue",
        "Listen queue",
        queue + "<small> / " + backlog + "</small>",
        bar(backlog == 0 ? 0 : (double) queue / backlog, queue > 0 ? "hot" : "")
            + (queue > 0 ? "clients waiting: every worker busy" : "waiting / backlog"));
    card(
        b,
        "lifecycle",
        "Lifecycle",
        "gen " + s.generation(),
        s.spawns()
            + " spawned · <span"
            + (s.crashes() > 0 ? " class=\"bad\"" : "")
            + ">"
            + s.crashes()
            + " crashed</span> · "
            + s.restarts()
            + " restarts");
    card(
        b,
        "master",
        "Master",
        duration(s.uptimeMillis()) + "<small> up</small>",
        "pid " + s.masterPid() + " · heartbeat " + s.heartbeatAgeMillis() + " ms ago");
    b.append("</section>");

    // Scoreboard, grouped by child.
    b.append("<section><h2>Scoreboard</h2>");
    b.append("<div id=\"scoreboard\" data-slots=\"").append(slots).append("\">");
    int threads = s.threadsPerChild();
    for (int child = 0; child < s.maxChildren(); child++) {
      WorkerStatus first = bySlot.get(child * threads);
      b.append("<div class=\"child\" data-index=\"").append(child).append("\" title=\"child ");
      b.append(child);
      if (first != null && first.pid() > 0) {
        b.append(" · pid ").append(first.pid()).append(" · generation ").append(first.generation());
      } else {
        b.append(" · not running");
      }
      b.append("\"><div class=\"cells\">");
      for (int t = 0; t < threads; t++) {
        int slot = child * threads + t;
        WorkerStatus w = bySlot.get(slot);
        Cell c = Cell.of(w);
        b.append("<span class=\"cell c-")
            .append(c.css)
            .append("\" data-slot=\"")
            .append(slot)
            .append("\" data-state=\"")
            .append(c.name())
            .append("\" title=\"")
            .append(esc(cellTitle(slot, w, c)))
            .append("\">")
            .append(c.letter)
            .append("</span>");
      }
      b.append("</div>");
      if (threads >= 3) {
        // Room under the group for its child: the pid, or that the index is free.
        b.append("<small>")
            .append(first != null && first.pid() > 0 ? "pid " + first.pid() : "free")
            .append("</small>");
      }
      b.append("</div>");
    }
    b.append("</div>");
    b.append("<ul id=\"legend\">");
    for (Cell c : Cell.values()) {
      if (c == Cell.UNKNOWN && counts.get(c) == 0) {
        continue;
      }
      b.append("<li data-state=\"")
          .append(c.name())
          .append("\"><span class=\"cell c-")
          .append(c.css)
          .append("\">")
          .append(c.letter)
          .append("</span> <b>")
          .append(c.css)
          .append("</b> <span class=\"n\">")
          .append(counts.get(c))
          .append("</span> <span class=\"meaning\">")
          .append(esc(c.meaning))
          .append("</span></li>");
    }
    b.append("</ul></section>");

    // History.
    b.append("<section id=\"history\"><h2>Last ")
        .append(historySeconds / 60)
        .append(" minutes</h2><div class=\"sparks\">");
    double maxRate = 0;
    for (StatusHistory.Sample h : history) {
      maxRate = Math.max(maxRate, h.callsPerSecond());
    }
    spark(
        b,
        "spark-calls",
        "calls/s",
        history,
        historySeconds,
        s.takenAtMillis(),
        Math.max(1, niceCeiling(maxRate)),
        StatusHistory.Sample::callsPerSecond,
        "rate");
    spark(
        b,
        "spark-busy",
        "busy workers (peak per second), of " + slots + " slots",
        history,
        historySeconds,
        s.takenAtMillis(),
        Math.max(1, slots),
        h -> h.busyPeak(),
        "busy");
    b.append("</div></section>");

    // One row per worker.
    b.append("<section><h2>Workers</h2><table id=\"workers\"><thead><tr>")
        .append("<th>slot</th><th>child</th><th>pid</th><th>gen</th><th>state</th>")
        .append("<th>calls</th><th>in state</th><th>age</th><th>exit request</th>")
        .append("</tr></thead><tbody>");
    for (WorkerStatus w : s.workers()) {
      Cell c = Cell.of(w);
      b.append("<tr><td>")
          .append(w.slot())
          .append("</td><td>")
          .append(w.slot() / threads)
          .append("</td><td>")
          .append(w.pid())
          .append("</td><td>")
          .append(w.generation())
          .append("</td><td><span class=\"cell c-")
          .append(c.css)
          .append(" small\">")
          .append(c.letter)
          .append("</span> ")
          .append(w.state().name())
          .append("</td><td>")
          .append(w.calls())
          .append("</td><td>")
          .append(duration(w.millisInState()))
          .append("</td><td>")
          .append(duration(w.ageMillis()))
          .append("</td><td>")
          .append(w.exitRequest() == ExitRequest.NONE ? "" : w.exitRequest().name())
          .append("</td></tr>");
    }
    if (s.workers().isEmpty()) {
      b.append("<tr><td colspan=\"9\" class=\"none\">no worker in use</td></tr>");
    }
    b.append("</tbody></table></section>");

    footer(b, s.takenAtMillis(), paths);
    return shell("prefork " + key + " · " + s.masterState().name(), b.toString(), true);
  }

  /** The page while there is no status to show: starting, or stopped. */
  static String unavailable(String why) {
    StringBuilder b = new StringBuilder();
    b.append("<header id=\"top\"><h1>prefork</h1><span id=\"master-state\" class=\"badge warn\">")
        .append(esc(why))
        .append("</span></header><p class=\"none\">No status to show: ")
        .append(esc(why))
        .append(". This page refreshes itself.</p>");
    return shell("prefork · " + why, b.toString(), true);
  }

  /** The index of the endpoint's paths. */
  static String index(Map<String, String> paths) {
    StringBuilder b = new StringBuilder("<header id=\"top\"><h1>prefork</h1></header><ul>");
    paths.forEach(
        (path, what) ->
            b.append("<li><a href=\"")
                .append(esc(path.substring(1)))
                .append("\">")
                .append(esc(path))
                .append("</a> ")
                .append(esc(what))
                .append("</li>"));
    return shell("prefork", b.append("</ul>").toString(), false);
  }

  private static void footer(StringBuilder b, long atMillis, Collection<String> paths) {
    b.append("<footer>Read from the status table at <time>")
        .append(CLOCK.format(Instant.ofEpochMilli(atMillis)))
        .append("</time> ·");
    for (String path : paths) {
      b.append(" <a href=\"")
          .append(esc(path.substring(1)))
          .append("\">")
          .append(esc(path))
          .append("</a>");
    }
    b.append("</footer>");
  }

  private static void badge(StringBuilder b, String id, boolean ok, String text, String why) {
    b.append("<span id=\"")
        .append(id)
        .append("\" class=\"badge ")
        .append(ok ? "ok" : "bad")
        .append("\" title=\"")
        .append(esc(why))
        .append("\">")
        .append(text)
        .append("</span>");
  }

  private static void card(StringBuilder b, String id, String title, String value, String note) {
    b.append("<div class=\"card\" id=\"card-")
        .append(id)
        .append("\"><h3>")
        .append(title)
        .append("</h3><div class=\"value\">")
        .append(value)
        .append("</div><div class=\"note\">")
        .append(note)
        .append("</div></div>");
  }

  private static String bar(double fraction, String css) {
    double f = Math.max(0, Math.min(1, fraction));
    return String.format(
        Locale.ROOT, "<div class=\"bar %s\"><i style=\"width:%.1f%%\"></i></div>", css, f * 100);
  }

  private static String cellTitle(int slot, WorkerStatus w, Cell c) {
    if (w == null) {
      return "slot " + slot + ": open";
    }
    return "slot "
        + slot
        + " · pid "
        + w.pid()
        + " · generation "
        + w.generation()
        + " · "
        + w.state()
        + (c == Cell.FINISHING ? " (asked to exit: " + w.exitRequest() + ")" : "")
        + " for "
        + duration(w.millisInState())
        + " · "
        + w.calls()
        + " calls";
  }

  /** A sparkline of one figure over the history's window, time running left to right. */
  private static void spark(
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
        .append(esc(label));
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
        .append(esc(label))
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

  private static String stateClass(MasterState state) {
    return switch (state) {
      case RUNNING -> "ok";
      case STARTING, RESTARTING -> "info";
      case STOPPING -> "warn";
      default -> "bad";
    };
  }

  /** A short duration for people, as {@code ctl status} prints it: 0.3s, 12.5s, 3m05s, 2h07m. */
  static String duration(long millis) {
    long seconds = millis / 1_000;
    if (seconds < 60) {
      return String.format(Locale.ROOT, "%.1fs", millis / 1_000.0);
    }
    if (seconds < 3_600) {
      return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
    }
    if (seconds < 86_400) {
      return String.format(Locale.ROOT, "%dh%02dm", seconds / 3_600, seconds % 3_600 / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", seconds / 86_400, seconds % 86_400 / 3_600);
  }

  /** HTML text and attribute escaping. */
  static String esc(String s) {
    StringBuilder b = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  /** The document around a page's body; {@code live}: refreshed every 2 s. */
  private static String shell(String title, String body, boolean live) {
    return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        + "<title>"
        + esc(title)
        + "</title>"
        + (live ? "<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>" : "")
        + "<style>"
        + STYLE
        + "</style></head><body>"
        + (live
            ? "<div id=\"live\" aria-live=\"polite\"><span class=\"dot\"></span> <span"
                + " id=\"live-text\">live · every 2 s</span> <button id=\"pause\""
                + " type=\"button\">pause</button></div>"
            : "")
        + "<div id=\"page\">"
        + body
        + "</div>"
        + (live ? SCRIPT : "")
        + "</body></html>\n";
  }

  private static final String STYLE =
      """
      :root{--bg:#f6f7f9;--fg:#1d2330;--muted:#667085;--card:#fff;--line:#e3e6eb;\
      --idle:#d6f2d9;--idle-fg:#1b5e20;--busy:#ffb74d;--busy-fg:#4a2800;\
      --starting:#bcdcfb;--starting-fg:#0b3f86;--finishing:#e5c8f0;--finishing-fg:#4a148c;\
      --exiting:#f4a3a3;--exiting-fg:#7a0000;--ok:#2e7d32;--bad:#c62828;--warn:#ef6c00;\
      --info:#1565c0}
      @media (prefers-color-scheme:dark){:root{--bg:#11151c;--fg:#e6e9ef;--muted:#98a2b3;\
      --card:#1a202b;--line:#2a3140;--idle:#1f4d2a;--idle-fg:#b9f0c0;--busy:#b86e00;\
      --busy-fg:#fff3e0;--starting:#1d4778;--starting-fg:#d6e9ff;--finishing:#55306a;\
      --finishing-fg:#f3dcff;--exiting:#7c2323;--exiting-fg:#ffdede}}
      *{box-sizing:border-box}
      body{margin:0;padding:16px 24px 32px;background:var(--bg);color:var(--fg);\
      font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
      header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 10px;margin:0 0 14px}
      h1{font-size:20px;margin:0 8px 0 0;font-weight:650}
      h1 .key{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-weight:500;\
      color:var(--muted)}
      h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);\
      margin:22px 0 8px;font-weight:600}
      .where{color:var(--muted);margin-left:auto;font-family:ui-monospace,"DejaVu Sans Mono",\
      monospace;font-size:12.5px}
      .badge{display:inline-block;padding:2px 9px;border-radius:999px;font-size:12px;\
      font-weight:650;color:#fff;background:var(--muted)}
      .badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}\
      .badge.warn{background:var(--warn)}.badge.info{background:var(--info)}
      .alert{background:var(--bad);color:#fff;padding:8px 12px;border-radius:8px}
      .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(175px,1fr));gap:10px}
      .card{background:var(--card);border:1px solid var(--line);border-radius:10px;\
      padding:10px 14px}
      .card h3{margin:0;font-size:12px;color:var(--muted);font-weight:600;\
      text-transform:uppercase;letter-spacing:.05em}
      .card .value{font-size:26px;font-weight:650;margin:2px 0;\
      font-variant-numeric:tabular-nums}
      .card .value small{font-size:14px;font-weight:500;color:var(--muted)}
      .card .note{color:var(--muted);font-size:12.5px}
      .bad{color:var(--bad)}
      .bar{height:6px;border-radius:3px;background:var(--line);margin:4px 0 6px;overflow:hidden}
      .bar i{display:block;height:100%;background:var(--ok)}.bar.hot i{background:var(--warn)}
      #scoreboard{display:flex;flex-wrap:wrap;gap:6px;background:var(--card);\
      border:1px solid var(--line);border-radius:10px;padding:10px}
      .child{display:flex;flex-direction:column;align-items:center;padding:3px;\
      border-radius:6px;outline:1px solid var(--line)}
      .child .cells{display:flex;flex-wrap:wrap;gap:2px}
      .child small{font-size:10px;color:var(--muted);margin-top:2px;\
      font-family:ui-monospace,"DejaVu Sans Mono",monospace}
      .cell{display:inline-flex;align-items:center;justify-content:center;width:24px;\
      height:24px;border-radius:4px;font:600 13px/1 ui-monospace,"DejaVu Sans Mono",monospace;\
      border:1px solid transparent;vertical-align:middle}
      .cell.small{width:18px;height:18px;font-size:11px}
      .c-idle{background:var(--idle);color:var(--idle-fg)}
      .c-busy{background:var(--busy);color:var(--busy-fg)}
      .c-starting{background:var(--starting);color:var(--starting-fg)}
      .c-finishing{background:var(--finishing);color:var(--finishing-fg)}
      .c-exiting{background:var(--exiting);color:var(--exiting-fg)}
      .c-open{background:transparent;color:var(--muted);border:1px dashed var(--line)}
      .c-unknown{background:#333;color:#fff}
      #legend{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:4px 16px;\
      color:var(--muted);font-size:12.5px}
      #legend b{color:var(--fg);font-weight:600}
      #legend .n{font-variant-numeric:tabular-nums;color:var(--fg)}
      .sparks{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:10px}
      .spark{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;\
      padding:8px 12px}
      .spark figcaption{font-size:12.5px;color:var(--muted);display:flex;gap:6px;\
      align-items:baseline}
      .spark .scale{margin-left:auto;font-size:11px}
      .spark figcaption b{color:var(--fg);font-size:15px}
      .spark svg{display:block;width:100%;height:64px;margin-top:4px}
      .spark .grid{stroke:var(--line);stroke-width:1;vector-effect:non-scaling-stroke}
      .spark .line{fill:none;stroke-width:1.6;vector-effect:non-scaling-stroke;\
      stroke-linejoin:round}
      .spark.rate .line{stroke:var(--info)}.spark.rate .area{fill:var(--info);opacity:.14}
      .spark.busy .line{stroke:var(--warn)}.spark.busy .area{fill:var(--warn);opacity:.16}
      .spark .wait{fill:var(--muted);font-size:12px}
      .axis{display:flex;justify-content:space-between;color:var(--muted);font-size:11px}
      table{border-collapse:collapse;width:100%;background:var(--card);\
      border:1px solid var(--line);border-radius:10px;overflow:hidden;\
      font-variant-numeric:tabular-nums}
      th,td{text-align:right;padding:4px 10px;border-bottom:1px solid var(--line);\
      white-space:nowrap}
      th{font-size:12px;color:var(--muted);font-weight:600;background:var(--bg)}
      td:nth-child(5),th:nth-child(5),td:last-child,th:last-child{text-align:left}
      tr:last-child td{border-bottom:0}
      .none{color:var(--muted);text-align:center}
      footer{margin-top:18px;color:var(--muted);font-size:12px}
      a{color:var(--info)}
      #live{position:fixed;top:10px;right:16px;font-size:12px;color:var(--muted);\
      background:var(--card);border:1px solid var(--line);border-radius:999px;\
      padding:2px 4px 2px 10px}
      #live .dot{display:inline-block;width:8px;height:8px;border-radius:50%;\
      background:var(--ok)}
      #live button{font:inherit;border:0;background:var(--bg);color:var(--fg);\
      border-radius:999px;padding:1px 8px;cursor:pointer}
      body.stale #live .dot{background:var(--bad)}body.stale #live{color:var(--bad)}
      body.stale #page{opacity:.55;filter:grayscale(.6)}
      body.paused #live .dot{background:var(--muted)}
      header{padding-right:220px}
      """;

  /** Refreshes the page in place every 2 s; says so when the master stops answering. */
  private static final String SCRIPT =
      """
      <script>
      (function () {
        var body = document.body, text = document.getElementById('live-text');
        var button = document.getElementById('pause');
        var paused = false, since = null, refreshes = 0;
        function clock(d) { return d.toTimeString().slice(0, 8); }
        function refresh() {
          if (paused) return;
          fetch(location.href, {cache: 'no-store'}).then(function (r) {
            return r.text();
          }).then(function (html) {
            var doc = new DOMParser().parseFromString(html, 'text/html');
            var fresh = doc.getElementById('page');
            if (!fresh) throw new Error('not a status page');
            document.getElementById('page').replaceWith(fresh);
            document.title = doc.title;
            refreshes++;
            document.documentElement.setAttribute('data-refreshes', String(refreshes));
            since = null;
            body.classList.remove('stale');
            text.textContent = 'live · updated ' + clock(new Date());
          }).catch(function () {
            if (!since) since = new Date();
            body.classList.add('stale');
            text.textContent = 'no answer since ' + clock(since);
          });
        }
        button.addEventListener('click', function () {
          paused = !paused;
          body.classList.toggle('paused', paused);
          button.textContent = paused ? 'resume' : 'pause';
          text.textContent = paused ? 'paused' : 'live · every 2 s';
          if (!paused) refresh();
        });
        setInterval(refresh, 2000);
      })();
      </script>""";
}
