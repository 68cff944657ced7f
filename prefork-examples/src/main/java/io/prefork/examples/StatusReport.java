package io.prefork.examples;

import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.SlotState;
import java.util.Locale;

/**
 * A {@link ServerStatus} as {@code ctl status} prints it: a table for people, or one JSON object
 * for scripts. The JSON's fields and their order are stable:
 *
 * <pre>{@code
 * {"masterPid":12345,"generation":1,"state":"RUNNING","listen":"127.0.0.1:6905",
 *  "children":[{"slot":0,"pid":12346,"state":"IDLE","calls":3,"generation":1,
 *               "millisInState":1200}, ...]}
 * }</pre>
 *
 * <p>{@code state} is the master's (STARTING, RUNNING, RESTARTING, STOPPING, FORCE_STOPPING);
 * {@code children} has one entry per worker slot in use, whose {@code state} is STARTING, IDLE,
 * BUSY or EXITING. An IPv6 {@code listen} address is in brackets.
 */
final class StatusReport {
  private StatusReport() {}

  /** A header line, then one line per worker. */
  static String table(ServerStatus s) {
    StringBuilder b = new StringBuilder(256);
    b.append(
        String.format(
            Locale.ROOT,
            "prefork at shm key %s: master pid %d, generation %d, %s, listening on %s,"
                + " %d children (%d idle, %d busy), %d calls%n",
            ShmKeys.toHex(s.shmKey()),
            s.masterPid(),
            s.generation(),
            s.masterState(),
            listen(s),
            s.children(),
            s.count(SlotState.IDLE),
            s.count(SlotState.BUSY),
            s.totalCalls()));
    String row = "%5s  %8s  %4s  %-8s  %8s  %8s%n";
    b.append(String.format(Locale.ROOT, row, "SLOT", "PID", "GEN", "STATE", "CALLS", "IN STATE"));
    for (WorkerStatus w : s.workers()) {
      b.append(
          String.format(
              Locale.ROOT,
              row,
              w.slot(),
              w.pid(),
              w.generation(),
              w.state(),
              w.calls(),
              duration(w.millisInState())));
    }
    return b.toString();
  }

  /** One JSON object on one line, fields in the order documented above. */
  static String json(ServerStatus s) {
    StringBuilder b = new StringBuilder(256);
    b.append("{\"masterPid\":").append(s.masterPid());
    b.append(",\"generation\":").append(s.generation());
    b.append(",\"state\":");
    string(b, s.masterState().name());
    b.append(",\"listen\":");
    string(b, listen(s));
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
      b.append('}');
    }
    return b.append("]}").toString();
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
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
