package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.ControlHandle;
import io.prefork.core.PreforkServer;
import io.prefork.core.ServerCleanup;
import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code ctl status}'s two renderings, of a real server's status. */
class StatusReportTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void rendersARealServerAsJsonAndAsATable() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(HelloHttpJob.class));
    ServerStatus status;
    try (ControlHandle control = server.control()) {
      // The resident memory is published once a second: wait for the children's JVMs to count.
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (control.status().childrenRssBytes() <= 2 * (8 << 20)) {
        assertTrue(System.nanoTime() < deadline, "no children's RSS in 20 s: " + control.status());
        Thread.sleep(50);
      }
      status = control.status();
    }
    List<WorkerStatus> w = status.workers();
    assertEquals(2, w.size());

    String json = StatusReport.json(status);
    String head =
        String.format(
            "{\"masterPid\":%d,\"generation\":1,\"state\":\"RUNNING\",\"listen\":\"127.0.0.1:%d\","
                + "\"uptimeMillis\":%d,\"heartbeatAgeMillis\":%d,"
                + "\"workers\":{\"idle\":2,\"busy\":0,\"parked\":0,\"starting\":0,\"exiting\":0,\"total\":2},"
                + "\"childCount\":2,\"minChildren\":2,\"maxChildren\":3,\"threadsPerChild\":1,"
                + "\"totalCalls\":0,\"callsPerSecond\":0.000,\"rateIntervalMillis\":%d,"
                + "\"spawns\":2,\"crashes\":0,\"restarts\":0,\"spawnBackoffUntilMillis\":0,"
                + "\"listenQueue\":0,\"listenBacklog\":511,"
                + "\"poolDecision\":\"grew by 2: 0 idle, queue 0\",\"poolDecisionAtMillis\":%d,"
                + "\"masterRssBytes\":%d,\"childrenRssBytes\":%d,"
                + "\"children\":[",
            server.pid(),
            server.port(),
            status.uptimeMillis(),
            status.heartbeatAgeMillis(),
            status.rateIntervalMillis(),
            status.lastPoolDecision().atMillis(),
            status.masterRssBytes(),
            status.childrenRssBytes());
    assertTrue(status.masterRssBytes() > 8 << 20, "master RSS " + status.masterRssBytes());
    assertEquals(head + worker(w.get(0)) + "," + worker(w.get(1)) + "]}", json);

    List<String> table = StatusReport.table(status).lines().toList();
    assertEquals(10, table.size(), String.join("\n", table));
    assertTrue(table.get(0).contains("master pid " + server.pid()), table.get(0));
    assertTrue(table.get(0).contains("generation 1  RUNNING"), table.get(0));
    assertTrue(table.get(1).contains("listen   127.0.0.1:" + server.port()), table.get(1));
    assertTrue(table.get(1).contains("queue 0/511"), table.get(1));
    assertTrue(
        table.get(2).contains("2 idle  0 busy  0 parked  0 starting  2 total"), table.get(2));
    assertTrue(table.get(2).contains("2 children of 2..3"), table.get(2));
    assertTrue(table.get(3).contains("0 total"), table.get(3));
    assertTrue(table.get(4).contains("2 spawned  0 crashed  0 restarts"), table.get(4));
    assertTrue(
        table.get(5).matches("memory   [0-9.]+ MB master  [0-9.]+ MB children .*"), table.get(5));
    assertTrue(table.get(6).startsWith("pool     grew by 2: 0 idle, queue 0, "), table.get(6));
    for (int i = 0; i < 2; i++) {
      assertTrue(table.get(8 + i).contains(" " + w.get(i).pid() + " "), table.get(8 + i));
      assertTrue(table.get(8 + i).contains(" IDLE "), table.get(8 + i));
    }
  }

  @Test
  void printsDurationsShortly() {
    assertEquals("0.3s", StatusReport.duration(345));
    assertEquals("12.5s", StatusReport.duration(12_500));
    assertEquals("3m05s", StatusReport.duration(185_000));
    assertEquals("2h07m", StatusReport.duration(7_620_000));
    assertEquals("3d04h", StatusReport.duration(273_600_000));
  }

  private static String worker(WorkerStatus w) {
    return String.format(
        "{\"slot\":%d,\"pid\":%d,\"state\":\"IDLE\",\"calls\":0,\"generation\":1,"
            + "\"millisInState\":%d,\"ageMillis\":%d,\"workerIndex\":0,\"exitRequest\":\"NONE\"}",
        w.slot(), w.pid(), w.millisInState(), w.ageMillis());
  }
}
