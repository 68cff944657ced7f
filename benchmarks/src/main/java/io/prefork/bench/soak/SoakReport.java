package io.prefork.bench.soak;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The soak run's verdict (benchmarks/soak/soak.sh): reads what SoakLoad and the script wrote into
 * one directory and prints a report (also {@code report.md}) whose last line is
 *
 * <pre>
 * soak: requests N errors E (allowed A by killed busy children) rss master X->Y MB fds X->Y, ...
 * </pre>
 *
 * N and E are the well-behaved requests (hello and wait kinds) and those that failed; A is the sum,
 * over every kill, of the BUSY slots its child had when it was frozen just before the SIGKILL. Each
 * failure is also matched to a kill of its server: the last one before the failure ended, if the
 * request had started before it; no kill with more failures matched than the connections its child
 * held when frozen. Exit status 0 only if E <= A, every failure is matched, no kill has more
 * failures than connections held, SoakLoad and both serves ended cleanly (status 0), and nothing
 * was left behind ({@code leftovers.txt} empty).
 *
 * <pre>
 * java -cp benchmarks.jar io.prefork.bench.soak.SoakReport --dir DIR [--load-exit N]
 *     [--serve-exit hello=0,wait=0] [--load-average "1.0 2.0 3.0"]
 * </pre>
 */
public final class SoakReport {
  /**
   * Clock slack between the script's and SoakLoad's timestamps (both the host's clock, in ms): the
   * script reads the time just after {@code kill} returns, so a client may see its connection end a
   * little before the recorded kill.
   */
  private static final long SLACK_MILLIS = 50;

  private SoakReport() {}

  record Outcome(
      String kind,
      boolean wellBehaved,
      int connections,
      String outcome,
      long count,
      String p50,
      String p99,
      String max) {}

  record Failure(
      String kind, String server, long start, long end, String outcome, String message) {}

  /**
   * One kill: its child frozen at {@code stop}, killed at {@code kill}; its BUSY slots and the
   * connections it held (sockets its master does not share) while frozen.
   */
  record Kill(
      String server,
      long stop,
      long kill,
      String pid,
      int busy,
      int slots,
      int held,
      String result) {
    boolean killed() {
      return result.equals("killed");
    }
  }

  record Proc(
      long ms,
      String phase,
      String server,
      String role,
      String pid,
      long rssKb,
      long fds,
      long threads) {}

  public static void main(String[] args) throws IOException {
    Path dir = null;
    String loadExit = "0";
    String serveExit = "";
    String loadAverage = "";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[i + 1]);
        case "--load-exit" -> loadExit = args[i + 1];
        case "--serve-exit" -> serveExit = args[i + 1];
        case "--load-average" -> loadAverage = args[i + 1];
        default -> {
          System.err.println("SoakReport: unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    if (dir == null) {
      System.err.println("SoakReport: needs --dir DIR");
      System.exit(2);
    }
    StringBuilder r = new StringBuilder();
    boolean pass = report(dir, loadExit, serveExit, loadAverage, r);
    Files.writeString(dir.resolve("report.md"), r);
    System.out.print(r);
    System.exit(pass ? 0 : 1);
  }

  static List<String[]> rows(Path file) throws IOException {
    List<String[]> rows = new ArrayList<>();
    if (!Files.exists(file)) {
      return rows;
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 1; i < lines.size(); i++) { // a header line first
      if (!lines.get(i).isBlank()) {
        rows.add(lines.get(i).split("\t", -1));
      }
    }
    return rows;
  }

  private static long num(String s) {
    try {
      return s.isBlank() ? -1 : Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static boolean report(
      Path dir, String loadExit, String serveExit, String loadAverage, StringBuilder r)
      throws IOException {
    List<Outcome> outcomes = new ArrayList<>();
    for (String[] f : rows(dir.resolve("load.tsv"))) {
      outcomes.add(
          new Outcome(
              f[0],
              Boolean.parseBoolean(f[1]),
              (int) num(f[2]),
              f[3],
              num(f[4]),
              f[5],
              f[6],
              f[7]));
    }
    List<Failure> failures = new ArrayList<>();
    for (String[] f : rows(dir.resolve("failures.tsv"))) {
      failures.add(new Failure(f[0], f[1], num(f[2]), num(f[3]), f[4], f.length > 6 ? f[6] : ""));
    }
    List<Kill> kills = new ArrayList<>();
    for (String[] f : rows(dir.resolve("kills.tsv"))) {
      kills.add(
          new Kill(
              f[0],
              num(f[1]),
              num(f[2]),
              f[3],
              (int) num(f[4]),
              (int) num(f[5]),
              (int) num(f[6]),
              f[7]));
    }
    List<String[]> restarts = rows(dir.resolve("restarts.tsv"));
    List<Proc> procs = new ArrayList<>();
    for (String[] f : rows(dir.resolve("procs.tsv"))) {
      procs.add(new Proc(num(f[0]), f[1], f[2], f[3], f[4], num(f[5]), num(f[6]), num(f[7])));
    }
    List<String> leftovers =
        Files.exists(dir.resolve("leftovers.txt"))
            ? Files.readAllLines(dir.resolve("leftovers.txt")).stream()
                .filter(l -> !l.isBlank())
                .toList()
            : List.of("leftovers.txt is missing: the leftover check did not run");
    boolean loadComplete = Files.exists(dir.resolve("load.tsv"));

    // ---- the verdict's numbers
    long requests = 0;
    long errors = 0;
    for (Outcome o : outcomes) {
      if (o.wellBehaved()) {
        requests += o.count();
        if (!o.outcome().equals("ok")) {
          errors += o.count();
        }
      }
    }
    long allowed = 0;
    int killed = 0;
    for (Kill k : kills) {
      if (k.killed()) {
        allowed += Math.max(0, k.busy());
        killed++;
      }
    }
    // Each failure to the kill it was in flight at: the last kill of its server before the
    // failure ended (a connection of a frozen child can only end once the child is killed, and on
    // a loaded machine the client may see it seconds later), if the request started before it.
    Map<Kill, Integer> perKill = new LinkedHashMap<>();
    List<Failure> unmatched = new ArrayList<>();
    for (Failure f : failures) {
      Kill at = null;
      for (Kill k : kills) {
        if (k.killed()
            && k.server().equals(f.server())
            && k.kill() - SLACK_MILLIS <= f.end()
            && (at == null || k.kill() > at.kill())) {
          at = k;
        }
      }
      if (at != null && f.start() > at.kill() + 5) {
        at = null; // it started after the last kill before its end: no kill explains it
      }
      if (at == null) {
        unmatched.add(f);
      } else {
        perKill.merge(at, 1, Integer::sum);
      }
    }
    int overBusy = 0;
    int overHeld = 0;
    for (Map.Entry<Kill, Integer> e : perKill.entrySet()) {
      if (e.getValue() > e.getKey().busy()) {
        overBusy++;
      }
      if (e.getValue() > e.getKey().held()) {
        overHeld++;
      }
    }

    // ---- the report
    r.append("# Soak run\n\n");
    String firstDate =
        procs.isEmpty() ? "?" : java.time.Instant.ofEpochMilli(procs.get(0).ms()).toString();
    r.append("Started ").append(firstDate).append(" (UTC)");
    if (!loadAverage.isBlank()) {
      r.append("; load average at the end ").append(loadAverage);
    }
    r.append(".\n\n");

    r.append("## Clients\n\n| kind | conns | outcome | count | p50 ms | p99 ms | max ms |\n")
        .append("|---|---:|---|---:|---:|---:|---:|\n");
    for (Outcome o : outcomes) {
      r.append(
          String.format(
              Locale.ROOT,
              "| %s%s | %d | %s | %,d | %s | %s | %s |%n",
              o.kind(),
              o.wellBehaved() ? "" : " (abusive)",
              o.connections(),
              o.outcome(),
              o.count(),
              o.p50(),
              o.p99(),
              o.max()));
    }
    r.append('\n');

    r.append(
            "## Chaos\n\n| server | kills | skipped | busy slots at the kills | connections held"
                + " | failures matched | kills with more failures than busy slots"
                + " | frozen ms p50 / max | restarts (ok / failed) | ctl restart ms p50 |\n")
        .append("|---|---:|---:|---:|---:|---:|---:|---|---|---:|\n");
    for (String server : List.of("hello", "wait")) {
      int k = 0;
      int skipped = 0;
      long busy = 0;
      long held = 0;
      int matched = 0;
      int over = 0;
      List<Long> frozen = new ArrayList<>();
      for (Kill x : kills) {
        if (!x.server().equals(server)) {
          continue;
        }
        if (x.killed()) {
          k++;
          frozen.add(x.kill() - x.stop());
          busy += Math.max(0, x.busy());
          held += Math.max(0, x.held());
          int m = perKill.getOrDefault(x, 0);
          matched += m;
          if (m > x.busy()) {
            over++;
          }
        } else {
          skipped++;
        }
      }
      int ok = 0;
      int failed = 0;
      List<Long> took = new ArrayList<>();
      for (String[] x : restarts) {
        if (x[0].equals(server)) {
          if (x[2].equals("0")) {
            ok++;
          } else {
            failed++;
          }
          took.add(num(x[3]));
        }
      }
      took.sort(Long::compare);
      frozen.sort(Long::compare);
      r.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %d | %d | %d | %d | %d | %s | %d / %d | %s |%n",
              server,
              k,
              skipped,
              busy,
              held,
              matched,
              over,
              frozen.isEmpty()
                  ? ""
                  : frozen.get(frozen.size() / 2) + " / " + frozen.get(frozen.size() - 1),
              ok,
              failed,
              took.isEmpty() ? "" : Long.toString(took.get(took.size() / 2))));
    }
    Map<String, Integer> skipReasons = new TreeMap<>();
    for (Kill x : kills) {
      if (!x.killed()) {
        skipReasons.merge(x.server() + ": " + x.result(), 1, Integer::sum);
      }
    }
    skipReasons.forEach((k, v) -> r.append("- ").append(v).append(" × ").append(k).append('\n'));
    for (String[] x : restarts) {
      if (!x[2].equals("0")) {
        r.append("- restart failed: ").append(String.join(" ", x)).append('\n');
      }
    }
    r.append('\n');
    for (String server : List.of("hello", "wait")) {
      Path status = dir.resolve("final-status-" + server + ".json");
      if (Files.exists(status)) {
        String json = Files.readString(status);
        r.append("- ").append(server).append(" server at the end: ");
        for (String field :
            List.of("generation", "totalCalls", "spawns", "crashes", "restarts", "childCount")) {
          Matcher m = Pattern.compile("\"" + field + "\":(\\d+)").matcher(json);
          if (m.find()) {
            r.append(field).append(' ').append(m.group(1)).append(", ");
          }
        }
        r.setLength(r.length() - 2);
        r.append('\n');
      }
    }
    r.append('\n');

    if (!unmatched.isEmpty()) {
      r.append("## Failures not in flight at any kill of their server\n\n");
      for (Failure f : unmatched.subList(0, Math.min(50, unmatched.size()))) {
        r.append("- ")
            .append(f.kind())
            .append(" ")
            .append(f.outcome())
            .append(" start ")
            .append(f.start())
            .append(" end ")
            .append(f.end())
            .append(": ")
            .append(f.message())
            .append('\n');
      }
      r.append('\n');
    }
    if (!failures.isEmpty()) {
      Map<String, Integer> byOutcome = new TreeMap<>();
      failures.forEach(f -> byOutcome.merge(f.kind() + " " + f.outcome(), 1, Integer::sum));
      r.append("Failed well-behaved requests by outcome: ").append(byOutcome).append("\n\n");
    }

    List<String[]> notes = rows(dir.resolve("abusive-notes.tsv"));
    if (!notes.isEmpty()) {
      r.append("## Abusive clients that were not cut\n\n");
      for (String[] n : notes.subList(0, Math.min(20, notes.size()))) {
        r.append("- ")
            .append(n[0])
            .append(" on ")
            .append(n[1])
            .append(": ")
            .append(n[4])
            .append(" after ")
            .append(num(n[3]) - num(n[2]))
            .append(" ms (start ")
            .append(n[2])
            .append(")")
            .append(n.length > 6 && !n[6].isBlank() ? ": `" + n[6] + "`" : "")
            .append('\n');
      }
      if (notes.size() > 20) {
        r.append("- ... ").append(notes.size() - 20).append(" more in abusive-notes.tsv\n");
      }
      r.append('\n');
    }

    // ---- processes
    r.append("## Processes (RSS MB / descriptors / threads)\n\n")
        .append("| server | role | at the start | at the end | RSS max during the run |\n")
        .append("|---|---|---|---|---:|\n");
    Map<String, String[]> mastersLine = new LinkedHashMap<>();
    for (String server : List.of("hello", "wait")) {
      for (String role : List.of("master", "child")) {
        String start = describe(procs, server, role, "start");
        String end = describe(procs, server, role, "end");
        double max =
            procs.stream()
                    .filter(
                        p -> p.server().equals(server) && p.role().equals(role) && p.rssKb() > 0)
                    .mapToLong(Proc::rssKb)
                    .max()
                    .orElse(-1)
                / 1024.0;
        r.append(
            String.format(
                Locale.ROOT,
                "| %s | %s%s | %s | %s | %.1f |%n",
                server,
                role,
                role.equals("child") ? " (mean of each)" : "",
                start,
                end,
                max));
      }
      Proc ms = first(procs, server, "master", "start");
      Proc me = first(procs, server, "master", "end");
      mastersLine.put(
          server,
          new String[] {
            ms == null ? "?" : String.format(Locale.ROOT, "%.0f", ms.rssKb() / 1024.0),
            me == null ? "?" : String.format(Locale.ROOT, "%.0f", me.rssKb() / 1024.0),
            ms == null ? "?" : Long.toString(ms.fds()),
            me == null ? "?" : Long.toString(me.fds())
          });
    }
    r.append('\n');
    // The masters every minute: the trend, past the warm-up.
    r.append("Masters every minute (RSS MB / fds):");
    for (String server : List.of("hello", "wait")) {
      r.append("\n- ").append(server).append(':');
      long firstMs = -1;
      long nextMs = -1;
      for (Proc p : procs) {
        if (!p.server().equals(server) || !p.role().equals("master")) {
          continue;
        }
        if (firstMs < 0) {
          firstMs = p.ms();
          nextMs = firstMs;
        }
        if (p.ms() >= nextMs || p.phase().equals("end")) {
          r.append(
              String.format(
                  Locale.ROOT,
                  " %s %.0f/%d",
                  p.phase().equals("end") ? "end" : ((p.ms() - firstMs + 500) / 60_000) + "m",
                  p.rssKb() / 1024.0,
                  p.fds()));
          nextMs += 60_000;
        }
      }
    }
    r.append("\n\n");

    r.append("## Left behind after the stop\n\n");
    if (leftovers.isEmpty()) {
      r.append("Nothing: no process of the run, no shm segment of its keys (ps, ipcs -m).\n");
    } else {
      leftovers.forEach(l -> r.append("- ").append(l).append('\n'));
    }
    if (!serveExit.isBlank()) {
      r.append("serve exit status: ").append(serveExit).append('\n');
    }
    r.append('\n');

    boolean pass =
        errors <= allowed
            && unmatched.isEmpty()
            && overHeld == 0
            && leftovers.isEmpty()
            && loadExit.equals("0")
            && serveExitsClean(serveExit)
            && loadComplete;
    r.append(
        String.format(
            Locale.ROOT,
            "verdict: %s (errors %d <= allowed %d: %s; failures not in flight at a kill: %d; kills with"
                + " more failures than connections held: %d, than busy slots: %d; kills %d;"
                + " SoakLoad exit %s; serve exit %s; left behind %d)%n",
            pass ? "PASS" : "FAIL",
            errors,
            allowed,
            errors <= allowed ? "yes" : "NO",
            unmatched.size(),
            overHeld,
            overBusy,
            killed,
            loadExit,
            serveExit.isBlank() ? "-" : serveExit,
            leftovers.size()));
    String[] h = mastersLine.get("hello");
    String[] w = mastersLine.get("wait");
    r.append(
        String.format(
            Locale.ROOT,
            "soak: requests %d errors %d (allowed %d by killed busy children) rss master %s->%s MB fds"
                + " %s->%s (wait server's master %s->%s MB fds %s->%s), left behind %d%n",
            requests,
            errors,
            allowed,
            h[0],
            h[1],
            h[2],
            h[3],
            w[0],
            w[1],
            w[2],
            w[3],
            leftovers.size()));
    return pass;
  }

  /** "hello=0,wait=0": every serve stopped with status 0 (none given: not checked). */
  static boolean serveExitsClean(String serveExit) {
    if (serveExit.isBlank()) {
      return true;
    }
    for (String part : serveExit.split(",")) {
      if (!part.endsWith("=0")) {
        return false;
      }
    }
    return true;
  }

  private static Proc first(List<Proc> procs, String server, String role, String phase) {
    for (Proc p : procs) {
      if (p.server().equals(server) && p.role().equals(role) && p.phase().equals(phase)) {
        return p;
      }
    }
    return null;
  }

  /** "RSS / fds / threads" of the master, or the children's count and means. */
  private static String describe(List<Proc> procs, String server, String role, String phase) {
    List<Proc> ps =
        procs.stream()
            .filter(
                p ->
                    p.server().equals(server)
                        && p.role().equals(role)
                        && p.phase().equals(phase)
                        && p.rssKb() >= 0)
            .toList();
    if (ps.isEmpty()) {
      return "-";
    }
    double rss = ps.stream().mapToLong(Proc::rssKb).average().orElse(0) / 1024.0;
    double fds = ps.stream().mapToLong(Proc::fds).average().orElse(0);
    double threads = ps.stream().mapToLong(Proc::threads).average().orElse(0);
    return (role.equals("child") ? ps.size() + " × " : "")
        + String.format(Locale.ROOT, "%.1f / %.0f / %.0f", rss, fds, threads);
  }
}
