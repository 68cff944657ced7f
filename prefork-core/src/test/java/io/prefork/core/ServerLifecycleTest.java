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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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
  void theMastersDeathTakesItsChildrenWithinTwoSecondsAndTheNextStartTakesOver() throws Exception {
    int key = cleanup.newKey();
    Process master =
        processes.start(
            new ProcessBuilder(
                    JavaProcesses.command(TestMaster.class.getName(), ShmKeys.toHex(key), "2", "3"))
                .redirectError(ProcessBuilder.Redirect.INHERIT));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(master.getInputStream(), StandardCharsets.UTF_8));
    String ready = out.readLine();
    assertNotNull(ready);
    assertTrue(ready.startsWith("READY "), ready);
    List<ProcessHandle> children;
    try (ControlHandle control = ControlHandle.attach(key)) {
      children =
          control.status().workers().stream()
              .map(w -> ProcessHandle.of(w.pid()).orElseThrow())
              .toList();
    }
    assertEquals(2, children.size());
    master.destroyForcibly(); // SIGKILL: no chance to clean up
    assertTrue(master.waitFor(5, TimeUnit.SECONDS));
    long killedAt = System.nanoTime();
    for (ProcessHandle child : children) {
      while (running(child)) {
        assertTrue(
            System.nanoTime() - killedAt < TimeUnit.SECONDS.toNanos(2),
            "child " + child.pid() + " outlived its master by 2 s");
        Thread.sleep(10);
      }
    }
    assertTrue(ShmSegment.stat(key).isPresent(), "a killed master leaves its table behind");
    PreforkServer next = cleanup.start(cleanup.builder(TestJob.class).shmKey(key));
    assertEquals("pong", Client.ask(next.port(), "ping"));
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
          CompletableFuture.supplyAsync(() -> control.waitDown(Duration.ofSeconds(10)));
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
  void childrenInheritOnlyTheListeningSocket() throws Exception {
    java.nio.file.Path sentinel = java.nio.file.Files.createTempFile("prefork-sentinel", ".txt");
    try (var open =
        new java.io.FileInputStream(sentinel.toFile())) { // not close-on-exec in the JDK
      PreforkServer server =
          cleanup.start(cleanup.builder(TestJob.class).minChildren(1).maxChildren(1));
      long childPid = childPids(server).iterator().next();
      String listening = listeningSocketInode(server.port());
      List<String> links = FdLinks.of(childPid);
      assertFalse(
          links.stream().anyMatch(l -> l.contains("prefork-sentinel")),
          "the master's open file leaked into the child: " + links);
      assertTrue(links.contains("socket:[" + listening + "]"), "the listener: " + links);
      // The JVM makes a unix socket pair of its own (NIO's pre-close descriptor); any TCP
      // socket but the listener would have leaked from the master.
      Set<String> unix = unixSocketInodes();
      List<String> others =
          links.stream()
              .filter(l -> l.startsWith("socket:") && !l.equals("socket:[" + listening + "]"))
              .filter(l -> !unix.contains(l.substring(8, l.length() - 1)))
              .toList();
      assertEquals(List.of(), others, "child fds: " + links);
    } finally {
      java.nio.file.Files.deleteIfExists(sentinel);
    }
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
          CompletableFuture.supplyAsync(() -> control.waitDown(Duration.ofSeconds(15)));
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
