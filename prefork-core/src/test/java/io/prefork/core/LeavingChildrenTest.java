package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.MasterState;
import io.prefork.shm.SlotState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Children asked to exit always go: a restart finishes though the job's close() hangs, and a hung
 * worker's child is replaced while its healthy siblings finish their requests.
 */
class LeavingChildrenTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void aRestartFinishesThoughTheJobsCloseHangs() throws Exception {
    Duration graceful = Duration.ofSeconds(2);
    PreforkServer server =
        cleanup.start(cleanup.builder(HangingCloseJob.class).gracefulTimeout(graceful));
    try (ControlHandle control = server.control()) {
      Set<Integer> old = pids(control.status());
      long restartsBefore = control.status().restarts();
      long asked = System.nanoTime();
      control.restart();
      waitUntil(
          () ->
              control.status().restarts() == restartsBefore + 1
                  && control.status().masterState() == MasterState.RUNNING,
          "the restart completes");
      long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
      // gracefulTimeout, the thread dump's second, and the replacements' start: well within 2 s
      // past the graceful timeout on an idle machine, more on a loaded one.
      assertTrue(took < graceful.toMillis() + 8_000, "the restart took " + took + " ms");
      for (int pid : old) {
        assertFalse(
            ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
            "old child " + pid + " is gone");
      }
      assertEquals("pong", Client.ask(server.port(), "ping"));
    }
  }

  @Test
  void aHungWorkersSiblingsFinishTheirRequestsAndItsChildIsReplaced() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(2)
                .threadsPerChild(4)
                .jobTimeout(Duration.ofSeconds(2)));
    try (ControlHandle control = server.control();
        Client hung = new Client(server.port())) {
      hung.write("sleep 600000");
      waitUntil(() -> control.status().count(SlotState.BUSY) == 1, "the hung worker is busy");
      int child =
          control.status().workers().stream()
              .filter(w -> w.state() == SlotState.BUSY)
              .findFirst()
              .orElseThrow()
              .pid();
      // Three healthy requests, each shorter than the job timeout, in flight when the watchdog
      // finds the hung one (2 s after it began).
      Thread.sleep(1_200);
      List<CompletableFuture<String>> healthy = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        healthy.add(Background.supply(() -> ask(server.port(), "sleep 1500")));
      }
      waitUntil(() -> control.status().count(SlotState.BUSY) == 4, "four busy on one child");
      for (CompletableFuture<String> h : healthy) {
        assertEquals("slept 1500", h.get(20, TimeUnit.SECONDS), "a healthy sibling finished");
      }
      waitUntil(
          () -> !ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false),
          "the hung child is killed once its siblings are done");
      assertNull(hung.readLine(), "the hung connection is closed");
      waitUntil(
          () ->
              !pids(control.status()).contains(child)
                  && control.status().count(SlotState.IDLE) >= 4,
          "a replacement accepts");
      assertEquals("pong", Client.ask(server.port(), "ping"));
    }
  }

  @Test
  void aWaitDownWithADrainDelayWithdrawsReadinessFirstAndServesMeanwhile() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).drainDelay(Duration.ofSeconds(2)));
    try (ControlHandle control = server.control()) {
      Set<Integer> children = pids(control.status());
      long asked = System.nanoTime();
      control.waitDown();
      waitUntil(
          () -> control.status().masterState() == MasterState.STOPPING, "the master is stopping");
      // Not ready any more, but the children still accept during the drain.
      assertEquals("pong", Client.ask(server.port(), "ping"));
      for (int pid : children) {
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child serves");
      }
      assertTrue(server.awaitTermination(Duration.ofSeconds(20)), "the master stops after it");
      long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
      assertTrue(took >= 2_000, "stopped after " + took + " ms, before the drain delay ended");
    }
  }

  private static String ask(int port, String request) {
    try {
      return Client.ask(port, request);
    } catch (Exception e) {
      return e.toString();
    }
  }

  private static Set<Integer> pids(ServerStatus status) {
    return status.workers().stream()
        .map(WorkerStatus::pid)
        .filter(p -> p > 0)
        .collect(Collectors.toSet());
  }
}
