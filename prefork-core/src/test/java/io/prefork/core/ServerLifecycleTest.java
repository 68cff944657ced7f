package io.prefork.core;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.ShmKeys;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.SlotState;
import io.prefork.shm.testing.JavaProcesses;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The runtime end to end: real child JVMs, real TCP clients, real shm. */
class ServerLifecycleTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();
  @RegisterExtension final JavaProcesses processes = new JavaProcesses();

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
      assertEquals("127.0.0.1", status.listenAddress());

      assertEquals("pong", Client.ask(server.port(), "ping"));
      long pid = Long.parseLong(Client.ask(server.port(), "pid"));
      assertTrue(
          status.workers().stream().anyMatch(w -> w.pid() == pid),
          "served by a child of the table");
      // The children's JVM options let the workers reach their sockets' descriptors.
      assertEquals("direct", Client.ask(server.port(), "io"));

      waitUntil(() -> control.status().totalCalls() == 3, "3 calls counted");
      waitUntil(() -> control.status().count(SlotState.IDLE) == 2, "both idle again");
    }
    server.close();
    assertFalse(server.isRunning());
    assertTrue(ShmSegment.stat(server.shmKey()).isEmpty(), "segment removed");
  }

  @Test
  void aKilledChildIsReplacedInItsSlotWithinASecond() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class));
    try (ControlHandle control = server.control()) {
      WorkerStatus victim = control.status().workers().get(0);
      long killedAt = System.nanoTime();
      assertTrue(ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly());
      waitUntil(
          () ->
              control.status().workers().stream()
                  .anyMatch(
                      w -> w.slot() == victim.slot() && w.pid() != victim.pid() && w.pid() > 0),
          "a new child in slot " + victim.slot());
      long millis = (System.nanoTime() - killedAt) / 1_000_000;
      assertTrue(millis < 1_000, "the slot was taken again after " + millis + " ms");
      waitUntil(() -> control.status().count(SlotState.IDLE) == 2, "two idle children again");
      assertEquals(1, control.status().crashes());
      assertEquals("pong", Client.ask(server.port(), "ping"));
    }
  }

  @Test
  void theMastersDeathTakesEveryChildWithinHalfASecondInAnyStateAndTheNextStartTakesOver(
      @TempDir Path tmp) throws Exception {
    int key = cleanup.newKey();
    Path marker = tmp.resolve("marker");
    Process master =
        processes.start(
            new ProcessBuilder(
                    JavaProcesses.command(
                        TestMaster.class.getName(),
                        ShmKeys.toHex(key),
                        "2",
                        "3",
                        "job=" + MarkerJob.class.getName(),
                        "childJvmOption=-Dprefork.test.marker=" + marker))
                .redirectError(ProcessBuilder.Redirect.INHERIT));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(master.getInputStream(), StandardCharsets.UTF_8));
    String ready = out.readLine();
    assertNotNull(ready);
    assertTrue(ready.startsWith("READY "), ready);
    int port = Integer.parseInt(ready.split(" ")[1]);
    List<ProcessHandle> children;
    try (ControlHandle control = ControlHandle.attach(key);
        Client busy = new Client(port)) {
      // One child serving a connection, one idle, one still in its job's open(), which hangs.
      busy.write("hold");
      waitUntil(() -> control.status().count(SlotState.BUSY) == 1, "a busy child");
      Files.writeString(marker, "hang");
      assertEquals(
          0, new ProcessBuilder("kill", "-TTIN", Long.toString(master.pid())).start().waitFor());
      waitUntil(
          () -> {
            for (WorkerStatus w : control.status().workers()) {
              if (w.state() == SlotState.STARTING && w.pid() > 0 && opening(w.pid())) {
                return true;
              }
            }
            return false;
          },
          "a third child inside its job's open()");
      children =
          control.status().workers().stream()
              .map(w -> ProcessHandle.of(w.pid()).orElseThrow())
              .toList();
      assertEquals(3, children.size());
      long killedAt = System.nanoTime();
      master.destroyForcibly(); // SIGKILL: no chance to clean up
      for (ProcessHandle child : children) {
        while (running(child)) {
          assertTrue(
              System.nanoTime() - killedAt < TimeUnit.MILLISECONDS.toNanos(500),
              "child " + child.pid() + " outlived its master by 0.5 s");
          Thread.sleep(1);
        }
      }
      System.out.printf(
          "every child gone %.1f ms after the master's SIGKILL%n",
          (System.nanoTime() - killedAt) / 1e6);
    }
    assertTrue(master.waitFor(5, TimeUnit.SECONDS));
    assertTrue(ShmSegment.stat(key).isPresent(), "a killed master leaves its table behind");
    Files.delete(marker);
    PreforkServer next = cleanup.start(cleanup.builder(TestJob.class).shmKey(key));
    assertEquals("pong", Client.ask(next.port(), "ping"));
  }

  /** The child's main thread is inside MarkerJob.open (its "hang": a sleep), per its stack. */
  private static boolean opening(long pid) throws Exception {
    Process jstack =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jstack").toString(),
                Long.toString(pid))
            .redirectErrorStream(true)
            .start();
    String dump = new String(jstack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return jstack.waitFor(20, TimeUnit.SECONDS) && dump.contains("MarkerJob.open");
  }

  @Test
  void connectionsHeldOnEveryChildGrowThePoolToMaxChildrenAndNotBeyond() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).minChildren(2).maxChildren(3));
    List<Client> held = new java.util.ArrayList<>();
    try (ControlHandle control = server.control()) {
      for (int i = 0; i < 4; i++) {
        Client c = new Client(server.port());
        c.write("hold");
        held.add(c);
      }
      waitUntil(() -> control.status().count(SlotState.BUSY) == 3, "3 busy children");
      Thread.sleep(1_000); // several ticks with everyone busy and a connection waiting
      ServerStatus status = control.status();
      assertEquals(3, status.children(), status.toString());
      assertEquals(3, status.spawns(), "never more than maxChildren spawned");
      assertEquals(1, status.listenQueue(), "the fourth connection waits in the accept queue");
    } finally {
      for (Client c : held) {
        c.close();
      }
    }
  }

  @Test
  void forceDownWithAConnectionInFlightLeavesNothing() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class));
    Set<Long> pids = childPids(server);
    try (Client slow = new Client(server.port());
        ControlHandle control = server.control()) {
      slow.write("sleep 5000");
      waitUntil(() -> control.status().count(SlotState.BUSY) == 1, "a busy child");
      control.forceDown();
      assertTrue(server.awaitTermination(Duration.ofSeconds(2)), "stopped within 2 s");
      String answer;
      try {
        answer = slow.readLine();
      } catch (IOException reset) {
        answer = null;
      }
      assertNull(answer, "the connection in flight was cut, not answered");
    }
    assertTrue(ShmSegment.stat(server.shmKey()).isEmpty(), "segment removed");
    for (long pid : pids) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child " + pid);
    }
  }

  @Test
  void waitDownLetsTheSlowConnectionCompleteThenEverythingExits() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class));
    Set<Long> pids = childPids(server);
    try (Client slow = new Client(server.port());
        ControlHandle control = server.control()) {
      slow.write("sleep 1500");
      slow.write("ping"); // a second request already sent is served too
      waitUntil(() -> control.status().count(SlotState.BUSY) == 1, "a busy child");
      CompletableFuture<Boolean> down =
          Background.supply(() -> control.waitDown(Duration.ofSeconds(10)));
      assertEquals("slept 1500", slow.readLine(), "the connection in flight completes");
      assertEquals("pong", slow.readLine(), "with the request the client had sent");
      assertNull(slow.readLine(), "then the stopping child ends the idle conversation");
      assertTrue(down.get(15, TimeUnit.SECONDS), "the master is gone within the timeout");
    }
    assertTrue(server.awaitTermination(Duration.ofSeconds(5)));
    assertTrue(ShmSegment.stat(server.shmKey()).isEmpty(), "segment removed");
    for (long pid : pids) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child " + pid);
    }
  }

  @Test
  void aRestartUnderLoadDropsNoRequestAndEndsInTheNewGeneration() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class));
    LoadClient load = LoadClient.start(server.port(), 2);
    try (ControlHandle control = server.control()) {
      waitUntil(() -> load.succeeded() > 50, "load running");
      control.restart();
      waitUntil(
          () -> {
            ServerStatus s = control.status();
            return s.restarts() == 1 && s.workers().stream().allMatch(w -> w.generation() == 2);
          },
          "every child in generation 2");
      long before = load.succeeded();
      waitUntil(() -> load.succeeded() > before + 50, "the new generation serving");
    } finally {
      load.stop();
    }
    assertEquals(0, load.failed(), "failed requests: " + load.failures());
    assertTrue(load.succeeded() > 100, "requests: " + load.succeeded());
  }

  @Test
  void aSecondServerOnTheSamePortFailsClearlyAndTouchesNothing() throws Exception {
    PreforkServer first = cleanup.start(cleanup.builder(TestJob.class));
    PreforkServer.Builder second = cleanup.builder(TestJob.class).port(first.port());
    int secondKey = second.build().shmKey();
    PreforkException e = assertThrows(PreforkException.class, () -> cleanup.start(second));
    assertTrue(e.getMessage().contains("port " + first.port()), e.getMessage());
    assertTrue(e.getMessage().contains("already in use"), e.getMessage());
    assertTrue(ShmSegment.stat(secondKey).isEmpty(), "the second server created no segment");
    assertEquals("pong", Client.ask(first.port(), "ping"));
  }

  @Test
  void aSecondServerOnTheSameKeyFailsClearlyAndTheFirstKeepsServing() throws Exception {
    PreforkServer first = cleanup.start(cleanup.builder(TestJob.class));
    PreforkException e =
        assertThrows(
            PreforkException.class,
            () -> cleanup.start(cleanup.builder(TestJob.class).shmKey(first.shmKey())));
    assertTrue(e.getMessage().contains("is running on this key"), e.getMessage());
    assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
    try (ControlHandle control = first.control()) {
      assertEquals(2, control.status().count(SlotState.IDLE));
    }
    assertEquals("pong", Client.ask(first.port(), "ping"));
    // The bound port of the refused server was released.
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
    }
  }

  @Test
  void aControllerWithNoServerGetsAClearError() {
    int key = cleanup.newKey();
    PreforkException e = assertThrows(PreforkException.class, () -> ControlHandle.attach(key));
    assertTrue(
        e.getMessage().contains("no prefork server at shm key " + ShmKeys.toHex(key)),
        e.getMessage());
  }

  @Test
  void aJobThatCannotOpenFailsTheStartAndLeavesNothing() {
    PreforkServer.Builder builder = cleanup.builder(FailingOpenJob.class);
    int key = builder.build().shmKey();
    PreforkException e = assertThrows(PreforkException.class, () -> cleanup.start(builder));
    assertTrue(
        e.getMessage().contains("could not start job " + FailingOpenJob.class.getName()),
        e.getMessage());
    assertTrue(e.getMessage().contains("exit status 78"), e.getMessage());
    assertTrue(ShmSegment.stat(key).isEmpty(), "no segment left");
  }

  @Test
  void anExceptionInAJobClosesThatConnectionAndTheChildLivesOn() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).minChildren(1).maxChildren(1));
    long pid = Long.parseLong(Client.ask(server.port(), "pid"));
    assertNull(Client.ask(server.port(), "throw"), "the failing connection is closed");
    assertEquals(pid, Long.parseLong(Client.ask(server.port(), "pid")), "same child");
  }

  @Test
  void aChildHoldsTheListenerItsOutputPipeAndOnlyWhatItsOwnJvmOpens() throws Exception {
    Path sentinel = Files.createTempFile("prefork-sentinel", ".txt");
    // Descriptors of the master the JDK opens without close-on-exec: none may reach a child.
    try (var file = new java.io.FileInputStream(sentinel.toFile());
        var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        var pipe = new PipeOfTheMaster()) {
      PreforkServer server =
          cleanup.start(cleanup.builder(TestJob.class).minChildren(1).maxChildren(1));
      long child = childPids(server).iterator().next();
      assertEquals("pong", Client.ask(server.port(), "ping")); // a child that served a request
      waitUntil(() -> server.status().count(SlotState.IDLE) == 1, "the child idle again");
      String listener = "socket:[" + listeningSocketInode(server.port()) + "]";
      Path javaHome = Path.of(System.getProperty("java.home"));
      Set<String> jars = new java.util.HashSet<>();
      for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
        if (entry.endsWith(".jar")) {
          jars.add(Path.of(entry).toAbsolutePath().toString());
        }
      }
      Set<String> unnamedUnixSockets = unnamedUnixSocketInodes();
      Set<String> mastersFds = Set.copyOf(FdLinks.of(ProcessHandle.current().pid()));
      String output = FdLinks.link(child, 1);
      assertTrue(output.startsWith("pipe:["), "fd 1 is the output pipe: " + output);
      assertEquals(output, FdLinks.link(child, 2), "fds 1 and 2 are the same pipe");
      assertTrue(mastersFds.contains(output), "whose other end the master reads: " + output);
      assertEquals(listener, FdLinks.link(child, 0), "fd 0 is the listening socket");
      List<String> unexpected = new java.util.ArrayList<>();
      for (Map.Entry<Integer, String> fd : FdLinks.byNumber(child).entrySet()) {
        int n = fd.getKey();
        String link = fd.getValue();
        boolean allowed =
            n <= 2
                // the JDK's inheritedChannel() works on a copy of fd 0
                || link.equals(listener)
                // the JVM's own: its class image, the class path's jars it reads
                || link.equals(javaHome.resolve("lib").resolve("modules").toString())
                || jars.contains(link)
                // the JDK's random sources, and /dev/null (inheritedChannel() keeps one to put
                // on fd 0 when the channel closes)
                || link.equals("/dev/random")
                || link.equals("/dev/urandom")
                || link.equals("/dev/null")
                // NIO's own unnamed socket pair (its pre-close descriptor)
                || (link.startsWith("socket:[")
                    && unnamedUnixSockets.contains(link.substring(8, link.length() - 1)));
        if (!allowed) {
          unexpected.add(n + " -> " + link);
        }
      }
      assertEquals(
          List.of(),
          unexpected,
          "descriptors the child should not hold (the master's sentinel "
              + sentinel
              + ", pipe "
              + pipe
              + ", socket "
              + socket.getLocalPort()
              + " among them?); all: "
              + FdLinks.byNumber(child));
    } finally {
      Files.deleteIfExists(sentinel);
    }
  }

  /** A pipe the master holds open (both ends, not close-on-exec, as the JDK makes them). */
  private static final class PipeOfTheMaster implements AutoCloseable {
    private final java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();

    PipeOfTheMaster() throws IOException {}

    @Override
    public void close() throws IOException {
      pipe.sink().close();
      pipe.source().close();
    }

    @Override
    public String toString() {
      return "of the master";
    }
  }

  /** Inodes of unix-domain sockets bound to no path (socket pairs), from /proc/net/unix. */
  static Set<String> unnamedUnixSocketInodes() throws IOException {
    Set<String> inodes = new java.util.HashSet<>();
    for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 7 && !f[0].equals("Num")) {
        inodes.add(f[6]); // a path would be an eighth field
      }
    }
    return inodes;
  }

  @Test
  void workerThreadsShareAChildEachWithItsOwnSlot() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup.builder(TestJob.class).minChildren(1).maxChildren(2).threadsPerChild(3));
    try (ControlHandle control = server.control()) {
      ServerStatus status = control.status();
      assertEquals(3, status.workers().size(), status.toString());
      assertEquals(1, status.children());
      assertEquals(
          List.of(0, 1, 2), status.workers().stream().map(WorkerStatus::workerIndex).toList());
      List<Client> slow = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Client c = new Client(server.port());
        c.write("sleep 1500");
        slow.add(c);
      }
      waitUntil(
          () -> control.status().count(SlotState.BUSY) == 3, "three workers of one child busy");
      long pid = status.workers().get(0).pid();
      assertTrue(
          control.status().workers().stream()
              .filter(w -> w.state() == SlotState.BUSY)
              .allMatch(w -> w.pid() == pid));
      // All three busy: the pool grows by a child of three more workers.
      waitUntil(
          () -> control.status().children() == 2 && control.status().workers().size() == 6,
          "a second child");
      CompletableFuture<Boolean> down =
          Background.supply(() -> control.waitDown(Duration.ofSeconds(15)));
      for (Client c : slow) {
        assertEquals(
            "slept 1500", c.readLine(), "wait-down lets every worker finish its connection");
        c.close();
      }
      assertTrue(down.get(20, TimeUnit.SECONDS));
    }
    assertTrue(server.awaitTermination(Duration.ofSeconds(5)));
  }

  @Test
  void theListenQueueIsTheKernelsCountOfWaitingConnections() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).minChildren(1).maxChildren(1).backlog(64));
    List<Client> clients = new java.util.ArrayList<>();
    try (ControlHandle control = server.control()) {
      Client holder = new Client(server.port());
      holder.write("hold");
      clients.add(holder);
      waitUntil(() -> control.status().count(SlotState.BUSY) == 1, "the only worker busy");
      // The master publishes the queue every tick (50 ms): the holder's connection may still be
      // counted as waiting by the tick before its accept.
      waitUntil(() -> control.status().listenQueue() == 0, "nothing waiting");
      for (int waiting = 1; waiting <= 5; waiting++) {
        clients.add(new Client(server.port()));
        int expected = waiting;
        waitUntil(() -> control.status().listenQueue() == expected, expected + " waiting");
      }
      assertEquals(64, control.status().listenBacklog());
      holder.close();
      waitUntil(() -> control.status().listenQueue() == 4, "the worker took one");
    } finally {
      for (Client c : clients) {
        c.close();
      }
    }
  }

  @Test
  void theBuilderNamesTheValueAtFault() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PreforkServer.builder()
                    .shmKey(1)
                    .job(TestJob.class)
                    .minChildren(4)
                    .maxChildren(3)
                    .build());
    assertEquals("maxChildren (3) must be >= minChildren (4)", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PreforkServer.builder().job(TestJob.class).build());
    assertTrue(e.getMessage().startsWith("shmKey is not set"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> PreforkServer.builder().shmKey(1).build());
    assertTrue(e.getMessage().startsWith("job is not set"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PreforkServer.builder().shmKey(1).job("com.example.NoSuchJob").build());
    assertEquals(
        "job class com.example.NoSuchJob is not on the class path: check its name and the class path",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PreforkServer.builder().shmKey(1).job(TestJob.class).port(70000).build());
    assertEquals("port (70000) must be within 0..65535", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PreforkServer.builder()
                    .shmKey(1)
                    .job(TestJob.class)
                    .bindAddress("no.such.host.invalid")
                    .build());
    assertTrue(e.getMessage().contains("'no.such.host.invalid' does not resolve"), e.getMessage());
  }

  // ---------------------------------------------------------------------------------------------

  static Set<Long> childPids(PreforkServer server) {
    try (ControlHandle control = server.control()) {
      return control.status().workers().stream()
          .map(w -> (long) w.pid())
          .collect(Collectors.toSet());
    }
  }

  static Set<String> unixSocketInodes() throws IOException {
    Set<String> inodes = new java.util.HashSet<>();
    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/unix"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 6) {
        inodes.add(f[6]);
      }
    }
    return inodes;
  }

  /** The inode of the socket listening on 127.0.0.1:port, from /proc/net/tcp. */
  static String listeningSocketInode(int port) throws IOException {
    String local = String.format("0100007F:%04X", port);
    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/tcp"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 9 && f[1].equals(local) && f[3].equals("0A")) {
        return f[9];
      }
    }
    throw new AssertionError("no listening socket on port " + port);
  }

  /**
   * Alive and not a zombie: an orphan that exited waits for init to reap it, which here (a
   * firecracker init) can take two seconds; it has exited all the same.
   */
  static boolean running(ProcessHandle p) {
    if (!p.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (java.io.IOException e) {
      return false; // gone meanwhile
    }
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
