package io.prefork.examples;

import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.SlotState;
import java.util.Locale;

/**
 * A {@link ServerStatus} as {@code ctl status} prints it: a scoreboard for people, or one JSON
 * object for scripts. The JSON's fields and their order are stable (new fields are only ever
 * appended):
 *
 * <pre>{@code
 * {"masterPid":12345,"generation":1,"state":"RUNNING","listen":"127.0.0.1:6905",
 *  "uptimeMillis":83000,"heartbeatAgeMillis":12,
 *  "workers":{"idle":3,"busy":1,"starting":0,"exiting":0,"total":4},
 *  "childCount":4,"minChildren":4,"maxChildren":16,"threadsPerChild":1,
 *  "totalCalls":1234,"callsPerSecond":56.0,"rateIntervalMillis":1000,
 *  "spawns":5,"crashes":1,"restarts":0,"spawnBackoffUntilMillis":0,
 *  "listenQueue":0,"listenBacklog":511,
 *  "children":[{"slot":0,"pid":12346,"state":"IDLE","calls":3,"generation":1,
 *               "millisInState":1200,"ageMillis":83000,"workerIndex":0,"exitRequest":"NONE"},
 *              ...]}
 * }</pre>
 *
 * <p>{@code state} is the master's (STARTING, RUNNING, RESTARTING, STOPPING, FORCE_STOPPING);
 * {@code children} has one entry per worker slot in use, whose {@code state} is STARTING, IDLE,
 * BUSY or EXITING. {@code listenQueue} is the accept queue's length as the kernel reports it
 * (TCP_INFO on the listening socket), refreshed by the master every 50 ms. An IPv6 {@code listen}
 * address is in brackets.
 */
final class StatusReport {
  /**
   * The locale of every number printed: none ({@code String.format((Locale) null, ...)}, no
   * localization: ASCII digits, '.' as the decimal separator, exactly what {@code Locale.ROOT}
   * prints). With a locale other than US the formatter first loads the locale's number symbols
   * (CLDR data), which cost a ctl run 10-20 ms.
   */
  private static final Locale PLAIN = null;

  private StatusReport() {}

  /** A header, then one line per worker. */
  static String table(ServerStatus s) {
    StringBuilder b = new StringBuilder(512);
    b.append(
        String.format(
            PLAIN,
            "prefork %s  master pid %d  up %s  generation %d  %s%n",
            ShmKeys.toHex(s.shmKey()),
            s.masterPid(),
            duration(s.uptimeMillis()),
            s.generation(),
            s.masterState()));
    b.append(
        String.format(
            PLAIN,
            "listen   %s  queue %d/%d (waiting/backlog)%n",
            listen(s),
            s.listenQueue(),
            s.listenBacklog()));
    b.append(
        String.format(
            PLAIN,
            "workers  %d idle  %d busy  %d starting  %d total  (%d children of %d..%d, %d"
                + " thread%s each)%n",
            count(s, SlotState.IDLE),
            count(s, SlotState.BUSY),
            count(s, SlotState.STARTING),
            s.workers().size(),
            children(s),
            s.minChildren(),
            s.maxChildren(),
            s.threadsPerChild(),
            s.threadsPerChild() == 1 ? "" : "s"));
    b.append(
        String.format(
            PLAIN,
            "calls    %d total  %.1f/s over the last %s%n",
            s.totalCalls(),
            s.callsPerSecond(),
            duration(s.rateIntervalMillis())));
    b.append(
        String.format(
            PLAIN,
            "history  %d spawned  %d crashed  %d restarts%s%n",
            s.spawns(),
            s.crashes(),
            s.restarts(),
            s.spawnBackoffUntilMillis() > s.takenAtMillis()
                ? String.format(
                    PLAIN,
                    "  crash-loop backoff: next spawn in %s",
                    duration(s.spawnBackoffUntilMillis() - s.takenAtMillis()))
                : ""));
    String row = "%5s  %8s  %4s  %-8s  %8s  %8s  %8s%n";
    b.append(String.format(PLAIN, row, "SLOT", "PID", "GEN", "STATE", "CALLS", "IN STATE", "AGE"));
    for (WorkerStatus w : s.workers()) {
      b.append(
          String.format(
              PLAIN,
              row,
              w.slot(),
              w.pid(),
              w.generation(),
              w.exitRequest() == ExitRequest.NONE || w.state() == SlotState.EXITING
                  ? w.state().name()
                  : w.state() + "*",
              w.calls(),
              duration(w.millisInState()),
              duration(w.ageMillis())));
    }
    for (WorkerStatus w : s.workers()) {
      if (w.exitRequest() != ExitRequest.NONE) {
        b.append("* asked to exit after its connection\n");
        break;
      }
    }
    return b.toString();
  }

  /** One JSON object on one line, fields in the order documented above. */
  static String json(ServerStatus s) {
    StringBuilder b = new StringBuilder(512);
    b.append("{\"masterPid\":").append(s.masterPid());
    b.append(",\"generation\":").append(s.generation());
    b.append(",\"state\":");
    string(b, s.masterState().name());
    b.append(",\"listen\":");
    string(b, listen(s));
    b.append(",\"uptimeMillis\":").append(s.uptimeMillis());
    b.append(",\"heartbeatAgeMillis\":").append(s.heartbeatAgeMillis());
    b.append(",\"workers\":{\"idle\":").append(count(s, SlotState.IDLE));
    b.append(",\"busy\":").append(count(s, SlotState.BUSY));
    b.append(",\"starting\":").append(count(s, SlotState.STARTING));
    b.append(",\"exiting\":").append(count(s, SlotState.EXITING));
    b.append(",\"total\":").append(s.workers().size()).append('}');
    b.append(",\"childCount\":").append(children(s));
    b.append(",\"minChildren\":").append(s.minChildren());
    b.append(",\"maxChildren\":").append(s.maxChildren());
    b.append(",\"threadsPerChild\":").append(s.threadsPerChild());
    b.append(",\"totalCalls\":").append(s.totalCalls());
    b.append(",\"callsPerSecond\":").append(String.format(PLAIN, "%.3f", s.callsPerSecond()));
    b.append(",\"rateIntervalMillis\":").append(s.rateIntervalMillis());
    b.append(",\"spawns\":").append(s.spawns());
    b.append(",\"crashes\":").append(s.crashes());
    b.append(",\"restarts\":").append(s.restarts());
    b.append(",\"spawnBackoffUntilMillis\":").append(s.spawnBackoffUntilMillis());
    b.append(",\"listenQueue\":").append(s.listenQueue());
    b.append(",\"listenBacklog\":").append(s.listenBacklog());
    b.append(",\"children\":[");
    String separator = "";
    for (WorkerStatus w : s.workers()) {
      b.append(separator);
      separator = ",";
      b.append("{\"slot\":").append(w.slot());
      b.append(",\"pid\":").append(w.pid());
      b.append(",\"state\":");
      string(b, w.state().name());
      b.append(",\"calls\":").append(w.calls());
      b.append(",\"generation\":").append(w.generation());
      b.append(",\"millisInState\":").append(w.millisInState());
      b.append(",\"ageMillis\":").append(w.ageMillis());
      b.append(",\"workerIndex\":").append(w.workerIndex());
      b.append(",\"exitRequest\":");
      string(b, w.exitRequest().name());
      b.append('}');
    }
    return b.append("]}").toString();
  }

  /**
   * Workers in this state, as {@link ServerStatus#count} (a loop rather than its stream: a stream's
   * first use costs a short-lived ctl milliseconds).
   */
  static long count(ServerStatus s, SlotState state) {
    long n = 0;
    for (WorkerStatus w : s.workers()) {
      if (w.state() == state) {
        n++;
      }
    }
    return n;
  }

  /** Child processes (distinct pids), as {@link ServerStatus#children}, with a loop. */
  static long children(ServerStatus s) {
    java.util.Set<Integer> pids = new java.util.HashSet<>();
    for (WorkerStatus w : s.workers()) {
      if (w.pid() > 0) {
        pids.add(w.pid());
      }
    }
    return pids.size();
  }

  /** {@code address:port}, with an IPv6 address in brackets. */
  static String listen(ServerStatus s) {
    String address = s.listenAddress();
    return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + s.listenPort();
  }

  /** A short duration for people: 0.3s, 12.5s, 3m05s, 2h07m, 3d04h. */
  static String duration(long millis) {
    long seconds = millis / 1_000;
    if (seconds < 60) {
      return String.format(PLAIN, "%.1fs", millis / 1_000.0);
    }
    if (seconds < 3_600) {
      return String.format(PLAIN, "%dm%02ds", seconds / 60, seconds % 60);
    }
    if (seconds < 86_400) {
      return String.format(PLAIN, "%dh%02dm", seconds / 3_600, seconds % 3_600 / 60);
    }
    return String.format(PLAIN, "%dd%02dh", seconds / 86_400, seconds % 86_400 / 3_600);
  }

  /** Appends {@code value} as a JSON string. */
  static void string(StringBuilder b, String value) {
    b.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format(PLAIN, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
