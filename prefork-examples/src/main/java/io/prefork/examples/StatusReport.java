package io.prefork.examples;

import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.SlotState;
import java.util.Locale;

/**
 * A {@link ServerStatus} as {@code ctl status} prints it: a scoreboard for people, or one JSON
 * object for scripts ({@link ServerStatus#toJson()}, the same object the master's HTTP endpoint
 * serves at {@code /status.json}; its fields and their order are stable, new fields are only ever
 * appended).
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
            "workers  %d idle  %d busy  %d parked  %d starting  %d total  (%d children of %d..%d, %d"
                + " thread%s each)%n",
            count(s, SlotState.IDLE),
            count(s, SlotState.BUSY),
            count(s, SlotState.PARKED),
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
    if (s.masterRssBytes() > 0) {
      b.append(
          String.format(
              PLAIN,
              "memory   %s master  %s children (resident, as ps shows it)%n",
              megabytes(s.masterRssBytes()),
              megabytes(s.childrenRssBytes())));
    }
    if (s.lastPoolDecision().atMillis() > 0) {
      b.append(
          String.format(
              PLAIN,
              "pool     %s, %s ago%n",
              s.lastPoolDecision().describe(),
              duration(Math.max(0, s.takenAtMillis() - s.lastPoolDecision().atMillis()))));
    }
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

  /** Bytes as megabytes with one decimal: "61.9 MB". */
  static String megabytes(long bytes) {
    return String.format(PLAIN, "%.1f MB", bytes / (1024.0 * 1024.0));
  }

  /** One JSON object on one line: {@link ServerStatus#toJson()}, as the HTTP endpoint serves it. */
  static String json(ServerStatus s) {
    return s.toJson();
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
}
