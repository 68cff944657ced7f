package io.prefork.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The children's warm-up, on real children and connections: a child serves its job's warm-up
 * request the number of times asked before it accepts a real connection, the table does not count
 * those, a job that fails on its warm-up still serves, and a warm-up ends at its deadline.
 */
class WarmUpTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  private PreforkServer.Builder oneChild(int connections, Duration atMost, String request) {
    return cleanup
        .builder(WarmUpJob.class)
        .minChildren(1)
        .maxChildren(1)
        .threadsPerChild(4)
        .childJvmOptions(List.of("-Dwarmup.request=" + request))
        .warmUp(connections, atMost);
  }

  @Test
  void aChildServesItsWarmUpBeforeItsFirstConnectionAndTheTableDoesNotCountIt() throws Exception {
    PreforkServer server = cleanup.start(oneChild(200, Duration.ofSeconds(30), "warm"));
    assertEquals("200", Client.ask(server.port(), "count"), "all 200, before the first accept");
    try (ControlHandle control = server.control()) {
      ServerLifecycleTest.waitUntil(
          () -> control.status().totalCalls() == 1, "one call in the table: the real one");
    }
  }

  @Test
  void aReplacementDoesNotWarmUpWhileConnectionsWait() throws Exception {
    PreforkServer server =
        cleanup.start(
            oneChild(50, Duration.ofSeconds(30), "warm").threadsPerChild(2).minThreadsPerChild(2));
    assertEquals("50", Client.ask(server.port(), "count"), "the first child warmed up");
    try (ControlHandle control = server.control();
        Client held1 = new Client(server.port());
        Client held2 = new Client(server.port())) {
      held1.write("hold");
      held2.write("hold");
      ServerLifecycleTest.waitUntil(
          () -> control.status().count(io.prefork.shm.SlotState.BUSY) == 2, "both workers held");
      try (Client queued = new Client(server.port())) {
        ServerLifecycleTest.waitUntil(
            () -> control.status().listenQueue() >= 1, "a connection in the kernel's queue");
        control.restart();
        // The replacement finds a connection waiting: it accepts at once, without a warm-up.
        assertEquals("0", queued.send("count"), "served by the replacement, cold");
      }
    }
  }

  @Test
  void noWarmUpWhenAskedForNone() throws Exception {
    PreforkServer server = cleanup.start(oneChild(0, Duration.ofSeconds(2), "warm"));
    assertEquals("0", Client.ask(server.port(), "count"));
  }

  @Test
  void aJobThatFailsOnItsWarmUpStillServes() throws Exception {
    PreforkServer server = cleanup.start(oneChild(200, Duration.ofSeconds(30), "boom"));
    assertEquals("0", Client.ask(server.port(), "count"), "the warm-up stopped; the child serves");
  }

  @Test
  void aWarmUpEndsAtItsDeadline() throws Exception {
    // 1,000,000 connections of 50 ms on 4 threads would take hours; 1 s is the bound.
    PreforkServer server = cleanup.start(oneChild(1_000_000, Duration.ofSeconds(1), "slow"));
    int served = Integer.parseInt(Client.ask(server.port(), "count"));
    assertTrue(served > 0 && served < 1_000, "warmed up for about 1 s: " + served);
  }

  @Test
  void badWarmUpsAreRefusedAtBuild() {
    IllegalArgumentException negative =
        assertThrows(
            IllegalArgumentException.class,
            () -> oneChild(-1, Duration.ofSeconds(2), "warm").build());
    assertTrue(negative.getMessage().contains("warmUp connections (-1)"), negative.getMessage());
    IllegalArgumentException tooLong =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                oneChild(10, Duration.ofSeconds(60), "warm")
                    .startTimeout(Duration.ofSeconds(30))
                    .build());
    assertTrue(
        tooLong.getMessage().contains("warmUp timeout (PT1M)")
            && tooLong.getMessage().contains("startTimeout (PT30S)"),
        tooLong.getMessage());
  }
}
