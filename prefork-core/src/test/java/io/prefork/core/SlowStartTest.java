package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.internal.os.CpuBusy;
import io.prefork.core.internal.os.CpuTimes;
import io.prefork.shm.MasterState;
import io.prefork.shm.SlotState;
import java.io.IOException;
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
 * over, and the restart then completes with the replacement accepting on all its threads. A
 * replacement that takes the place of a child already gone (a full pool) has no slow start. (With
 * idle cores, or a pool that serves nobody, there is none either: every other restart test shows
 * it, within waitUntil's 20 s.)
 */
class SlowStartTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  private static final Duration SLOW_START = Duration.ofSeconds(3);

  @Test
  void aReplacementUnderBusyCoresRampsUpWhileTheChildItReplacesServes() throws Exception {
    PreforkServer server = cleanup.start(pool(1, 2).slowStart(SLOW_START));
    try (ControlHandle control = server.control()) {
      waitUntil(() -> control.status().count(SlotState.IDLE) == 4, "the first child accepts");
      try (CpuBoundLoad load = CpuBoundLoad.start(server.port())) {
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
        waitUntil(() -> accepting(control.status(), 2) == 4, "every thread accepts after the ramp");
        assertEquals(2, Long.parseLong(Client.ask(server.port(), "gen")));
      }
    }
  }

  @Test
  void aReplacementInPlaceOfAChildAlreadyGoneTakesItsFullShareAtOnce() throws Exception {
    // A full pool: an old child leaves before its replacement can start, so nobody serves for it.
    PreforkServer server = cleanup.start(pool(2, 2).slowStart(Duration.ofMinutes(10)));
    try (ControlHandle control = server.control()) {
      waitUntil(() -> control.status().count(SlotState.IDLE) == 8, "both children accept");
      try (CpuBoundLoad load = CpuBoundLoad.start(server.port())) {
        control.restart();
        // A slow start of 10 minutes would keep three of the first replacement's four threads
        // parked, and the other old child serving, past 20 s.
        waitUntil(
            () -> accepting(control.status(), 2) == 8,
            "both replacements accept on every thread at once");
        waitUntil(
            () -> control.status().masterState() == MasterState.RUNNING, "the restart completes");
      }
    }
  }

  @Test
  void withBusyCoresButNoClientsAReplacementTakesItsFullShareAtOnce() throws Exception {
    // The cores may be busy with something else, or with the children's own start: nobody to spare.
    PreforkServer server = cleanup.start(pool(1, 2).slowStart(Duration.ofMinutes(10)));
    try (ControlHandle control = server.control()) {
      waitUntil(() -> control.status().count(SlotState.IDLE) == 4, "the first child accepts");
      try (CpuBoundLoad load = CpuBoundLoad.start(server.port(), false)) {
        control.restart();
        waitUntil(
            () ->
                control.status().masterState() == MasterState.RUNNING
                    && accepting(control.status(), 2) == 4,
            "the restart completes without a slow start");
      }
    }
  }

  /** Children of 4 threads that all accept. */
  private PreforkServer.Builder pool(int minChildren, int maxChildren) {
    return cleanup
        .builder(TestJob.class)
        .minChildren(minChildren)
        .maxChildren(maxChildren)
        .threadsPerChild(4)
        .minThreadsPerChild(4);
  }

  /** Workers of a generation in a state (null: in any state but unused). */
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

  /**
   * A CPU-bound load until closed: a thread spinning on every core, and a client asking the server
   * every 50 ms (a pool that serves nobody has no clients for a slow start to spare).
   */
  private static final class CpuBoundLoad implements AutoCloseable {
    private final AtomicBoolean spin = new AtomicBoolean(true);
    private final List<Thread> spinners = new ArrayList<>();

    static CpuBoundLoad start(int port) throws InterruptedException {
      return start(port, true);
    }

    /** Busy cores; with {@code clients} false, nobody asks the server anything. */
    static CpuBoundLoad start(int port, boolean clients) throws InterruptedException {
      CpuBoundLoad busy = new CpuBoundLoad();
      for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
        Thread t = new Thread(busy::burn, "spinner-" + i);
        t.setDaemon(true);
        t.start();
        busy.spinners.add(t);
      }
      if (clients) {
        Thread client = new Thread(() -> busy.ask(port), "client");
        client.setDaemon(true);
        client.start();
        busy.spinners.add(client);
      }
      // The master measures the cores over 500 ms: three intervals.
      CpuBusy cores = new CpuBusy(CpuTimes::machine, System::nanoTime);
      cores.fraction();
      Thread.sleep(1_500);
      double fraction = cores.fraction();
      if (fraction < CpuBusy.SATURATED) {
        busy.close();
        // Where the JVM sees fewer cores than /proc/stat counts (a CPU quota), they cannot fill.
        Assumptions.abort("the spinners made the cores only " + fraction + " busy");
      }
      return busy;
    }

    private void ask(int port) {
      while (spin.get()) {
        try {
          Client.ask(port, "ping");
          Thread.sleep(50);
        } catch (IOException e) {
          // a connection lost to a child leaving: the next one goes to another
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private void burn() {
      long x = 0;
      while (spin.get()) {
        x += System.nanoTime() % 7;
      }
      if (x == 42) {
        System.out.print(""); // keeps the loop from being optimised away
      }
    }

    @Override
    public void close() throws InterruptedException {
      spin.set(false);
      for (Thread t : spinners) {
        t.join(5_000);
      }
    }
  }
}
