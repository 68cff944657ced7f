package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.internal.os.CpuBusy;
import io.prefork.core.internal.os.CpuTimes;
import io.prefork.shm.MasterState;
import io.prefork.shm.SlotState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A restart while the machine's cores are busy, on real children: the replacement accepts on one
 * thread first and on more as its slow start runs, the old child serves until the slow start is
 * over, and the restart then completes with the replacement accepting on all its threads. (With
 * idle cores there is no slow start: every other restart test shows it, within waitUntil's 20 s.)
 */
class SlowStartTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  private static final Duration SLOW_START = Duration.ofSeconds(3);

  @Test
  void aReplacementUnderBusyCoresRampsUpWhileTheChildItReplacesServes() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(2)
                .threadsPerChild(4)
                .minThreadsPerChild(4)
                .slowStart(SLOW_START));
    AtomicBoolean spin = new AtomicBoolean(true);
    List<Thread> spinners = new ArrayList<>();
    try (ControlHandle control = server.control()) {
      waitUntil(() -> control.status().count(SlotState.IDLE) == 4, "the first child accepts");
      // Every core busy, as under a CPU-bound load: the master measures it over 500 ms.
      for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
        Thread t = new Thread(() -> burn(spin), "spinner-" + i);
        t.setDaemon(true);
        t.start();
        spinners.add(t);
      }
      CpuBusy cores = new CpuBusy(CpuTimes::machine, System::nanoTime);
      cores.fraction();
      Thread.sleep(1_500);
      double busy = cores.fraction();
      // Where the JVM sees fewer cores than /proc/stat counts (a CPU quota), they cannot be filled.
      Assumptions.assumeTrue(
          busy >= CpuBusy.SATURATED, "the spinners made the cores only " + busy + " busy");
      control.restart();
      waitUntil(() -> accepting(control.status(), 2) > 0, "the replacement accepts");
      long readyAt = System.nanoTime();
      ServerStatus ramping = control.status();
      long first = accepting(ramping, 2);
      assertTrue(first >= 1 && first < 4, "one thread first, not all: " + ramping.workers());
      assertEquals(4 - first, count(ramping, 2, SlotState.PARKED), "the others parked");
      assertEquals(4, accepting(ramping, 1), "the old child still serves: " + ramping.workers());
      assertEquals("pong", Client.ask(server.port(), "ping"), "served during the slow start");
      waitUntil(() -> count(control.status(), 1, null) == 0, "the old child is gone");
      long oldGoneAfter = System.nanoTime() - readyAt;
      assertTrue(
          oldGoneAfter >= SLOW_START.toNanos() * 8 / 10,
          "the old child left "
              + TimeUnit.NANOSECONDS.toMillis(oldGoneAfter)
              + " ms after its replacement accepted, before the slow start of "
              + SLOW_START.toMillis()
              + " ms was over");
      waitUntil(
          () -> control.status().masterState() == MasterState.RUNNING, "the restart completes");
      assertEquals(4, accepting(control.status(), 2), "every thread accepts after the ramp");
      assertEquals(2, Long.parseLong(Client.ask(server.port(), "gen")));
    } finally {
      spin.set(false);
      for (Thread t : spinners) {
        t.join(5_000);
      }
    }
  }

  /** Workers of a generation in a state (null: in any state). */
  private static long count(ServerStatus status, long generation, SlotState state) {
    return status.workers().stream()
        .filter(w -> w.pid() > 0 && w.state() != SlotState.UNUSED && w.generation() == generation)
        .filter(w -> state == null || w.state() == state)
        .count();
  }

  /** Workers of a generation accepting or serving. */
  private static long accepting(ServerStatus status, long generation) {
    return count(status, generation, SlotState.IDLE) + count(status, generation, SlotState.BUSY);
  }

  private static void burn(AtomicBoolean spin) {
    long x = 0;
    while (spin.get()) {
      x += System.nanoTime() % 7;
    }
    if (x == 42) {
      System.out.print(""); // keeps the loop from being optimised away
    }
  }
}
