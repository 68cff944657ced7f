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
  private StatusReport() {}

  /** A header, then one line per worker. */
  static String table(ServerStatus s) {
    StringBuilder b = new StringBuilder(512);
    b.append(
        String.format(
            Locale.ROOT,
            "prefork %s  master pid %d  up %s  generation %d  %s%n",
            ShmKeys.toHex(s.shmKey()),
            s.masterPid(),
            duration(s.uptimeMillis()),
            s.generation(),
            s.masterState()));
    b.append(
        String.format(
            Locale.ROOT,
            "listen   %s  queue %d/%d (waiting/backlog)%n",
            listen(s),
            s.listenQueue(),
            s.listenBacklog()));
    b.append(
        String.format(
            Locale.ROOT,
            "workers  %d idle  %d busy  %d starting  %d total  (%d children of %d..%d, %d"
                + " thread%s each)%n",
            s.count(SlotState.IDLE),
            s.count(SlotState.BUSY),
            s.count(SlotState.STARTING),
            s.workers().size(),
            s.children(),
            s.minChildren(),
            s.maxChildren(),
            s.threadsPerChild(),
            s.threadsPerChild() == 1 ? "" : "s"));
    b.append(
        String.format(
            Locale.ROOT,
            "calls    %d total  %.1f/s over the last %s%n",
            s.totalCalls(),
            s.callsPerSecond(),
            duration(s.rateIntervalMillis())));
    b.append(
        String.format(
            Locale.ROOT,
            "history  %d spawned  %d crashed  %d restarts%s%n",
            s.spawns(),
            s.crashes(),
            s.restarts(),
            s.spawnBackoffUntilMillis() > s.takenAtMillis()
                ? String.format(
                    Locale.ROOT,
                    "  crash-loop backoff: next spawn in %s",
                    duration(s.spawnBackoffUntilMillis() - s.takenAtMillis()))
                : ""));
    String row = "%5s  %8s  %4s  %-8s  %8s  %8s  %8s%n";
    b.append(
        String.format(Locale.ROOT, row, "SLOT", "PID", "GEN", "STATE", "CALLS", "IN STATE", "AGE"));
    for (WorkerStatus w : s.workers()) {
      b.append(
          String.format(
              Locale.ROOT,
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
    if (s.workers().stream().anyMatch(w -> w.exitRequest() != ExitRequest.NONE)) {
      b.append("* asked to exit after its connection\n");
    }
    return b.toString();
  }

  /** One JSON object on one line: {@link ServerStatus#toJson()}, as the HTTP endpoint serves it. */
  static String json(ServerStatus s) {
    return s.toJson();
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
}
