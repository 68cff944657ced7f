package io.prefork.core;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.core.internal.master.ServerView;
import io.prefork.core.internal.master.SocketActivation;
import io.prefork.core.internal.ops.SystemdNotifier;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.SlotState;
import io.prefork.shm.testing.JavaProcesses;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd integration for real: socket activation through systemd's own {@code
 * systemd-socket-activate}, and sd_notify datagrams received on an AF_UNIX socket as systemd would.
 */
class SystemdTest {
  private static final Path SOCKET_ACTIVATE = Path.of("/usr/bin/systemd-socket-activate");
  private static final Duration START = Duration.ofSeconds(60);

  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();
  @RegisterExtension final JavaProcesses processes = new JavaProcesses();

  @TempDir Path dir;

  /** On failure, shows the masters' output, which goes to log files in the test's directory. */
  @RegisterExtension
  final AfterEachCallback showLogs =
      context -> {
        if (context.getExecutionException().isPresent() && dir != null) {
          try (var logs = Files.newDirectoryStream(dir, "*.log")) {
            for (Path log : logs) {
              System.err.println("---- " + log.getFileName() + "\n" + Files.readString(log));
            }
          }
        }
      };

  // ---------------------------------------------------------------------------------------------
  // Socket activation

  @Test
  void servesOnTheSocketThatSystemdSocketActivatePasses() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(SOCKET_ACTIVATE),
        SOCKET_ACTIVATE + " is not installed (Debian package systemd): socket activation untested");
    int key = cleanup.newKey();
    int port = freePort();
    List<String> command =
        new ArrayList<>(
            List.of(
                SOCKET_ACTIVATE.toString(), "-l", "127.0.0.1:" + port, "--fdname=prefork-test"));
    command.addAll(JavaProcesses.command(TestMaster.class.getName(), ShmKeys.toHex(key), "2", "3"));
    Path log = dir.resolve("master.log");
    Process master = processes.start(new ProcessBuilder(command).redirectError(log.toFile()));
    CompletableFuture<String> ready = readyLine(master);

    // systemd-socket-activate listens, and execs the server (same pid) on the first connection;
    // that connection waits in the accept queue and is served once the children accept.
    try (Client first = connectWithin(port, Duration.ofSeconds(20))) {
      assertEquals("pong", first.send("ping"), "the connection that activated the server");
    }
    String[] readyWords = ready.get(START.toSeconds(), TimeUnit.SECONDS).split(" ");
    assertEquals("READY", readyWords[0], String.join(" ", readyWords));
    assertEquals(port, Integer.parseInt(readyWords[1]), "the server reports the activated port");
    long masterPid = Long.parseLong(readyWords[2]);
    assertEquals(master.pid(), masterPid, "systemd-socket-activate exec'd the master in place");

    // The master adopted fd 3 and bound nothing: fd 3 is the one listening socket on the port.
    String fd3 = Files.readSymbolicLink(Path.of("/proc/" + masterPid + "/fd/3")).toString();
    List<String> listening = listeningInodes(port);
    assertEquals(List.of(fd3), listening, "fd 3 is the port's only listening socket");
    Map<String, String> masterEnv = environ(masterPid);
    assertEquals(Long.toString(masterPid), masterEnv.get("LISTEN_PID"));
    assertEquals("1", masterEnv.get("LISTEN_FDS"));
    String logText = Files.readString(log);
    assertTrue(
        logText.contains(
            "listening on inherited fd 3 (systemd socket activation): 127.0.0.1:" + port),
        logText);

    try (ControlHandle control = ControlHandle.attach(key)) {
      ServerStatus status = control.status();
      assertEquals(port, status.listenPort());
      assertEquals("127.0.0.1", status.listenAddress());
      assertEquals(masterPid, status.masterPid());
      // Children serve the same socket (as their fd 0), and see none of systemd's variables.
      long servedBy = Long.parseLong(Client.ask(port, "pid"));
      assertTrue(
          status.workers().stream().anyMatch(w -> w.pid() == servedBy),
          "served by a child of the table: " + servedBy + " " + status.workers());
      assertNotEquals(masterPid, servedBy);
      for (WorkerStatus w : status.workers()) {
        assertEquals(fd3, Files.readSymbolicLink(Path.of("/proc/" + w.pid() + "/fd/0")).toString());
        Map<String, String> childEnv = environ(w.pid());
        for (String name : SocketActivation.SYSTEMD_ENVIRONMENT) {
          assertFalse(childEnv.containsKey(name), "child " + w.pid() + " sees " + name);
        }
      }
      assertTrue(control.waitDown(Duration.ofSeconds(15)), "wait-down within 15 s");
    }
    assertTrue(master.waitFor(15, TimeUnit.SECONDS));
    assertTrue(ShmSegment.stat(key).isEmpty(), "segment removed");
    assertEquals(List.of(), listeningInodes(port), "the socket is closed with the master");
  }

  @Test
  void onlyTheFirstServerOfAJvmAdoptsTheActivatedSocket() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(SOCKET_ACTIVATE),
        SOCKET_ACTIVATE + " is not installed (Debian package systemd): socket activation untested");
    int key = cleanup.newKey();
    int secondKey = cleanup.newKey();
    int port = freePort();
    List<String> command =
        new ArrayList<>(List.of(SOCKET_ACTIVATE.toString(), "-l", "127.0.0.1:" + port));
    command.addAll(
        JavaProcesses.command(
            TestMaster.class.getName(),
            ShmKeys.toHex(key),
            "1",
            "1",
            "secondKey=" + ShmKeys.toHex(secondKey)));
    Path log = dir.resolve("master.log");
    Process master = processes.start(new ProcessBuilder(command).redirectError(log.toFile()));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(master.getInputStream(), StandardCharsets.UTF_8));
    try (Client first = connectWithin(port, Duration.ofSeconds(20))) {
      assertEquals("pong", first.send("ping"), "the connection that activated the server");
    }
    String ready = out.readLine();
    assertTrue(ready != null && ready.startsWith("READY " + port + " "), ready);
    String second = out.readLine();
    assertTrue(second != null && second.startsWith("SECOND "), second);
    int secondPort = Integer.parseInt(second.substring("SECOND ".length()));
    assertNotEquals(port, secondPort, "the second server bound a socket of its own");
    long masterPid = master.pid();
    String fd3 = Files.readSymbolicLink(Path.of("/proc/" + masterPid + "/fd/3")).toString();
    assertEquals(List.of(fd3), listeningInodes(port), "fd 3 is still the activated port's socket");
    try (ControlHandle firstControl = ControlHandle.attach(key);
        ControlHandle secondControl = ControlHandle.attach(secondKey)) {
      assertEquals(port, firstControl.status().listenPort());
      assertEquals(secondPort, secondControl.status().listenPort());
      long firstChild = Long.parseLong(Client.ask(port, "pid"));
      long secondChild = Long.parseLong(Client.ask(secondPort, "pid"));
      assertTrue(
          firstControl.status().workers().stream().anyMatch(w -> w.pid() == firstChild),
          "the activated port is served by the first server's children");
      assertTrue(
          secondControl.status().workers().stream().anyMatch(w -> w.pid() == secondChild),
          "the second port by the second server's");
    }
    String text = Files.readString(log);
    assertTrue(
        text.contains("systemd's socket (fd 3) belongs to the first server of this JVM"), text);
  }

  @Test
  void theActivationVariablesDecideWhichSocket() {
    long me = 4242;
    assertEquals(OptionalInt.empty(), SocketActivation.inheritedFd(Map.of(), me));
    assertEquals(
        OptionalInt.of(3),
        SocketActivation.inheritedFd(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "1"), me));
    assertEquals(
        OptionalInt.of(3),
        SocketActivation.inheritedFd(
            Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "3", "LISTEN_FDNAMES", "a:b:c"), me),
        "more than one: the first, the others ignored");
    assertEquals(
        OptionalInt.empty(),
        SocketActivation.inheritedFd(Map.of("LISTEN_PID", "1", "LISTEN_FDS", "1"), me),
        "another process's sockets");
    assertEquals(
        OptionalInt.empty(),
        SocketActivation.inheritedFd(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "0"), me));
    assertEquals(
        OptionalInt.empty(),
        SocketActivation.inheritedFd(Map.of("LISTEN_PID", "x", "LISTEN_FDS", "1"), me));
    assertEquals(OptionalInt.empty(), SocketActivation.inheritedFd(Map.of("LISTEN_FDS", "1"), me));
  }

  // ---------------------------------------------------------------------------------------------
  // sd_notify

  @Test
  void notifiesReadyStatusReloadingAndStoppingOnAPathSocket() throws Exception {
    try (NotifySocket notify = NotifySocket.bind(dir.resolve("notify.sock").toString())) {
      int key = cleanup.newKey();
      Process master = startMaster(key, notify.address());
      String[] ready = readyLine(master).get(START.toSeconds(), TimeUnit.SECONDS).split(" ");
      assertEquals("READY", ready[0]);
      int port = Integer.parseInt(ready[1]);

      int readyAt = notify.await("READY=1", 0, START);
      List<String> first = notify.received().get(readyAt);
      assertTrue(
          first.contains("STATUS=2 idle, 0 busy, 2 children (generation 1)"), first.toString());
      assertTrue(first.stream().noneMatch(l -> l.startsWith("MAINPID=")), first.toString());

      try (ControlHandle control = ControlHandle.attach(key)) {
        for (WorkerStatus w : control.status().workers()) {
          assertFalse(environ(w.pid()).containsKey("NOTIFY_SOCKET"), "child sees NOTIFY_SOCKET");
        }
        // A held connection: the STATUS line follows the pool (at most once a second).
        int busyAt;
        try (Client held = new Client(port)) {
          held.write("hold");
          busyAt = notify.await("STATUS=1 idle, 1 busy, 2 children (generation 1)", 0, START);
        }
        notify.await("STATUS=2 idle, 0 busy, 2 children (generation 1)", busyAt + 1, START);

        long before = System.nanoTime() / 1_000;
        control.restart();
        int reloadingAt = notify.await("RELOADING=1", readyAt + 1, START);
        long after = System.nanoTime() / 1_000;
        List<String> reloading = notify.received().get(reloadingAt);
        long monotonic =
            reloading.stream()
                .filter(l -> l.startsWith("MONOTONIC_USEC="))
                .mapToLong(l -> Long.parseLong(l.substring("MONOTONIC_USEC=".length())))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no MONOTONIC_USEC in " + reloading));
        assertTrue(
            before <= monotonic && monotonic <= after,
            "CLOCK_MONOTONIC µs " + monotonic + " within " + before + ".." + after);
        notify.await("READY=1", reloadingAt + 1, START);
        waitUntil(() -> control.status().generation() == 2, "generation 2");
        assertTrue(control.waitDown(Duration.ofSeconds(15)), "wait-down within 15 s");
      }
      notify.await("STOPPING=1", readyAt + 1, Duration.ofSeconds(5));
      assertTrue(master.waitFor(15, TimeUnit.SECONDS));
      notify.drain(100);
      List<String> order =
          notify.received().stream()
              .flatMap(List::stream)
              .filter(l -> !l.startsWith("STATUS=") && !l.startsWith("MONOTONIC_USEC="))
              .toList();
      assertEquals(List.of("READY=1", "RELOADING=1", "READY=1", "STOPPING=1"), order);
      for (List<String> datagram : notify.received()) {
        for (String line : datagram) {
          if (line.startsWith("STATUS=")) {
            assertTrue(line.contains(" idle, "), line);
          }
        }
      }
    }
  }

  @Test
  void notifiesAnAbstractSocket() throws Exception {
    String name = "@prefork-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    try (NotifySocket notify = NotifySocket.bind(name)) {
      int key = cleanup.newKey();
      Process master = startMaster(key, notify.address());
      assertTrue(readyLine(master).get(START.toSeconds(), TimeUnit.SECONDS).startsWith("READY "));
      int readyAt = notify.await("READY=1", 0, START);
      try (ControlHandle control = ControlHandle.attach(key)) {
        assertTrue(control.waitDown(Duration.ofSeconds(15)));
      }
      notify.await("STOPPING=1", readyAt + 1, Duration.ofSeconds(5));
      assertTrue(master.waitFor(15, TimeUnit.SECONDS));
    }
  }

  @Test
  void aDaemonTellsSystemdItsPid() throws Exception {
    try (NotifySocket notify = NotifySocket.bind(dir.resolve("notify.sock").toString())) {
      int key = cleanup.newKey();
      Path pidFile = dir.resolve("daemon.pid");
      ProcessBuilder pb =
          new ProcessBuilder(
                  JavaProcesses.command(
                      TestMaster.class.getName(),
                      ShmKeys.toHex(key),
                      "1",
                      "2",
                      "daemon=true",
                      "pidFile=" + pidFile,
                      "logFile=" + dir.resolve("daemon.log")))
              .redirectErrorStream(true);
      pb.environment().put(SystemdNotifier.ENVIRONMENT, notify.address());
      Process launcher = processes.start(pb);
      String output = new String(launcher.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(launcher.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, launcher.exitValue(), output);
      long daemonPid = Long.parseLong(Files.readString(pidFile).trim());
      ProcessHandle daemon = ProcessHandle.of(daemonPid).orElseThrow();
      try {
        int readyAt = notify.await("READY=1", 0, Duration.ofSeconds(5));
        List<String> ready = notify.received().get(readyAt);
        assertEquals("MAINPID=" + daemonPid, ready.get(0), ready.toString());
        assertNotEquals(launcher.pid(), daemonPid);
        try (ControlHandle control = ControlHandle.attach(key)) {
          assertTrue(control.waitDown(Duration.ofSeconds(15)));
        }
        notify.await("STOPPING=1", readyAt + 1, Duration.ofSeconds(5));
      } finally {
        daemon.destroyForcibly();
      }
    }
  }

  @Test
  void aNotifySocketNobodyListensOnWarnsOnceAndTheServerServesOn() throws Exception {
    int key = cleanup.newKey();
    Path log = dir.resolve("master.log");
    ProcessBuilder pb =
        new ProcessBuilder(
                JavaProcesses.command(TestMaster.class.getName(), ShmKeys.toHex(key), "2", "3"))
            .redirectError(log.toFile());
    pb.environment().put(SystemdNotifier.ENVIRONMENT, dir.resolve("nobody.sock").toString());
    Process master = processes.start(pb);
    String[] ready = readyLine(master).get(START.toSeconds(), TimeUnit.SECONDS).split(" ");
    assertEquals("READY", ready[0], String.join(" ", ready));
    int port = Integer.parseInt(ready[1]);
    assertEquals("pong", Client.ask(port, "ping"));
    try (ControlHandle control = ControlHandle.attach(key)) {
      control.restart();
      waitUntil(
          () ->
              control.status().generation() == 2
                  && control.status().workers().stream()
                      .allMatch(w -> w.generation() == 2 && w.state() == SlotState.IDLE),
          "restarted into generation 2");
      assertEquals("pong", Client.ask(port, "ping"));
      assertTrue(control.waitDown(Duration.ofSeconds(15)));
    }
    assertTrue(master.waitFor(15, TimeUnit.SECONDS));
    String text = Files.readString(log);
    List<String> warnings = text.lines().filter(l -> l.contains("cannot notify systemd")).toList();
    assertEquals(1, warnings.size(), text);
    assertTrue(warnings.get(0).contains("WARN"), warnings.get(0));
    assertTrue(warnings.get(0).contains("nobody.sock"), warnings.get(0));
  }

  @Test
  void statusIsSentWhenItChangesAtMostOnceASecond() throws Exception {
    try (NotifySocket notify = NotifySocket.bind(dir.resolve("unit.sock").toString())) {
      SystemdNotifier n = new SystemdNotifier(notify.address(), false, 42);
      ServerView quiet = new ServerView(2, 0, 2, 0, 1);
      ServerView busy = new ServerView(1, 1, 2, 0, 1);
      n.ready(quiet);
      n.tick(quiet);
      n.tick(busy); // changed, but within a second of the last STATUS
      notify.drain(100);
      assertEquals(
          List.of(List.of("READY=1", "STATUS=2 idle, 0 busy, 2 children (generation 1)")),
          notify.received());
      Thread.sleep(1_050);
      n.tick(busy);
      n.tick(busy); // unchanged
      n.tick(new ServerView(2, 0, 3, 1, 2)); // changed, within a second
      n.restarting(true);
      n.restarting(false);
      n.stopping();
      n.stopped();
      notify.drain(100);
      List<List<String>> got = notify.received();
      assertEquals(5, got.size(), got.toString());
      assertEquals(List.of("STATUS=1 idle, 1 busy, 2 children (generation 1)"), got.get(1));
      assertEquals("RELOADING=1", got.get(2).get(0));
      assertTrue(got.get(2).get(1).matches("MONOTONIC_USEC=\\d+"), got.get(2).toString());
      assertEquals(List.of("READY=1"), got.get(3));
      assertEquals(List.of("STOPPING=1"), got.get(4));
      SystemdNotifier restarting = new SystemdNotifier(notify.address(), false, 42);
      restarting.restarting(true);
      assertEquals(
          "restarting: 2 idle, 0 busy, 3 children, 1 starting (generation 2)",
          restarting.status(new ServerView(2, 0, 3, 1, 2)));
      restarting.stopping();
      assertEquals(
          "stopping: 0 idle, 1 busy, 1 child (generation 2)",
          restarting.status(new ServerView(0, 1, 1, 0, 2)));
      restarting.stopped();
    }
  }

  @Test
  void theWatchdogIsPingedAtHalfItsIntervalAndOnlyWhenTheMastersLoopTicks() throws Exception {
    try (NotifySocket notify = NotifySocket.bind(dir.resolve("unit.sock").toString())) {
      // The intervals on a clock the test moves; the datagrams through a real socket.
      AtomicLong nanos = new AtomicLong(1_000_000_000L);
      SystemdNotifier n =
          new SystemdNotifier(notify.address(), false, 42, 400_000, nanos::get); // 0.4 s
      ServerView view = new ServerView(1, 0, 1, 0, 1);
      n.tick(view); // the first tick pings at once, before READY=1 too
      notify.await("WATCHDOG=1", 0, Duration.ofSeconds(5));
      // The master ticks every 50 ms: a ping at half the interval, 200 ms, not before.
      List<Long> pingedAt = new ArrayList<>(List.of(0L));
      for (long ms = 50; ms <= 650; ms += 50) {
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(50));
        int before = notify.received().size();
        n.tick(view);
        notify.drain(20);
        if (notify.received().size() > before) {
          pingedAt.add(ms);
        }
      }
      assertEquals(List.of(0L, 200L, 400L, 600L), pingedAt, notify.received().toString());
      for (List<String> datagram : notify.received()) {
        assertEquals(List.of("WATCHDOG=1"), datagram);
      }
      // A loop that stops ticking stops the pings, however long: systemd's watchdog then fires.
      nanos.addAndGet(TimeUnit.SECONDS.toNanos(10));
      notify.drain(300);
      assertEquals(4, notify.received().size(), notify.received().toString());
      // Its next tick pings once, not once per interval missed.
      n.tick(view);
      n.tick(view);
      notify.await("WATCHDOG=1", 4, Duration.ofSeconds(5));
      notify.drain(100);
      assertEquals(5, notify.received().size(), notify.received().toString());
      n.stopped();
    }
  }

  @Test
  void theWatchdogIsOnlyForTheProcessSystemdNamed() {
    long me = 4242;
    assertEquals(0, SystemdNotifier.watchdogUsec(Map.of(), me));
    assertEquals(30_000_000, SystemdNotifier.watchdogUsec(Map.of("WATCHDOG_USEC", "30000000"), me));
    assertEquals(
        30_000_000,
        SystemdNotifier.watchdogUsec(
            Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "4242"), me));
    assertEquals(
        0,
        SystemdNotifier.watchdogUsec(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "1"), me),
        "another process's watchdog (a daemon's launcher)");
    assertEquals(0, SystemdNotifier.watchdogUsec(Map.of("WATCHDOG_USEC", "0"), me));
    assertEquals(0, SystemdNotifier.watchdogUsec(Map.of("WATCHDOG_USEC", "soon"), me));
  }

  @Test
  void aMasterUnderSystemdsWatchdogPingsItFromItsLoop() throws Exception {
    try (NotifySocket notify = NotifySocket.bind(dir.resolve("notify.sock").toString())) {
      int key = cleanup.newKey();
      ProcessBuilder pb =
          new ProcessBuilder(
                  JavaProcesses.command(TestMaster.class.getName(), ShmKeys.toHex(key), "1", "1"))
              .redirectError(dir.resolve("master-watchdog.log").toFile());
      pb.environment().put(SystemdNotifier.ENVIRONMENT, notify.address());
      pb.environment().put(SystemdNotifier.WATCHDOG_USEC, "300000"); // WatchdogSec=0.3
      pb.environment().remove(SystemdNotifier.WATCHDOG_PID);
      Process master = processes.start(pb);
      assertTrue(readyLine(master).get(START.toSeconds(), TimeUnit.SECONDS).startsWith("READY "));
      int readyAt = notify.await("READY=1", 0, START);
      int from = notify.received().size();
      notify.drain(1_500);
      long pings =
          notify.received().subList(from, notify.received().size()).stream()
              .filter(d -> d.contains("WATCHDOG=1"))
              .count();
      // Every 150 ms: about 10 in 1.5 s; a loaded machine may delay some ticks.
      assertTrue(pings >= 4 && pings <= 12, pings + " pings in 1.5 s: " + notify.received());
      try (ControlHandle control = ControlHandle.attach(key)) {
        for (WorkerStatus w : control.status().workers()) {
          Map<String, String> env = environ(w.pid());
          assertFalse(env.containsKey(SystemdNotifier.WATCHDOG_USEC), "child sees WATCHDOG_USEC");
        }
        assertTrue(control.waitDown(Duration.ofSeconds(15)));
      }
      notify.await("STOPPING=1", readyAt + 1, Duration.ofSeconds(5));
      assertTrue(master.waitFor(15, TimeUnit.SECONDS));
    }
  }

  @Test
  void aDaemonSendsMainPidWithReady() throws Exception {
    try (NotifySocket notify = NotifySocket.bind(dir.resolve("unit.sock").toString())) {
      new SystemdNotifier(notify.address(), true, 4242).ready(new ServerView(1, 0, 1, 0, 1));
      notify.drain(100);
      assertEquals(
          List.of(
              List.of("MAINPID=4242", "READY=1", "STATUS=1 idle, 0 busy, 1 child (generation 1)")),
          notify.received());
    }
  }

  @Test
  void addressesItCannotUseNeverThrow() {
    for (String target :
        List.of("vsock:2:1234", "relative.sock", "/" + "x".repeat(200), "/tmp/\u00e9t\u00e9")) {
      SystemdNotifier n = new SystemdNotifier(target, false, 1);
      assertDoesNotThrow(() -> n.ready(new ServerView(1, 0, 1, 0, 1)), target);
      assertDoesNotThrow(() -> n.stopping(), target);
      assertDoesNotThrow(n::stopped, target);
    }
    assertNull(SystemdNotifier.fromEnvironment(Map.of(), false));
    Map<String, String> env = new HashMap<>();
    env.put(SystemdNotifier.ENVIRONMENT, "");
    assertNull(SystemdNotifier.fromEnvironment(env, false), "empty: not set");
  }

  // ---------------------------------------------------------------------------------------------

  private Process startMaster(int key, String notifySocket) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(
                JavaProcesses.command(TestMaster.class.getName(), ShmKeys.toHex(key), "2", "3"))
            .redirectError(dir.resolve("master-" + ShmKeys.toHex(key) + ".log").toFile());
    pb.environment().put(SystemdNotifier.ENVIRONMENT, notifySocket);
    pb.environment().remove(SystemdNotifier.WATCHDOG_USEC); // these tests count every datagram
    pb.environment().remove(SystemdNotifier.WATCHDOG_PID);
    return processes.start(pb);
  }

  /** The master's first line of output ("READY port pid"), read in the background. */
  private static CompletableFuture<String> readyLine(Process master) {
    return Background.supply(
        () -> {
          try {
            BufferedReader out =
                new BufferedReader(
                    new InputStreamReader(master.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            return line == null ? "EOF" : line;
          } catch (IOException e) {
            return "FAILED " + e;
          }
        });
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }

  private static Client connectWithin(int port, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        return new Client(port);
      } catch (ConnectException e) {
        if (System.nanoTime() - deadline > 0) {
          throw e;
        }
        Thread.sleep(20);
      }
    }
  }

  /** The inodes ("socket:[N]") of TCP sockets listening on 127.0.0.1:port. */
  private static List<String> listeningInodes(int port) throws IOException {
    String local = "0100007F:" + String.format(Locale.ROOT, "%04X", port);
    List<String> inodes = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 9 && f[1].equals(local) && f[3].equals("0A")) {
        inodes.add("socket:[" + f[9] + "]");
      }
    }
    return inodes;
  }

  private static Map<String, String> environ(long pid) throws IOException {
    Map<String, String> env = new HashMap<>();
    byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/environ"));
    Arrays.stream(new String(raw, StandardCharsets.UTF_8).split("\0"))
        .filter(s -> s.contains("="))
        .forEach(s -> env.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1)));
    return env;
  }

  interface Check {
    boolean test() throws Exception;
  }

  private static void waitUntil(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!check.test()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for: " + what);
      Thread.sleep(20);
    }
  }
}
