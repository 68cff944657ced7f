package io.prefork.core;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.ShmSegment;
import io.prefork.shm.SlotState;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ServerLifecycleTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void startsMinChildrenAllIdleAndCountsARequest() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class));
    try (ControlHandle control = server.control()) {
      ServerStatus status = control.status();
      assertEquals(2, status.workers().size());
      assertEquals(2, status.count(SlotState.IDLE), status.toString());
      assertEquals(ProcessHandle.current().pid(), status.masterPid());
      assertEquals(1, status.generation());
      assertEquals(server.port(), status.listenPort());

      assertEquals("pong", Client.ask(server.port(), "ping"));
      long pid = Long.parseLong(Client.ask(server.port(), "pid"));
      assertTrue(
          status.workers().stream().anyMatch(w -> w.pid() == pid),
          "served by a child of the table");

      waitUntil(() -> control.status().totalCalls() == 2, "2 calls counted");
      waitUntil(() -> control.status().count(SlotState.IDLE) == 2, "both idle again");
    }
    server.close();
    assertFalse(server.isRunning());
    assertTrue(ShmSegment.stat(server.shmKey()).isEmpty(), "segment removed");
  }

  static void waitUntil(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }

  interface Check {
    boolean ok() throws Exception;
  }
}
