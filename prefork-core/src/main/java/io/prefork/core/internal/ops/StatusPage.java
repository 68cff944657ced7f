package io.prefork.core.internal.ops;

import static io.prefork.core.internal.ops.PageText.duration;
import static io.prefork.core.internal.ops.PageText.esc;
import static io.prefork.core.internal.ops.PageText.megabytes;

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

  /** A text resource next to this class, read once: the page's style and script. */
  private static String resource(String name) {
    try (var in = StatusPage.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name + " of " + StatusPage.class);
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

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
    PARKED('-', "parked", "a spare thread: its child accepts on it when the others are busy"),
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
        case IDLE, BUSY, STARTING, PARKED ->
            w.exitRequest() != ExitRequest.NONE
                ? FINISHING
                : switch (w.state()) {
                  case IDLE -> IDLE;
                  case BUSY -> BUSY;
                  case PARKED -> PARKED;
                  default -> STARTING;
                };
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
    long parked = s.count(SlotState.PARKED);
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
            + parked
            + " parked · "
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
        "pid "
            + s.masterPid()
            + " · heartbeat "
            + s.heartbeatAgeMillis()
            + " ms ago"
            + (s.masterRssBytes() > 0
                ? " · RSS "
                    + megabytes(s.masterRssBytes())
                    + ", children "
                    + megabytes(s.childrenRssBytes())
                : ""));
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
    Sparkline.draw(
        b,
        "spark-calls",
        "calls/s",
        history,
        historySeconds,
        s.takenAtMillis(),
        Math.max(1, Sparkline.niceCeiling(maxRate)),
        StatusHistory.Sample::callsPerSecond,
        "rate");
    Sparkline.draw(
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

  private static String stateClass(MasterState state) {
    return switch (state) {
      case RUNNING -> "ok";
      case STARTING, RESTARTING -> "info";
      case STOPPING -> "warn";
      default -> "bad";
    };
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

  private static final String STYLE = resource("status.css");

  /** Refreshes the page in place every 2 s; says so when the master stops answering. */
  private static final String SCRIPT = resource("status.js");
}
