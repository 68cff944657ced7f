package io.prefork.bench.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The workload suite's report, from a run directory of {@code suite.sh}: {@code summary.md} (one
 * Markdown table, medians over the rounds, ratios against prefork, ready to paste into
 * docs/performance.md) and {@code workloads.svg} (grouped bars of req/s and p99 per workload and
 * peer; the burst and restart timelines, second by second, medians over the rounds). Reads {@code
 * results.tsv} (workload peer conns round req/s p50 p99 errors note), {@code timeline-*.tsv} of
 * {@link TimelineLoad}, and {@code build.txt} (key=value lines) if present. Draws the SVG by hand:
 * no library.
 *
 * <pre>java -cp benchmarks.jar io.prefork.bench.load.SuiteReport RUN_DIR</pre>
 */
public final class SuiteReport {
  private SuiteReport() {}

  static final List<String> PEER_ORDER =
      List.of("prefork", "c", "jdk", "vthreads", "netty", "nginx");

  static final Map<String, String> PEER_NAME =
      Map.of(
          "prefork", "prefork",
          "c", "C original",
          "jdk", "JDK thread pool",
          "vthreads", "JDK virtual threads",
          "netty", "Netty",
          "nginx", "nginx");

  static final Map<String, String> PEER_SHORT =
      Map.of(
          "prefork",
          "prefork",
          "c",
          "C",
          "jdk",
          "jdk",
          "vthreads",
          "vthr",
          "netty",
          "netty",
          "nginx",
          "nginx");

  // Okabe-Ito colours: told apart with the usual colour-vision deficiencies.
  static final Map<String, String> PEER_COLOR =
      Map.of(
          "prefork", "#D55E00",
          "c", "#0072B2",
          "jdk", "#009E73",
          "vthreads", "#CC79A7",
          "netty", "#56B4E9",
          "nginx", "#E69F00");

  static final List<String> WORKLOAD_ORDER =
      List.of("hello", "hello-ka", "wait", "cpu", "burst", "restart");

  static final Map<String, String> WORKLOAD_TITLE =
      Map.of(
          "hello", "hello, 1 request/conn",
          "hello-ka", "hello, keep-alive",
          "wait", "wait 10 ms, 1 req/conn",
          "cpu", "cpu ~0.2 ms, 1 req/conn",
          "burst", "burst of wait, mean",
          "restart", "cpu, across a restart");

  /** One line of results.tsv. */
  record Row(
      String workload,
      String peer,
      int conns,
      int round,
      double rps,
      double p50,
      double p99,
      long errors,
      Map<String, Double> note) {}

  /** The medians of one workload, connection count and peer. */
  record Cell(
      String workload,
      String peer,
      int conns,
      int rounds,
      double rps,
      double p50,
      double p99,
      long errors,
      Map<String, Double> note) {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: SuiteReport RUN_DIR");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    Map<String, String> build = readBuild(dir.resolve("build.txt"));
    List<Cell> cells = cells(readRows(dir.resolve("results.tsv")));
    String md = markdown(cells, build);
    Files.writeString(dir.resolve("summary.md"), md);
    System.out.print(md);
    Map<String, Map<String, Timeline>> timelines = new LinkedHashMap<>();
    for (String w : List.of("burst", "restart")) {
      timelines.put(w, readTimelines(dir, w));
    }
    Files.writeString(dir.resolve("workloads.svg"), svg(cells, timelines, build));
    System.out.println();
    System.out.println("chart: " + dir.resolve("workloads.svg"));
  }

  static Map<String, String> readBuild(Path file) throws IOException {
    Map<String, String> build = new LinkedHashMap<>();
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file)) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          build.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
        }
      }
    }
    return build;
  }

  static List<Row> readRows(Path file) throws IOException {
    List<Row> rows = new ArrayList<>();
    if (!Files.exists(file)) {
      return rows;
    }
    for (String line : Files.readAllLines(file)) {
      String[] f = line.split("\t", -1);
      if (f.length < 8 || line.startsWith("#")) {
        continue;
      }
      try {
        rows.add(
            new Row(
                f[0],
                f[1],
                Integer.parseInt(f[2]),
                Integer.parseInt(f[3]),
                number(f[4]),
                number(f[5]),
                number(f[6]),
                (long) number(f[7]),
                note(f.length > 8 ? f[8] : "-")));
      } catch (NumberFormatException e) {
        // a line cut by an interrupted run
      }
    }
    return rows;
  }

  private static double number(String s) {
    return s.isBlank() ? Double.NaN : Double.parseDouble(s.trim());
  }

  private static Map<String, Double> note(String s) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (String kv : s.split(",")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        try {
          m.put(kv.substring(0, eq), Double.parseDouble(kv.substring(eq + 1)));
        } catch (NumberFormatException e) {
          // not a number: left out
        }
      }
    }
    return m;
  }

  static List<Cell> cells(List<Row> rows) {
    Map<String, List<Row>> groups = new TreeMap<>();
    for (Row r : rows) {
      groups
          .computeIfAbsent(
              String.format(
                  Locale.ROOT,
                  "%d/%06d/%d/%s",
                  order(WORKLOAD_ORDER, r.workload()),
                  r.conns(),
                  order(PEER_ORDER, r.peer()),
                  r.workload() + "\t" + r.peer()),
              k -> new ArrayList<>())
          .add(r);
    }
    List<Cell> cells = new ArrayList<>();
    for (List<Row> g : groups.values()) {
      Row first = g.get(0);
      Map<String, Double> note = new LinkedHashMap<>();
      for (String key : first.note().keySet()) {
        note.put(key, median(g.stream().mapToDouble(r -> r.note().getOrDefault(key, Double.NaN))));
      }
      cells.add(
          new Cell(
              first.workload(),
              first.peer(),
              first.conns(),
              g.size(),
              median(g.stream().mapToDouble(Row::rps)),
              median(g.stream().mapToDouble(Row::p50)),
              median(g.stream().mapToDouble(Row::p99)),
              g.stream().mapToLong(Row::errors).sum(),
              note));
    }
    return cells;
  }

  private static int order(List<String> order, String s) {
    int i = order.indexOf(s);
    return i < 0 ? order.size() : i;
  }

  static double median(java.util.stream.DoubleStream values) {
    double[] v = values.filter(d -> !Double.isNaN(d)).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static Cell prefork(List<Cell> cells, Cell c) {
    for (Cell p : cells) {
      if (p.peer().equals("prefork")
          && p.workload().equals(c.workload())
          && p.conns() == c.conns()) {
        return p;
      }
    }
    return null;
  }

  static String markdown(List<Cell> cells, Map<String, String> build) {
    StringBuilder b = new StringBuilder();
    int rounds = cells.stream().mapToInt(Cell::rounds).max().orElse(0);
    b.append(
        String.format(
            Locale.ROOT,
            "Workload suite, %s (%s run, medians of %s round(s)), build %s; %s; %s; %s%n%n",
            build.getOrDefault("date", "?"),
            build.getOrDefault("mode", "?"),
            rounds,
            build.getOrDefault("build", "?"),
            build.getOrDefault("java", "?"),
            build.getOrDefault("java25", "?"),
            build.getOrDefault("host", "?")));
    String loads = loads(build, false);
    if (!loads.isEmpty()) {
      b.append("1-minute load average at the start of each workload (2 cores): ")
          .append(loads)
          .append("\n\n");
    }
    b.append(
        "| workload | peer | conns | req/s | p50 ms | p99 ms | errors | req/s vs prefork | p99 vs"
            + " prefork | notes |\n");
    b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (Cell c : cells) {
      Cell p = prefork(cells, c);
      String rr =
          p != null && p.rps() > 0 ? String.format(Locale.ROOT, "%.2f", c.rps() / p.rps()) : "-";
      String pr =
          p != null && p.p99() > 0 ? String.format(Locale.ROOT, "%.2f", c.p99() / p.p99()) : "-";
      boolean pf = c.peer().equals("prefork");
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %d | %s | %s | %s | %d | %s | %s | %s |%n",
              c.workload(),
              pf ? "**prefork**" : PEER_NAME.getOrDefault(c.peer(), c.peer()),
              c.conns(),
              grouped(c.rps()),
              decimals(c.p50()),
              decimals(c.p99()),
              c.errors(),
              rr,
              pr,
              notes(c)));
    }
    return b.toString();
  }

  /**
   * The load averages suite.sh wrote (load_WORKLOAD=N), as "hello 3.2, wait 9.1, end 4.0", or with
   * {@code range} as "3.2-9.1"; empty if none.
   */
  static String loads(Map<String, String> build, boolean range) {
    List<String> parts = new ArrayList<>();
    double lo = Double.MAX_VALUE;
    double hi = 0;
    for (var e : build.entrySet()) {
      if (e.getKey().startsWith("load_")) {
        parts.add(e.getKey().substring(5) + " " + e.getValue());
        try {
          double v = Double.parseDouble(e.getValue());
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        } catch (NumberFormatException x) {
          // left out of the range
        }
      }
    }
    if (parts.isEmpty()) {
      return "";
    }
    return range ? trim(lo) + "-" + trim(hi) : String.join(", ", parts);
  }

  private static String notes(Cell c) {
    Map<String, Double> n = c.note();
    List<String> parts = new ArrayList<>();
    if (n.containsKey("after_pct")) {
      parts.add(
          String.format(
              Locale.ROOT, "5 s after the restart: %.0f %% of steady", n.get("after_pct")));
      if (n.containsKey("after10_pct")) {
        parts.add(String.format(Locale.ROOT, "10 s after: %.0f %%", n.get("after10_pct")));
      }
      if (n.containsKey("steady")) {
        parts.add(String.format(Locale.ROOT, "steady %s req/s", grouped(n.get("steady"))));
      }
      if (n.containsKey("dip_pct")) {
        parts.add(String.format(Locale.ROOT, "worst second %.0f %%", n.get("dip_pct")));
      }
    }
    if (n.containsKey("plateau")) {
      parts.add(String.format(Locale.ROOT, "plateau %s req/s", grouped(n.get("plateau"))));
      if (n.containsKey("ramp_s")) {
        parts.add(String.format(Locale.ROOT, "90 %% of it after %.0f s", n.get("ramp_s")));
      }
      if (n.containsKey("peak_children") && n.get("peak_children") > 0) {
        parts.add(String.format(Locale.ROOT, "up to %.0f processes", n.get("peak_children")));
      }
    }
    return parts.isEmpty() ? "" : String.join("; ", parts);
  }

  static String grouped(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,.0f", v);
  }

  static String decimals(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  }

  /** Short numbers for the chart: 48.3k, 1.50k, 930. */
  static String compact(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    if (v >= 100_000) {
      return String.format(Locale.ROOT, "%.0fk", v / 1000);
    }
    if (v >= 10_000) {
      return String.format(Locale.ROOT, "%.1fk", v / 1000);
    }
    if (v >= 1_000) {
      return String.format(Locale.ROOT, "%.2fk", v / 1000);
    }
    return decimals(v);
  }

  // ---------------------------------------------------------------- timelines

  /** Per second (from {@code first}), medians over the rounds; NaN where no value. */
  record Timeline(
      int first,
      double[] req,
      double[] p99,
      double[] children,
      double[] spawns,
      double[] retired,
      List<Integer> events,
      int rounds) {}

  static Map<String, Timeline> readTimelines(Path dir, String workload) throws IOException {
    Pattern name =
        Pattern.compile("timeline-" + Pattern.quote(workload) + "-([a-z]+)-r(\\d+)\\.tsv");
    Map<String, List<List<String[]>>> byPeer =
        new TreeMap<>(
            (a, b) ->
                Integer.compare(order(PEER_ORDER, a), order(PEER_ORDER, b)) != 0
                    ? Integer.compare(order(PEER_ORDER, a), order(PEER_ORDER, b))
                    : a.compareTo(b));
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.sorted().toList()) {
        Matcher m = name.matcher(f.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        List<String[]> lines = new ArrayList<>();
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          if (line.startsWith("#") || line.startsWith("second")) {
            continue;
          }
          lines.add(line.split("\t", -1));
        }
        if (!lines.isEmpty()) {
          byPeer.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(lines);
        }
      }
    }
    Map<String, Timeline> out = new LinkedHashMap<>();
    for (var e : byPeer.entrySet()) {
      List<List<String[]>> rounds = e.getValue();
      int first = Integer.MAX_VALUE;
      int last = Integer.MIN_VALUE;
      for (List<String[]> r : rounds) {
        for (String[] l : r) {
          int s = Integer.parseInt(l[0]);
          first = Math.min(first, s);
          last = Math.max(last, s);
        }
      }
      int n = last - first + 1;
      double[][] cols = new double[5][n];
      int[] col = {1, 4, 6, 9, 10}; // req, p99_ms, children, spawns, retired
      List<Integer> events = new ArrayList<>();
      for (int c = 0; c < 5; c++) {
        for (int s = 0; s < n; s++) {
          final int cc = c;
          final int ss = s + first;
          double[] vals =
              rounds.stream()
                  .flatMap(List::stream)
                  .filter(l -> Integer.parseInt(l[0]) == ss)
                  .mapToDouble(
                      l ->
                          l.length > col[cc] && !l[col[cc]].isBlank()
                              ? Double.parseDouble(l[col[cc]])
                              : Double.NaN)
                  .toArray();
          cols[c][s] = median(Arrays.stream(vals));
        }
      }
      for (List<String[]> r : rounds) {
        for (String[] l : r) {
          if (l.length > 13
              && l[13].equals("restart")
              && !events.contains(Integer.parseInt(l[0]))) {
            events.add(Integer.parseInt(l[0]));
          }
        }
      }
      out.put(
          e.getKey(),
          new Timeline(first, cols[0], cols[1], cols[2], cols[3], cols[4], events, rounds.size()));
    }
    return out;
  }

  // ---------------------------------------------------------------- SVG

  private static final int WIDTH = 1280;
  private static final String FONT = "font-family=\"Helvetica, Arial, sans-serif\"";

  static String svg(
      List<Cell> cells, Map<String, Map<String, Timeline>> timelines, Map<String, String> build) {
    Svg s = new Svg();
    int y = 34;
    int rounds = cells.stream().mapToInt(Cell::rounds).max().orElse(0);
    s.text(
        24,
        y,
        "prefork workload suite: req/s and p99 latency per workload and peer",
        22,
        "start",
        "#222",
        true);
    y += 22;
    s.text(
        24,
        y,
        String.format(
            Locale.ROOT,
            "%s · %s run, medians of %d round(s), all peers in the same run on the same machine (%s)"
                + " · build %s",
            build.getOrDefault("date", "?"),
            build.getOrDefault("mode", "?"),
            rounds,
            loads(build, true).isEmpty()
                ? build.getOrDefault("host", "?")
                : build.getOrDefault("host", "?").replaceAll(", load average.*", "")
                    + ", 1-min load average "
                    + loads(build, true)
                    + " during the run",
            build.getOrDefault("build", "?")),
        13,
        "start",
        "#555",
        false);
    y += 26;
    // Legend
    List<String> peers = new ArrayList<>();
    for (String p : PEER_ORDER) {
      if (cells.stream().anyMatch(c -> c.peer().equals(p))) {
        peers.add(p);
      }
    }
    int lx = 24;
    for (String p : peers) {
      s.rect(lx, y - 11, 14, 14, PEER_COLOR.get(p), null);
      s.text(lx + 20, y + 1, PEER_NAME.get(p), 13, "start", "#222", p.equals("prefork"));
      lx += 34 + 8 * PEER_NAME.get(p).length();
    }
    s.text(WIDTH - 24, y + 1, "under each bar: the ratio to prefork", 12, "end", "#555", false);
    y += 22;

    // Bar panels: one per (workload, conns) except restart (a single peer: its timeline says more).
    List<String> panels = new ArrayList<>();
    for (Cell c : cells) {
      String key = c.workload() + "\t" + c.conns();
      if (!c.workload().equals("restart") && !panels.contains(key)) {
        panels.add(key);
      }
    }
    if (!panels.isEmpty()) {
      y = barRow(s, cells, panels, y, true);
      y = barRow(s, cells, panels, y, false);
    }
    Map<String, Timeline> burst = timelines.getOrDefault("burst", Map.of());
    if (!burst.isEmpty()) {
      y = burstPanels(s, burst, y);
    }
    Map<String, Timeline> restart = timelines.getOrDefault("restart", Map.of());
    if (!restart.isEmpty()) {
      y = restartPanels(s, restart, cells, y);
    }
    y += 10;
    s.text(
        24,
        y,
        "Made by benchmarks/load/suite.sh (SuiteReport); see docs/performance.md, \"Workload suite\".",
        11,
        "start",
        "#777",
        false);
    return s.finish(WIDTH, y + 14);
  }

  private static int barRow(Svg s, List<Cell> cells, List<String> panels, int y, boolean rps) {
    s.text(
        24,
        y + 16,
        rps
            ? "Throughput: requests per second (higher is better)"
            : "p99 latency: milliseconds (lower is better)",
        16,
        "start",
        "#222",
        true);
    y += 28;
    int gap = 18;
    int n = panels.size();
    int pw = (WIDTH - 48 - gap * (n - 1)) / n;
    int ph = 210;
    int x0 = 24;
    for (String key : panels) {
      String[] k = key.split("\t");
      String w = k[0];
      int conns = Integer.parseInt(k[1]);
      List<Cell> row =
          cells.stream().filter(c -> c.workload().equals(w) && c.conns() == conns).toList();
      Cell pref = row.stream().filter(c -> c.peer().equals("prefork")).findFirst().orElse(null);
      s.text(
          x0 + pw / 2.0,
          y + 14,
          WORKLOAD_TITLE.getOrDefault(w, w) + ", c=" + conns,
          13,
          "middle",
          "#222",
          true);
      int top = y + 40;
      int left = x0 + 44;
      int plotW = pw - 50;
      int plotH = ph - 76;
      double max =
          row.stream()
              .mapToDouble(c -> rps ? c.rps() : c.p99())
              .filter(d -> !Double.isNaN(d))
              .max()
              .orElse(1);
      double[] ticks = niceTicks(max);
      double top_ = ticks[ticks.length - 1];
      for (double t : ticks) {
        double ty = top + plotH - plotH * t / top_;
        s.line(left, ty, left + plotW, ty, "#e3e3e3", 1, null);
        s.text(left - 5, ty + 4, tick(t), 10, "end", "#666", false);
      }
      s.line(left, top + plotH, left + plotW, top + plotH, "#888", 1, null);
      int m = row.size();
      double slot = plotW / (double) Math.max(m, 1);
      double bw = Math.min(34, slot * 0.7);
      for (int i = 0; i < m; i++) {
        Cell c = row.get(i);
        double v = rps ? c.rps() : c.p99();
        double h = Double.isNaN(v) ? 0 : plotH * v / top_;
        double bx = left + slot * i + (slot - bw) / 2;
        String tip =
            String.format(
                Locale.ROOT,
                "%s, %s: %s %s, p50 %s ms, p99 %s ms, %d errors, %d rounds",
                WORKLOAD_TITLE.getOrDefault(w, w),
                PEER_NAME.getOrDefault(c.peer(), c.peer()),
                grouped(c.rps()),
                "req/s",
                decimals(c.p50()),
                decimals(c.p99()),
                c.errors(),
                c.rounds());
        s.rect(bx, top + plotH - h, bw, h, PEER_COLOR.getOrDefault(c.peer(), "#444"), tip);
        s.text(
            bx + bw / 2,
            top + plotH - h - 4,
            compact(v),
            10,
            "middle",
            "#222",
            c.peer().equals("prefork"));
        s.text(
            bx + bw / 2,
            top + plotH + 13,
            PEER_SHORT.getOrDefault(c.peer(), c.peer()),
            10,
            "middle",
            "#333",
            false);
        if (pref != null && !c.peer().equals("prefork")) {
          double pv = rps ? pref.rps() : pref.p99();
          if (pv > 0 && !Double.isNaN(v)) {
            s.text(bx + bw / 2, top + plotH + 25, ratio(v / pv), 10, "middle", "#666", false);
          }
        }
        if (c.errors() > 0) {
          s.text(bx + bw / 2, top + plotH + 37, c.errors() + " err", 10, "middle", "#c00", true);
        }
      }
      x0 += pw + gap;
    }
    return y + ph - 4;
  }

  private static int burstPanels(Svg s, Map<String, Timeline> tl, int y) {
    Timeline any = tl.values().iterator().next();
    s.text(
        24,
        y + 16,
        "Burst: an idle server, then 200 connections of the wait job at once (second 0), per second",
        16,
        "start",
        "#222",
        true);
    s.text(
        24,
        y + 34,
        String.format(
            Locale.ROOT,
            "%s; each round starts the server afresh; dashed lines: the load starts and ends",
            rounds(any.rounds())),
        12,
        "start",
        "#555",
        false);
    y += 44;
    int w3 = (WIDTH - 48 - 2 * 24) / 3;
    int h = 230;
    int x = 24;
    int lastSecond =
        tl.values().stream().mapToInt(t -> t.first() + t.req().length - 1).max().orElse(20);
    int firstSecond = tl.values().stream().mapToInt(Timeline::first).min().orElse(0);
    int loadEnd = loadEnd(tl);
    lineChart(
        s,
        x,
        y,
        w3,
        h,
        "requests per second",
        tl,
        Timeline::req,
        firstSecond,
        lastSecond,
        false,
        List.of(0, loadEnd),
        null);
    x += w3 + 24;
    lineChart(
        s,
        x,
        y,
        w3,
        h,
        "p99 latency per second, ms (log scale)",
        tl,
        Timeline::p99,
        firstSecond,
        lastSecond,
        true,
        List.of(0, loadEnd),
        null);
    x += w3 + 24;
    Map<String, Timeline> pools = new LinkedHashMap<>();
    for (var e : tl.entrySet()) {
      if (Arrays.stream(e.getValue().children()).anyMatch(v -> v > 0)) {
        pools.put(e.getKey(), e.getValue());
      }
    }
    if (!pools.isEmpty()) {
      lineChart(
          s,
          x,
          y,
          w3,
          h,
          "child processes (▲ spawned, ▼ retired in that second)",
          pools,
          Timeline::children,
          firstSecond,
          lastSecond,
          false,
          List.of(0, loadEnd),
          pools.get("prefork"));
    }
    return y + h + 16;
  }

  private static String rounds(int n) {
    return n == 1 ? "one round" : "medians over " + n + " rounds of each second";
  }

  /** The first second after the load, from the samples: where the requests stop. */
  private static int loadEnd(Map<String, Timeline> tl) {
    int end = 0;
    for (Timeline t : tl.values()) {
      for (int i = 0; i < t.req().length; i++) {
        if (t.req()[i] > 0) {
          end = Math.max(end, t.first() + i + 1);
        }
      }
    }
    return end;
  }

  private static int restartPanels(Svg s, Map<String, Timeline> tl, List<Cell> cells, int y) {
    Timeline t = tl.get("prefork") != null ? tl.get("prefork") : tl.values().iterator().next();
    Cell c =
        cells.stream()
            .filter(x -> x.workload().equals("restart") && x.peer().equals("prefork"))
            .findFirst()
            .orElse(null);
    String pct =
        c != null && c.note().containsKey("after_pct")
            ? String.format(
                Locale.ROOT,
                ": the 5 s after it ran at %.0f %% of the 5 s before",
                c.note().get("after_pct"))
            : "";
    s.text(
        24,
        y + 16,
        "Restart: prefork under the cpu job (c="
            + (c != null ? c.conns() : "?")
            + "), `ctl restart` at the dashed line"
            + pct,
        16,
        "start",
        "#222",
        true);
    s.text(
        24,
        y + 34,
        String.format(
            Locale.ROOT,
            "%s; every child is replaced by one of a new generation while the socket stays open",
            rounds(t.rounds())),
        12,
        "start",
        "#555",
        false);
    y += 44;
    int w3 = (WIDTH - 48 - 2 * 24) / 3;
    int h = 230;
    int first = t.first();
    int last = t.first() + t.req().length - 1;
    List<Integer> marks = t.events().isEmpty() ? List.of() : List.of(t.events().get(0));
    Map<String, Timeline> one = Map.of("prefork", t);
    Double steady = c != null ? c.note().get("steady") : null;
    lineChart(
        s,
        24,
        y,
        w3,
        h,
        "requests per second (dotted: steady before)",
        one,
        Timeline::req,
        first,
        last,
        false,
        marks,
        null,
        steady);
    lineChart(
        s,
        24 + w3 + 24,
        y,
        w3,
        h,
        "p99 latency per second, ms (log scale)",
        one,
        Timeline::p99,
        first,
        last,
        true,
        marks,
        null);
    lineChart(
        s,
        24 + 2 * (w3 + 24),
        y,
        w3,
        h,
        "child processes (▲ spawned, ▼ retired)",
        one,
        Timeline::children,
        first,
        last,
        false,
        marks,
        t);
    return y + h + 16;
  }

  private static void lineChart(
      Svg s,
      int x,
      int y,
      int w,
      int h,
      String title,
      Map<String, Timeline> tl,
      java.util.function.Function<Timeline, double[]> series,
      int first,
      int last,
      boolean log,
      List<Integer> marks,
      Timeline events) {
    lineChart(s, x, y, w, h, title, tl, series, first, last, log, marks, events, null);
  }

  private static void lineChart(
      Svg s,
      int x,
      int y,
      int w,
      int h,
      String title,
      Map<String, Timeline> tl,
      java.util.function.Function<Timeline, double[]> series,
      int first,
      int last,
      boolean log,
      List<Integer> marks,
      Timeline events,
      Double reference) {
    boolean whole = events != null; // the process counts
    s.text(x + w / 2.0, y + 12, title, 12, "middle", "#222", true);
    int left = x + 46;
    int top = y + 24;
    int pw = w - 56;
    int ph = h - 58;
    double max = 0;
    double min = Double.MAX_VALUE;
    for (Timeline t : tl.values()) {
      for (double v : series.apply(t)) {
        if (!Double.isNaN(v) && (!log || v > 0)) {
          max = Math.max(max, v);
          min = Math.min(min, v);
        }
      }
    }
    if (events != null) {
      for (double v : events.spawns()) {
        if (!Double.isNaN(v)) {
          max = Math.max(max, v);
        }
      }
    }
    if (max <= 0) {
      max = 1;
    }
    double lo;
    double hi;
    double[] ticks;
    if (log) {
      lo = Math.pow(10, Math.floor(Math.log10(Math.max(min, 0.01))));
      hi = Math.pow(10, Math.ceil(Math.log10(max)));
      if (hi <= lo) {
        hi = lo * 10;
      }
      List<Double> t = new ArrayList<>();
      boolean few = hi / lo <= 1000;
      for (double d = lo; d <= hi * 1.0001; d *= 10) {
        t.add(d);
        if (few && d * 2 < hi) {
          t.add(d * 2);
          t.add(d * 5);
        }
      }
      ticks = t.stream().mapToDouble(Double::doubleValue).toArray();
    } else {
      ticks = niceTicks(max, whole);
      lo = 0;
      hi = ticks[ticks.length - 1];
    }
    final double flo = lo;
    final double fhi = hi;
    java.util.function.DoubleUnaryOperator yOf =
        log
            ? v ->
                top
                    + ph
                    - ph * (Math.log10(v) - Math.log10(flo)) / (Math.log10(fhi) - Math.log10(flo))
            : v -> top + ph - ph * (v - flo) / (fhi - flo);
    double span = Math.max(1, last + 1 - first);
    java.util.function.DoubleUnaryOperator xOf = sec -> left + pw * (sec - first) / span;
    for (double t : ticks) {
      double ty = yOf.applyAsDouble(t);
      s.line(left, ty, left + pw, ty, "#e3e3e3", 1, null);
      s.text(left - 5, ty + 4, tick(t), 10, "end", "#666", false);
    }
    s.line(left, top + ph, left + pw, top + ph, "#888", 1, null);
    int step = span > 30 ? 10 : 5;
    for (int sec = (int) Math.ceil(first / (double) step) * step; sec <= last + 1; sec += step) {
      double tx = xOf.applyAsDouble(sec);
      s.line(tx, top + ph, tx, top + ph + 4, "#888", 1, null);
      s.text(tx, top + ph + 16, Integer.toString(sec), 10, "middle", "#666", false);
    }
    s.text(left + pw / 2.0, top + ph + 30, "seconds", 10, "middle", "#666", false);
    for (int mk : marks) {
      double tx = xOf.applyAsDouble(mk);
      s.line(tx, top, tx, top + ph, "#444", 1, "4,3");
    }
    if (reference != null && !reference.isNaN() && reference > 0) {
      double ry = yOf.applyAsDouble(reference);
      s.line(left, ry, left + pw, ry, PEER_COLOR.get("prefork"), 1, "2,3");
    }
    for (var e : tl.entrySet()) {
      Timeline t = e.getValue();
      double[] v = series.apply(t);
      StringBuilder pts = new StringBuilder();
      for (int i = 0; i < v.length; i++) {
        double val = v[i];
        if (Double.isNaN(val) || (log && val <= 0)) {
          if (pts.length() > 0) {
            s.polyline(
                pts.toString(),
                PEER_COLOR.getOrDefault(e.getKey(), "#444"),
                PEER_NAME.getOrDefault(e.getKey(), e.getKey()));
            pts.setLength(0);
          }
          continue;
        }
        // a second's value drawn at its middle
        pts.append(
            String.format(
                Locale.ROOT,
                "%.1f,%.1f ",
                xOf.applyAsDouble(t.first() + i + 0.5),
                yOf.applyAsDouble(val)));
      }
      if (pts.length() > 0) {
        s.polyline(
            pts.toString(),
            PEER_COLOR.getOrDefault(e.getKey(), "#444"),
            PEER_NAME.getOrDefault(e.getKey(), e.getKey()));
      }
    }
    if (events != null) {
      String color = PEER_COLOR.get("prefork");
      for (int i = 0; i < events.spawns().length; i++) {
        double cx = xOf.applyAsDouble(events.first() + i + 0.5);
        double sp = events.spawns()[i];
        double re = events.retired()[i];
        if (!Double.isNaN(sp) && sp > 0) {
          s.raw(
              String.format(
                  Locale.ROOT,
                  "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\" fill=\"%s\" %s><title>%.0f spawned</title>▲%s</text>",
                  cx,
                  top + 10.0,
                  color,
                  FONT,
                  sp,
                  sp > 1 ? String.format(Locale.ROOT, "%.0f", sp) : ""));
        }
        if (!Double.isNaN(re) && re > 0) {
          s.raw(
              String.format(
                  Locale.ROOT,
                  "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\" fill=\"%s\" %s><title>%.0f retired</title>▼%s</text>",
                  cx,
                  top + 22.0,
                  color,
                  FONT,
                  re,
                  re > 1 ? String.format(Locale.ROOT, "%.0f", re) : ""));
        }
      }
    }
    // legend inside the chart
    int ly = top + ph + 44;
    double lx = left;
    for (String p : tl.keySet()) {
      s.line(lx, ly - 4, lx + 16, ly - 4, PEER_COLOR.getOrDefault(p, "#444"), 2.5, null);
      s.text(lx + 20, ly, PEER_NAME.getOrDefault(p, p), 10, "start", "#333", false);
      lx += 30 + 6 * PEER_NAME.getOrDefault(p, p).length();
    }
  }

  /** A ratio short enough to sit under a narrow bar: 0.41×, 13.2×, 130×. */
  static String ratio(double r) {
    return String.format(Locale.ROOT, r >= 100 ? "%.0f×" : r >= 10 ? "%.1f×" : "%.2f×", r);
  }

  /** An axis label: 0, 2.5, 40, 2k, 12.5k. */
  static String tick(double v) {
    if (v >= 1000) {
      return trim(v / 1000) + "k";
    }
    return trim(v);
  }

  private static String trim(double v) {
    String t = String.format(Locale.ROOT, "%.2f", v);
    t = t.replaceAll("0+$", "");
    return t.endsWith(".") ? t.substring(0, t.length() - 1) : t;
  }

  /** 0 and 4-6 round steps up to at least max. */
  static double[] niceTicks(double max) {
    return niceTicks(max, false);
  }

  /** The same; with {@code whole} no step below 1 (counts). */
  static double[] niceTicks(double max, boolean whole) {
    if (!(max > 0)) {
      return new double[] {0, 1};
    }
    double raw = max / 5;
    if (whole) {
      raw = Math.max(raw, 1);
    }
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = mag;
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * mag >= raw) {
        step = m * mag;
        break;
      }
    }
    int n = (int) Math.ceil(max / step - 1e-9);
    double[] t = new double[n + 1];
    for (int i = 0; i <= n; i++) {
      t[i] = i * step;
    }
    return t;
  }

  /** A few SVG elements, written as text. */
  static final class Svg {
    private final StringBuilder b = new StringBuilder();

    void text(
        double x, double y, String text, int size, String anchor, String color, boolean bold) {
      b.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" fill=\"%s\"%s %s>%s</text>%n",
              x,
              y,
              size,
              anchor,
              color,
              bold ? " font-weight=\"bold\"" : "",
              FONT,
              escape(text)));
    }

    void rect(double x, double y, double w, double h, String fill, String title) {
      b.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">%s</rect>%n",
              x,
              y,
              w,
              h,
              fill,
              title != null ? "<title>" + escape(title) + "</title>" : ""));
    }

    void line(double x1, double y1, double x2, double y2, String color, double width, String dash) {
      b.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>%n",
              x1,
              y1,
              x2,
              y2,
              color,
              width,
              dash != null ? " stroke-dasharray=\"" + dash + "\"" : ""));
    }

    void polyline(String points, String color, String title) {
      b.append(
          String.format(
              Locale.ROOT,
              "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"><title>%s</title></polyline>%n",
              points.trim(),
              color,
              escape(title)));
    }

    void raw(String element) {
      b.append(element).append('\n');
    }

    String finish(int width, int height) {
      return String.format(
              Locale.ROOT,
              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n"
                  + "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>%n",
              width,
              height,
              width,
              height)
          + b
          + "</svg>\n";
    }

    static String escape(String s) {
      return s.replace("&", "&amp;")
          .replace("<", "&lt;")
          .replace(">", "&gt;")
          .replace("\"", "&quot;");
    }
  }
}
