package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

import io.prefork.core.internal.os.Posix;
import io.prefork.shm.SlotSnapshot;
import io.prefork.shm.SlotState;
import io.prefork.shm.TableReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults injected while real clients keep a server busy on 127.0.0.1. Every scenario counts the
 * requests its load clients made and how many failed, and appends the figures to {@code
 * target/reliability-figures.md} (the source of docs/reliability.md).
 *
 * <p>Scale with {@code -Dprefork.fault.restarts=10 -Dprefork.fault.idleKills=50} (kills of children
 * under load, whatever they are doing); the defaults are the figures and run in about a
 * minute and a half.
 */
@Tag("fault")
class FaultInjectionTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  static final int RESTARTS = Integer.getInteger("prefork.fault.restarts", 10);
  static final int IDLE_KILLS = Integer.getInteger("prefork.fault.idleKills", 50);
  static final int BUSY_KILLS = Integer.getInteger("prefork.fault.busyKills", 5);

  @Test
  void restartsUnderLoadFailNoRequest() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).minChildren(3).maxChildren(6));
    LoadClient load = LoadClient.start(server.port(), 3, 2);
    try (ControlHandle control = server.control()) {
      for (int i = 1; i <= RESTARTS; i++) {
        long generation = i + 1;
        long restarts = i;
        control.restart();
        waitUntil(
            () -> {
              ServerStatus s = control.status();
              return s.restarts() == restarts
                  && s.workers().stream().allMatch(w -> w.generation() == generation);
            },
            "restart " + i + " complete");
      }
    } finally {
      load.stop();
    }
    record(RESTARTS + " restarts (3 children, 3 clients)", load, 0);
    assertEquals(0, load.failed(), "failures: " + load.failures());
  }

  /**
   * kill -9 of children under load, whatever each is doing. A child's connections die with it: the
   * one its worker serves (its slot BUSY just before the kill, or accepted since: its call count
   * went up), and, for a worker blocked in {@code accept()}, possibly one more: the kernel wakes
   * the killed thread, and before it dies it takes a connection that arrived meanwhile off the
   * queue ({@code inet_csk_wait_for_connect} looks at the queue before it looks for a signal).
   * Every failed request must be such a connection: within a second of a kill, and no kill costing
   * more than its child held or could take.
   */
  @Test
  void killingChildrenUnderLoadFailsOnlyTheConnectionsTheyHeld() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).minChildren(6).maxChildren(8));
    LoadClient load = LoadClient.start(server.port(), 3, 5);
    List<long[]> kills = new ArrayList<>(); // {killed at, busy, accepted after the read, accepting}
    java.util.Set<Long> killed = new java.util.HashSet<>();
    try (ControlHandle control = server.control();
        TableReader table = TableReader.attach(server.shmKey())) {
      while (kills.size() < IDLE_KILLS) {
        Optional<WorkerStatus> victim = victim(control, killed);
        if (victim.isEmpty()) {
          Thread.sleep(20); // until a child is old enough: a poll interval, not a wait for an event
          continue;
        }
        int pid = victim.get().pid();
        int slot = victim.get().slot();
        // What the child holds, read from its slot just before the kill.
        SlotSnapshot before = table.readSlot(slot);
        if (before.pid() != pid) {
          continue; // gone meanwhile
        }
        long killedAt = System.nanoTime();
        Posix.kill(pid, Posix.SIGKILL);
        SlotSnapshot last = before;
        while (isAlive(pid)) {
          SlotSnapshot now = table.readSlot(slot);
          if (now.pid() != pid) {
            break; // reaped and released by the master
          }
          last = now;
        }
        // One kill at a time: the next victim is chosen once the master has reaped this one.
        waitUntil(() -> table.readSlot(slot).pid() != pid, "the master reaped pid " + pid);
        kills.add(
            new long[] {
              killedAt,
              before.state() == SlotState.BUSY ? 1 : 0,
              Math.max(0, last.calls() - before.calls()),
              before.state() == SlotState.IDLE ? 1 : 0
            });
        killed.add((long) pid);
      }
      waitUntil(() -> control.status().count(SlotState.IDLE) >= 3, "the pool refilled");
    } finally {
      load.stop();
    }
    long busy = kills.stream().mapToLong(k -> k[1]).sum();
    long acceptedAfter = kills.stream().mapToLong(k -> k[2]).sum();
    long accepting = kills.stream().mapToLong(k -> k[3]).sum();
    // Each failure belongs to the last kill before it, which must have been less than 1 s earlier.
    long[] cost = new long[kills.size()];
    for (long failedAt : load.failureTimes()) {
      int k = kills.size() - 1;
      while (k >= 0 && kills.get(k)[0] > failedAt) {
        k--;
      }
      assertTrue(
          k >= 0 && failedAt - kills.get(k)[0] < 1_000_000_000L,
          "a request failed with no kill in the second before it: " + load.failures());
      cost[k]++;
    }
    for (int k = 0; k < kills.size(); k++) {
      long held = kills.get(k)[1] + kills.get(k)[2] + kills.get(k)[3];
      assertTrue(
          cost[k] <= held,
          "kill "
              + (k + 1)
              + " cost "
              + cost[k]
              + " requests, more than the "
              + held
              + " its child held or could take: "
              + load.failures());
    }
    record(
        kills.size()
            + " kill -9 of children under load, whatever they were doing (6 children, 3 clients):"
            + " "
            + busy
            + " were serving (and "
            + acceptedAfter
            + " accepted between the look and the kill), "
            + accepting
            + " were in accept(); each failure was one of their connections",
        load,
        (int) (busy + acceptedAfter + accepting));
    assertTrue(load.succeeded() > 1_000, "real load: " + load.succeeded() + " requests");
  }

  /** Alive and not a zombie (a killed child is a zombie until its master reaps it). */
  private static boolean isAlive(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException gone) {
      return false;
    }
  }

  /**
   * A child that served a while (its death is not a crash loop's quick death, which would hold
   * respawning back), accepting or serving, with others accepting too.
   */
  private static Optional<WorkerStatus> victim(ControlHandle control, java.util.Set<Long> killed) {
    ServerStatus s = control.status();
    if (s.count(SlotState.IDLE) < 3) {
      return Optional.empty();
    }
    List<WorkerStatus> candidates =
        s.workers().stream()
            .filter(w -> w.state() == SlotState.IDLE || w.state() == SlotState.BUSY)
            .filter(w -> w.ageMillis() > 5_000)
            .filter(w -> !killed.contains((long) w.pid()))
            .toList();
    return candidates.isEmpty()
        ? Optional.empty()
        : Optional.of(
            candidates.get(
                java.util.concurrent.ThreadLocalRandom.current().nextInt(candidates.size())));
  }

  @Test
  void killingBusyChildrenFailsOnlyTheirConnections() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).minChildren(3).maxChildren(6));
    LoadClient load = LoadClient.start(server.port(), 2, 2);
    int victimsCut = 0;
    try (ControlHandle control = server.control()) {
      for (int i = 0; i < BUSY_KILLS; i++) {
        try (Client victim = new Client(server.port())) {
          victim.write("sleep 30000");
          waitUntil(
              () -> control.status().workers().stream().anyMatch(FaultInjectionTest::longBusy),
              "a child busy with the victim");
          WorkerStatus busy =
              control.status().workers().stream()
                  .filter(FaultInjectionTest::longBusy)
                  .findFirst()
                  .orElseThrow();
          signal(busy.pid(), "KILL");
          String answer;
          try {
            answer = victim.readLine();
          } catch (IOException reset) {
            answer = null;
          }
          assertNull(answer, "the victim's connection fails");
          victimsCut++;
        }
      }
    } finally {
      load.stop();
    }
    record(
        BUSY_KILLS
            + " kill -9 of busy children (3 children, 2 clients; the "
            + victimsCut
            + " held connections failed as expected)",
        load,
        0);
    assertEquals(0, load.failed(), "failures: " + load.failures());
  }

  private static boolean longBusy(WorkerStatus w) {
    return w.state() == SlotState.BUSY && w.millisInState() > 500;
  }

  @Test
  void recyclingEveryHundredCallsUnderLoadFailsNoRequest() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(3)
                .maxChildren(6)
                .maxCallsPerChild(100)
                .recycleJitter(10));
    LoadClient load = LoadClient.start(server.port(), 3, 2);
    long recycled;
    try (ControlHandle control = server.control()) {
      waitUntil(() -> control.status().spawns() >= 13, "ten children recycled");
      recycled = control.status().spawns() - 3;
    } finally {
      load.stop();
    }
    record(
        "recycling every 100 (+0..10) calls: "
            + recycled
            + " children replaced (3 children, 3 clients)",
        load,
        0);
    assertEquals(0, load.failed(), "failures: " + load.failures());
  }

  @Test
  void misbehavingJobsCostOnlyTheirOwnChild() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(3)
                .maxChildren(6)
                .jobTimeout(Duration.ofSeconds(1))
                .childJvmOptions(List.of("-Xmx24m")));
    LoadClient load = LoadClient.start(server.port(), 2, 2);
    List<String> outcomes = new ArrayList<>();
    try (ControlHandle control = server.control()) {
      for (String bad : List.of("throw", "exit", "oom", "sleep 600000")) {
        List<Integer> pidsBefore = pids(control.status());
        String answer;
        try (Client c = new Client(server.port())) {
          c.write(bad);
          try {
            answer = c.readLine();
          } catch (IOException reset) {
            answer = null;
          }
        }
        assertNull(answer, bad + " got an answer");
        boolean replaced = !bad.equals("throw");
        if (replaced) {
          // The child that served it is gone and the pool is back at its floor. (Not "one more
          // spawn": the spare policy may have grown the pool just before, and then losing one
          // child needs no replacement.)
          waitUntil(
              () -> {
                ServerStatus s = control.status();
                return !pids(s).containsAll(pidsBefore) && s.children() >= 3;
              },
              "a child replaced after " + bad);
        }
        waitUntil(() -> control.status().count(SlotState.IDLE) >= 2, "serving after " + bad);
        outcomes.add(
            bad + (replaced ? ": its child was replaced" : ": connection closed, child lived on"));
      }
    } finally {
      load.stop();
    }
    record(
        "jobs that throw, System.exit, run out of heap, never return ("
            + String.join("; ", outcomes)
            + ")",
        load,
        0);
    assertEquals(0, load.failed(), "failures: " + load.failures());
  }

  @Test
  void abusiveClientsHoldNoChildPastTheReadTimeout() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(4)
                .maxChildren(6)
                .readTimeout(Duration.ofSeconds(1)));
    LoadClient load = LoadClient.start(server.port(), 2, 2);
    List<Thread> abusers = new ArrayList<>();
    try (ControlHandle control = server.control()) {
      for (int i = 0; i < 3; i++) {
        abusers.add(abuse(server.port(), FaultInjectionTest::silent));
        abusers.add(abuse(server.port(), FaultInjectionTest::trickle));
        abusers.add(abuse(server.port(), FaultInjectionTest::garbage));
      }
      for (int i = 0; i < 20; i++) {
        try (Socket s = connect(server.port())) {
          // connect and close at once
        }
      }
      Thread.sleep(2_500); // read timeout 1 s, plus a margin
      ServerStatus s = control.status();
      List<WorkerStatus> held =
          s.workers().stream()
              .filter(w -> w.state() == SlotState.BUSY && w.millisInState() > 1_500)
              .toList();
      assertEquals(List.of(), held, "workers held past the read timeout");
    } finally {
      for (Thread t : abusers) {
        t.interrupt();
        t.join(5_000);
      }
      load.stop();
    }
    assertEquals(
        List.of(),
        abusers.stream().filter(Thread::isAlive).toList(),
        "abusive clients still running after the test");
    record(
        "abusive clients: 3 silent, 3 sending a byte every 200 ms, 3 sending 1 MB of garbage, 20 closing at once (read timeout 1 s)",
        load,
        0);
    assertEquals(0, load.failed(), "failures: " + load.failures());
  }

  private interface Abuse {
    void run(Socket s) throws Exception;
  }

  private static Thread abuse(int port, Abuse abuse) {
    Thread t =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                try (Socket s = connect(port)) {
                  abuse.run(s);
                } catch (InterruptedException e) {
                  // Asked to stop while sleeping. Catching it below would clear the flag and
                  // keep this thread connecting for the rest of the run, to whichever later
                  // test's server gets the same ephemeral port (seen: its workers all busy).
                  return;
                } catch (Exception e) {
                  // the server cut us: that is the point; come back
                }
              }
            });
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void silent(Socket s) throws Exception {
    s.getInputStream().read();
  }

  private static void trickle(Socket s) throws Exception {
    OutputStream out = s.getOutputStream();
    while (true) {
      out.write('x');
      out.flush();
      Thread.sleep(200);
    }
  }

  private static void garbage(Socket s) throws Exception {
    OutputStream out = s.getOutputStream();
    byte[] junk = new byte[64 * 1024];
    new java.util.Random(7).nextBytes(junk);
    for (int i = 0; i < junk.length; i++) {
      junk[i] = junk[i] == '\n' ? (byte) 'x' : junk[i]; // one endless line
    }
    for (int i = 0; i < 16; i++) {
      out.write(junk);
    }
    out.flush();
    InputStream in = s.getInputStream();
    while (in.read() >= 0) {
      // until the server closes
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    s.setSoTimeout(10_000);
    return s;
  }

  private static void signal(long pid, String name) throws Exception {
    int signal =
        switch (name) {
          case "KILL" -> Posix.SIGKILL;
          default -> throw new IllegalArgumentException(name);
        };
    Posix.kill((int) pid, signal);
  }

  private static synchronized void record(String scenario, LoadClient load, int expectedFailures)
      throws IOException {
    String line =
        "| "
            + scenario
            + " | "
            + (load.succeeded() + load.failed())
            + " | "
            + load.failed()
            + " |\n";
    System.out.print("reliability: " + line);
    Path figures = Path.of("target", "reliability-figures.md");
    Files.writeString(
        figures,
        line,
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  private static List<Integer> pids(ServerStatus status) {
    return status.workers().stream().map(WorkerStatus::pid).distinct().toList();
  }
}
