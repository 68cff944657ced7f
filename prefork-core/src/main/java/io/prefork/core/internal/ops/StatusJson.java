package io.prefork.core.internal.ops;

import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import io.prefork.shm.SlotState;
import java.util.Locale;

/**
 * The one JSON rendering of a {@link ServerStatus}: {@code ctl status --json}, the endpoint's
 * {@code /status.json} and {@link ServerStatus#toJson()} are this. Fields and their order are
 * stable; new fields are only appended.
 */
public final class StatusJson {
  /**
   * The locale of every number printed: none ({@code String.format((Locale) null, ...)}: ASCII
   * digits and '.', as {@code Locale.ROOT} prints, without loading a locale's number symbols, which
   * cost a ctl run 10-20 ms).
   */
  private static final Locale PLAIN = null;

  private StatusJson() {}

  /** Workers in this state: a loop, since a stream's first use costs a short-lived ctl ms. */
  private static long count(ServerStatus s, SlotState state) {
    long n = 0;
    for (WorkerStatus w : s.workers()) {
      if (w.state() == state) {
        n++;
      }
    }
    return n;
  }

  /** Child processes (distinct pids), with a loop. */
  private static long children(ServerStatus s) {
    java.util.Set<Integer> pids = new java.util.HashSet<>();
    for (WorkerStatus w : s.workers()) {
      if (w.pid() > 0) {
        pids.add(w.pid());
      }
    }
    return pids.size();
  }

  /** One JSON object on one line, fields in the order of {@link ServerStatus#toJson()}. */
  public static String of(ServerStatus s) {
    StringBuilder b = new StringBuilder(256 + 160 * s.workers().size());
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
    b.append(",\"parked\":").append(count(s, SlotState.PARKED));
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
    b.append(",\"poolDecision\":");
    string(b, s.lastPoolDecision().describe());
    b.append(",\"poolDecisionAtMillis\":").append(s.lastPoolDecision().atMillis());
    b.append(",\"masterRssBytes\":").append(s.masterRssBytes());
    b.append(",\"childrenRssBytes\":").append(s.childrenRssBytes());
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

  /** {@code address:port}, with an IPv6 address in brackets. */
  public static String listen(ServerStatus s) {
    String address = s.listenAddress();
    return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + s.listenPort();
  }

  /** Appends {@code value} as a JSON string. */
  public static void string(StringBuilder b, String value) {
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
