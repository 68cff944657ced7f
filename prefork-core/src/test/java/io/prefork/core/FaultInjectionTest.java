package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

import io.prefork.core.internal.os.Posix;
import io.prefork.shm.SlotState;
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
 * <p>Scale with {@code -Dprefork.fault.restarts=10 -Dprefork.fault.idleKills=50}; the defaults are
 * the figures and run in about a minute and a half.
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

  @Test
  void killingIdleChildrenUnderLoadFailsNoRequest() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).minChildren(6).maxChildren(8));
    LoadClient load = LoadClient.start(server.port(), 3, 5);
    int kills = 0;
    java.util.Set<Long> killed = new java.util.HashSet<>();
    try (ControlHandle control = server.control()) {
      while (kills < IDLE_KILLS) {
        Optional<WorkerStatus> victim = idleVictim(control, killed);
        if (victim.isEmpty()) {
          Thread.sleep(20);
          continue;
        }
        long pid = victim.get().pid();
        // Freeze it, then look at its descriptors: a frozen child holding no connection (only
        // the listener and the JVM's own unix sockets) loses nothing when killed. One that was
        // just handed a connection is thawed and left alone.
        signal(pid, "STOP");
        if (awaitStopped(pid) && holdsNoConnection(pid, server.port())) {
          signal(pid, "KILL");
          killed.add(pid);
          kills++;
        } else {
          signal(pid, "CONT");
        }
      }
      waitUntil(() -> control.status().count(SlotState.IDLE) >= 3, "the pool refilled");
    } finally {
      load.stop();
    }
    record(kills + " kill -9 of idle children (6 children, 3 clients)", load, 0);
    assertEquals(0, load.failed(), "failures: " + load.failures());
  }

  private static boolean awaitStopped(long pid) throws Exception {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    for (int i = 0; i < 200; i++) {
      try {
        String state = Files.readString(stat).split("\\) ")[1].substring(0, 1);
        if (state.equals("T")) {
          return true;
        }
      } catch (IOException gone) {
        return false;
      }
      Thread.sleep(1);
    }
    return false;
  }

  /** Only the listening TCP socket among the process's sockets (others are unix sockets). */
  private static boolean holdsNoConnection(long pid, int port) throws Exception {
    String listener = "socket:[" + ServerLifecycleTest.listeningSocketInode(port) + "]";
    java.util.Set<String> unix = ServerLifecycleTest.unixSocketInodes();
    for (String link : FdLinks.of(pid)) {
      if (link.startsWith("socket:[")
          && !link.equals(listener)
          && !unix.contains(link.substring(8, link.length() - 1))) {
        return false;
      }
    }
    return true;
  }

  /** A child that served a while (not in a crash loop) and sits idle, with others idle too. */
  private static Optional<WorkerStatus> idleVictim(
      ControlHandle control, java.util.Set<Long> killed) {
    ServerStatus s = control.status();
    if (s.count(SlotState.IDLE) < 3) {
      return Optional.empty();
    }
    // Old enough to have served for seconds: a kill of it is not a crash loop's quick death.
    List<WorkerStatus> candidates =
        s.workers().stream()
            .filter(w -> w.state() == SlotState.IDLE && w.ageMillis() > 5_000)
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
          case "STOP" -> 19;
          case "CONT" -> 18;
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
