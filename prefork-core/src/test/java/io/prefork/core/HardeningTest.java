package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

import io.prefork.core.internal.master.ChildClassData;
import io.prefork.shm.MasterState;
import io.prefork.shm.MasterTable;
import io.prefork.shm.SharedStatusTable;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.SlotState;
import io.prefork.shm.testing.JavaProcesses;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.bytes.BytesStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Production hardening: timeouts, watchdog, recycling, backoff, spares, signals, security. */
class HardeningTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();
  @RegisterExtension final JavaProcesses processes = new JavaProcesses();
  @TempDir Path tmp;

  @Test
  void aClientThatSendsNothingOrTricklesIsCutAtTheReadTimeout() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(1)
                .readTimeout(Duration.ofMillis(800)));
    try (ControlHandle control = server.control()) {
      long start = System.nanoTime();
      try (Socket silent = connect(server.port())) {
        assertEquals(-1, silent.getInputStream().read(), "the server closes a silent connection");
      }
      long silentMillis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(
          silentMillis >= 700 && silentMillis < 5_000, "closed after " + silentMillis + " ms");

      start = System.nanoTime();
      try (Socket trickle = connect(server.port())) {
        OutputStream out = trickle.getOutputStream();
        InputStream in = trickle.getInputStream();
        trickle.setSoTimeout(200);
        int got = 0;
        for (int i = 0; i < 50 && got != -1; i++) {
          try {
            out.write('p'); // a byte every 200 ms never completes a line
            out.flush();
          } catch (java.io.IOException reset) {
            break;
          }
          try {
            got = in.read();
          } catch (java.net.SocketTimeoutException e) {
            // nothing yet
          } catch (java.io.IOException reset) {
            break;
          }
        }
      }
      long trickleMillis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(
          trickleMillis < 3_000, "a trickling client held the worker " + trickleMillis + " ms");
      waitUntil(() -> control.status().count(SlotState.IDLE) == 1, "the worker is free again");
      assertEquals("pong", Client.ask(server.port(), "ping"));
    }
  }

  @Test
  void clientsThatNeverReadTheirResponseHoldNoWorkerPastTheWriteTimeout() throws Exception {
    Duration writeTimeout = Duration.ofMillis(1_500);
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(1)
                .threadsPerChild(2)
                .writeTimeout(writeTimeout)
                .childLogDirectory(tmp));
    List<Socket> stuck = new java.util.ArrayList<>();
    try (ControlHandle control = server.control()) {
      for (int i = 0; i < 2; i++) {
        Socket s = connect(server.port());
        s.setReceiveBufferSize(16 * 1024);
        // 64 MB: far more than the socket buffers hold; the client never reads a byte of it.
        s.getOutputStream().write("blob 67108864\n".getBytes(StandardCharsets.UTF_8));
        stuck.add(s);
      }
      waitUntil(() -> control.status().count(SlotState.BUSY) == 2, "both workers writing");
      long asked = System.nanoTime();
      String answer = Client.ask(server.port(), "ping"); // waits in the accept queue meanwhile
      long millis = (System.nanoTime() - asked) / 1_000_000;
      assertEquals("pong", answer);
      System.out.println("the third client was answered after " + millis + " ms");
      assertTrue(
          millis < writeTimeout.toMillis() + 1_000,
          "the third client was answered after " + millis + " ms");
      waitUntil(() -> control.status().count(SlotState.IDLE) == 2, "both workers free again");
      // The child's warnings reach its file through the master's output pump, which can lag the
      // slots going idle (the file is not even created before the first line).
      Path childLog = tmp.resolve("child-0.log");
      waitUntil(
          () -> writeTimeoutWarnings(childLog) >= 2, "two write-timeout warnings in " + childLog);
      assertEquals(2, writeTimeoutWarnings(childLog), Files.readString(childLog));
    } finally {
      for (Socket s : stuck) {
        s.close();
      }
    }
  }

  private static long writeTimeoutWarnings(Path log) throws java.io.IOException {
    if (!Files.exists(log)) {
      return 0;
    }
    return Files.readString(log)
        .lines()
        .filter(l -> l.contains("write timeout of 1500 ms passed without progress"))
        .count();
  }

  @Test
  void aHungJobGetsAThreadDumpThenItsChildIsReplaced() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .jobTimeout(Duration.ofMillis(700))
                .childLogDirectory(tmp));
    try (ControlHandle control = server.control();
        Client hung = new Client(server.port())) {
      hung.write("sleep 600000");
      waitUntil(() -> control.status().count(SlotState.BUSY) == 1, "a busy worker");
      WorkerStatus busy =
          control.status().workers().stream()
              .filter(w -> w.state() == SlotState.BUSY)
              .findFirst()
              .orElseThrow();
      waitUntil(
          () -> !ProcessHandle.of(busy.pid()).map(ProcessHandle::isAlive).orElse(false),
          "the hung child is killed");
      Path childLog = tmp.resolve("child-" + busy.slot() + ".log");
      // The master's output pump may still be writing the dead child's last lines.
      waitUntil(
          () ->
              Files.exists(childLog)
                  && Files.readString(childLog).contains("io.prefork.core.TestJob.handle"),
          "the thread dump in " + childLog);
      String log = Files.readString(childLog);
      assertTrue(log.contains("Full thread dump"), log);
      assertTrue(
          log.contains("io.prefork.core.TestJob.handle"), "the dump shows where it hung: " + log);
      assertTrue(log.contains("[slot " + busy.slot() + " pid " + busy.pid() + "]"), log);
      assertNull(hung.readLine(), "the hung connection is closed");
      waitUntil(() -> control.status().count(SlotState.IDLE) == 2, "a replacement accepts");
      assertEquals("pong", Client.ask(server.port(), "ping"));
    }
  }

  @Test
  void childrenAreRecycledAfterTheirCallLimitWithoutAFailedRequest() throws Exception {
    PreforkServer server =
        cleanup.start(cleanup.builder(TestJob.class).maxCallsPerChild(10).recycleJitter(0));
    LoadClient load = LoadClient.start(server.port(), 1);
    try (ControlHandle control = server.control()) {
      // A child past its limit keeps serving until its replacement accepts: the limit is
      // reached in milliseconds here, a replacement takes a few hundred.
      waitUntil(() -> control.status().spawns() >= 6, "four children recycled");
      waitUntil(() -> control.status().count(SlotState.STARTING) == 0, "replacements accepting");
    } finally {
      load.stop();
    }
    assertEquals(0, load.failed(), "failed: " + load.failures());
  }

  @Test
  void childrenDyingRightAfterStartAreRespawnedWithGrowingDelays() throws Exception {
    Path marker = tmp.resolve("marker");
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(MarkerJob.class)
                .minChildren(1)
                .maxChildren(2)
                .childJvmOptions(List.of("-Dprefork.test.marker=" + marker)));
    try (ControlHandle control = server.control()) {
      Files.writeString(marker, "exit");
      long before = control.status().spawns();
      for (WorkerStatus w : control.status().workers()) {
        ProcessHandle.of(w.pid()).ifPresent(ProcessHandle::destroyForcibly);
      }
      waitUntil(() -> control.status().spawnBackoffUntilMillis() > 0, "backoff published");
      Thread.sleep(3_000);
      long spawned = control.status().spawns() - before;
      // Without backoff a respawn every tick would be ~60 in 3 s; with it, a handful.
      assertTrue(spawned >= 2 && spawned <= 8, "spawned " + spawned + " in 3 s");
      assertTrue(server.isRunning());
      Files.delete(marker);
      waitUntil(() -> control.status().count(SlotState.IDLE) >= 1, "serving again");
      assertEquals("pong", Client.ask(server.port(), "ping"));
    }
  }

  @Test
  void aJobThatCanNoLongerStartStopsTheServerWithTheReason() throws Exception {
    Path marker = tmp.resolve("marker");
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(MarkerJob.class)
                .minChildren(1)
                .maxChildren(1)
                .childJvmOptions(List.of("-Dprefork.test.marker=" + marker)));
    int key = server.shmKey();
    Files.writeString(marker, "fail");
    try (ControlHandle control = server.control()) {
      for (WorkerStatus w : control.status().workers()) {
        ProcessHandle.of(w.pid()).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    assertTrue(server.awaitTermination(Duration.ofSeconds(30)), "the server stops");
    String failure = server.failure().orElseThrow();
    assertTrue(failure.contains("could not start job " + MarkerJob.class.getName()), failure);
    assertTrue(failure.contains("exit status 78"), failure);
    assertTrue(ShmSegment.stat(key).isEmpty());
  }

  @Test
  void aRestartWhoseNewGenerationCannotStartIsAbortedAndTheOldOneKeepsServing() throws Exception {
    Path marker = tmp.resolve("marker");
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(MarkerJob.class)
                .minChildren(2)
                .maxChildren(3) // room for a replacement: no old child leaves before it accepts
                .startTimeout(Duration.ofSeconds(4))
                .childJvmOptions(List.of("-Dprefork.test.marker=" + marker)));
    try (ControlHandle control = server.control()) {
      List<Integer> oldPids = control.status().workers().stream().map(WorkerStatus::pid).toList();
      for (String broken : List.of("exit", "hang")) {
        Files.writeString(marker, broken);
        long spawns = control.status().spawns();
        control.restart();
        waitUntil(
            () -> {
              ServerStatus s = control.status();
              return s.spawns() > spawns
                  && s.masterState() == MasterState.RUNNING
                  && s.workers().stream().map(WorkerStatus::pid).toList().equals(oldPids);
            },
            "the restart with a new generation that can't start (" + broken + ") is aborted");
        assertEquals(0, control.status().restarts(), broken);
        assertEquals("pong", Client.ask(server.port(), "ping"), broken);
      }
      Files.delete(marker);
      control.restart();
      waitUntil(
          () -> {
            ServerStatus s = control.status();
            return s.restarts() == 1
                && s.workers().size() == 2
                && s.workers().stream().noneMatch(w -> oldPids.contains(w.pid()));
          },
          "a restart after the fix completes");
      assertEquals("pong", Client.ask(server.port(), "ping"));
    }
  }

  @Test
  void childrenThatCannotEvenStartTheirJvmFailTheStartWithTheJvmsReason() throws Exception {
    PreforkServer.Builder builder =
        cleanup
            .builder(TestJob.class)
            .startTimeout(Duration.ofSeconds(120))
            .childJvmOptions(List.of("-XX:+NoSuchOptionAnywhere"));
    PreforkException e = assertThrows(PreforkException.class, () -> cleanup.start(builder));
    // The fast path (before the start timeout) says how many died and quotes the JVM.
    assertTrue(e.getMessage().contains("children died before accepting"), e.getMessage());
    assertTrue(e.getMessage().contains("NoSuchOptionAnywhere"), e.getMessage());
  }

  @Test
  void aCollectorOrCompilerChosenForTheChildrenReplacesTheLeanDefault() throws Exception {
    // Both combinations would stop the child JVM from starting: two collectors, or C2 with the
    // lean default's single compiler thread.
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(1)
                .childJvmOptions(List.of("-XX:+UseParallelGC", "-XX:TieredStopAtLevel=4")));
    assertEquals("pong", Client.ask(server.port(), "ping"));
    int pid = server.status().workers().get(0).pid();
    String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
    assertTrue(cmdline.contains("-XX:+UseParallelGC"), cmdline);
    assertFalse(cmdline.contains("-XX:+UseSerialGC"), cmdline);
    assertTrue(cmdline.contains("-XX:TieredStopAtLevel=4"), cmdline);
    assertFalse(cmdline.contains("-XX:CICompilerCount=1"), cmdline);
  }

  @Test
  void childrenMapAClassDataArchiveBuiltFromTheFirstChildAndReusedByTheNextServer()
      throws Exception {
    Path cds = Files.createDirectory(tmp.resolve("cds"));
    String jarsOnly = JarredClassPath.of(System.getProperty("java.class.path"), tmp);
    PreforkServer first =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(2)
                .childClassPath(jarsOnly)
                .childClassDataDirectory(cds));
    waitUntil(() -> archiveIn(cds) != null, "the archive is built");
    Path archive = archiveIn(cds);
    assertTrue(ChildClassData.trusted(archive));
    try (var files = Files.list(cds)) {
      assertEquals(List.of(archive), files.toList(), "no temporary file is left behind");
    }
    int trainee = first.status().workers().get(0).pid();
    ProcessHandle.of(trainee).ifPresent(ProcessHandle::destroyForcibly);
    waitUntil(
        () ->
            first.status().workers().stream()
                .anyMatch(w -> w.pid() != trainee && w.state() == SlotState.IDLE),
        "a new child accepts");
    int next = first.status().workers().get(0).pid();
    // On JDK 25 and later the next child trains the AOT cache instead (one JVM cannot map both).
    boolean aot = Runtime.version().feature() >= 25;
    if (aot) {
      assertTrue(cmdline(next).contains("-XX:AOTCacheOutput="), cmdline(next));
    } else {
      assertMapsArchive(next, archive);
    }
    assertEquals("pong", Client.ask(first.port(), "ping"));
    first.close();
    Path cache = archive.resolveSibling(archive.getFileName().toString().replace(".jsa", ".aot"));
    if (aot) {
      assertTrue(ChildClassData.trusted(cache), "the trainee wrote its AOT cache as it exited");
      try (var files = Files.list(cds)) {
        assertEquals(
            java.util.Set.of(archive, cache),
            java.util.Set.copyOf(files.toList()),
            "no temporary file is left behind");
      }
    }

    PreforkServer second =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(2)
                .childClassPath(jarsOnly)
                .childClassDataDirectory(cds));
    int secondChild = second.status().workers().get(0).pid();
    if (aot) {
      assertTrue(cmdline(secondChild).contains("-XX:AOTCache=" + cache), cmdline(secondChild));
      assertTrue(
          Files.readString(Path.of("/proc/" + secondChild + "/maps")).contains(cache.toString()),
          "the child maps " + cache);
    } else {
      assertMapsArchive(secondChild, archive);
    }
    assertEquals("pong", Client.ask(second.port(), "ping"));
  }

  private static Path archiveIn(Path directory) throws Exception {
    try (var files = Files.list(directory)) {
      return files
          .filter(p -> p.getFileName().toString().matches("prefork-child-[0-9a-f]{16}\\.jsa"))
          .findFirst()
          .orElse(null);
    }
  }

  private static String cmdline(int pid) throws Exception {
    return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
  }

  private static void assertMapsArchive(int pid, Path archive) throws Exception {
    String cmdline = cmdline(pid);
    assertTrue(cmdline.contains("-XX:SharedArchiveFile=" + archive), cmdline);
    String maps = Files.readString(Path.of("/proc/" + pid + "/maps"));
    assertTrue(maps.contains(archive.toString()), "the child maps " + archive);
  }

  @Test
  void sparesAreKeptBetweenMinSpareAndMaxSpare() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(4)
                .minSpare(1)
                .maxSpare(2)
                .childIdleTimeout(Duration.ofSeconds(1)));
    List<Client> held = new java.util.ArrayList<>();
    try (ControlHandle control = server.control()) {
      for (int i = 0; i < 3; i++) {
        Client c = new Client(server.port());
        c.write("hold");
        held.add(c);
        int busy = i + 1;
        waitUntil(() -> control.status().count(SlotState.BUSY) == busy, busy + " busy");
      }
      // Three busy, and one spare kept idle: four children, the maximum.
      waitUntil(
          () -> control.status().children() == 4 && control.status().count(SlotState.IDLE) == 1,
          "a spare");
      for (Client c : held) {
        c.close();
      }
      held.clear();
      // Four idle now: after the idle timeout (1 s here), one retires per second while more than
      // maxSpare 2 would stay idle without it: down to two.
      waitUntil(() -> control.status().children() == 2, "surplus children retired");
      Thread.sleep(1_500);
      assertEquals(2, control.status().children(), "no more than the surplus retires");
    } finally {
      for (Client c : held) {
        c.close();
      }
    }
  }

  @Test
  void signalsOnTheMasterRestartResizeAndStopIt() throws Exception {
    int key = cleanup.newKey();
    Process master =
        processes.start(
            new ProcessBuilder(
                    JavaProcesses.command(TestMaster.class.getName(), ShmKeys.toHex(key), "2", "4"))
                .redirectError(ProcessBuilder.Redirect.INHERIT));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(master.getInputStream(), StandardCharsets.UTF_8));
    String ready = out.readLine();
    assertTrue(ready != null && ready.startsWith("READY "), ready);
    try (ControlHandle control = ControlHandle.attach(key)) {
      signal(master.pid(), "HUP");
      waitUntil(
          () ->
              control.status().restarts() == 1
                  && control.status().workers().stream().allMatch(w -> w.generation() == 2),
          "SIGHUP restarted every child");
      signal(master.pid(), "TTIN");
      waitUntil(() -> control.status().children() == 3, "SIGTTIN added a child");
      signal(master.pid(), "TTOU");
      waitUntil(() -> control.status().children() == 2, "SIGTTOU removed one");
      signal(master.pid(), "TERM");
      assertTrue(master.waitFor(10, TimeUnit.SECONDS), "SIGTERM stops the master");
      assertEquals(0, master.exitValue());
    }
    assertEquals("STOPPED normally", out.readLine());
    assertTrue(ShmSegment.stat(key).isEmpty());
  }

  @Test
  void anEmbeddingApplicationGetsItsSignalsBackOnceTheServerIsClosed() throws Exception {
    int key = cleanup.newKey();
    Process app =
        processes.start(
            new ProcessBuilder(
                    JavaProcesses.command(EmbeddingApp.class.getName(), ShmKeys.toHex(key)))
                .redirectError(ProcessBuilder.Redirect.INHERIT));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(app.getInputStream(), StandardCharsets.UTF_8));
    String started = out.readLine();
    assertTrue(started != null && started.startsWith("STARTED "), started);
    assertEquals("CLOSED", out.readLine());
    signal(app.pid(), "HUP");
    assertEquals("APP HUP", out.readLine(), "SIGHUP reaches the application's own handler again");
    signal(app.pid(), "TERM");
    assertTrue(app.waitFor(10, TimeUnit.SECONDS), "SIGTERM ends the application's JVM");
    assertEquals(143, app.exitValue(), "as the JVM's own SIGTERM handler exits");
    assertEquals("HOOK RAN", out.readLine(), "and its shutdown hook ran");
    assertTrue(ShmSegment.stat(key).isEmpty());
  }

  @Test
  void aControllerTellsAStoppedMasterFromAGoneOne() throws Exception {
    int key = cleanup.newKey();
    Process master =
        processes.start(
            new ProcessBuilder(
                    JavaProcesses.command(TestMaster.class.getName(), ShmKeys.toHex(key), "1", "1"))
                .redirectError(ProcessBuilder.Redirect.INHERIT));
    BufferedReader out =
        new BufferedReader(new InputStreamReader(master.getInputStream(), StandardCharsets.UTF_8));
    String ready = out.readLine();
    assertTrue(ready != null && ready.startsWith("READY "), ready);
    signal(master.pid(), "STOP"); // alive, but its heartbeat stops
    try {
      Thread.sleep(MasterTable.STALE_AFTER_MILLIS + 500);
      PreforkException e = assertThrows(PreforkException.class, () -> ControlHandle.attach(key));
      assertTrue(
          e.getMessage().contains("does not answer: master pid " + master.pid()), e.getMessage());
      assertTrue(e.getMessage().contains("hung or stopped"), e.getMessage());
    } finally {
      signal(master.pid(), "CONT");
    }
    waitUntil(
        () -> {
          try {
            ControlHandle.attach(key).close();
            return true; // answering again
          } catch (PreforkException notYet) {
            return false;
          }
        },
        "the master answers again after SIGCONT");
    signal(master.pid(), "TERM");
    assertTrue(master.waitFor(10, TimeUnit.SECONDS), "SIGTERM stops the master");
  }

  @Test
  void aPidForgedIntoTheTableIsNeverKilled() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class));
    Process bystander = processes.start(new ProcessBuilder("sleep", "60"));
    try (ShmSegment raw = ShmSegment.attach(server.shmKey(), false)) {
      BytesStore<?, ?> b = BytesStore.wrap(raw.address(), raw.size());
      // Slot 0's pid field (offset 4 in the slot, see SharedStatusTable).
      b.writeVolatileInt(SharedStatusTable.HEADER_SIZE + 4, (int) bystander.pid());
    }
    try (ControlHandle control = server.control()) {
      assertTrue(control.status().workers().stream().anyMatch(w -> w.pid() == bystander.pid()));
      control.forceDown();
    }
    assertTrue(server.awaitTermination(Duration.ofSeconds(5)));
    Thread.sleep(200);
    assertTrue(bystander.isAlive(), "the master killed a pid it did not spawn");
  }

  @Test
  void aDaemonDetachesWritesItsPidFileAndRefusesASecondStart() throws Exception {
    int key = cleanup.newKey();
    Path pidFile = tmp.resolve("prefork.pid");
    Path logFile = tmp.resolve("prefork.log");
    Process launcher =
        processes.start(
            new ProcessBuilder(
                    JavaProcesses.command(
                        TestMaster.class.getName(),
                        ShmKeys.toHex(key),
                        "1",
                        "2",
                        "daemon=true",
                        "pidFile=" + pidFile,
                        "logFile=" + logFile))
                .redirectErrorStream(true));
    String output = new String(launcher.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(launcher.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, launcher.exitValue(), output);
    long daemonPid = Long.parseLong(Files.readString(pidFile).trim());
    assertTrue(output.contains("), master pid " + daemonPid + ", shm key"), output);
    ProcessHandle daemon = ProcessHandle.of(daemonPid).orElseThrow();
    try {
      assertNotEquals(launcher.pid(), daemonPid);
      String[] stat =
          Files.readString(Path.of("/proc/" + daemonPid + "/stat")).split("\\) ")[1].split(" ");
      assertEquals(Long.toString(daemonPid), stat[3], "the daemon leads its own session");
      assertEquals("/", Files.readSymbolicLink(Path.of("/proc/" + daemonPid + "/cwd")).toString());
      assertEquals(
          "/dev/null", Files.readSymbolicLink(Path.of("/proc/" + daemonPid + "/fd/0")).toString());
      assertEquals(
          logFile.toString(),
          Files.readSymbolicLink(Path.of("/proc/" + daemonPid + "/fd/1")).toString());

      Process second =
          processes.start(
              new ProcessBuilder(
                      JavaProcesses.command(
                          TestMaster.class.getName(),
                          ShmKeys.toHex(cleanup.newKey()),
                          "1",
                          "2",
                          "daemon=true",
                          "pidFile=" + pidFile))
                  .redirectErrorStream(true));
      String refused = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(second.waitFor(30, TimeUnit.SECONDS));
      assertNotEquals(0, second.exitValue());
      assertTrue(refused.contains("pid file " + pidFile + " is held by pid " + daemonPid), refused);

      try (ControlHandle control = ControlHandle.attach(key)) {
        assertTrue(control.waitDown(Duration.ofSeconds(15)));
      }
      assertFalse(Files.exists(pidFile), "the pid file is removed on stop");
      String log = Files.readString(logFile);
      assertTrue(log.contains("wait-down"), log);
    } finally {
      daemon.destroyForcibly();
    }
  }

  @Test
  void twoServersStartedTogetherWithOnePidFileCannotBothRun() throws Exception {
    Path pidFile = tmp.resolve("race.pid");
    List<Process> masters = new java.util.ArrayList<>();
    List<BufferedReader> outs = new java.util.ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Process p =
          processes.start(
              new ProcessBuilder(
                      JavaProcesses.command(
                          TestMaster.class.getName(),
                          ShmKeys.toHex(cleanup.newKey()),
                          "1",
                          "1",
                          "pidFile=" + pidFile))
                  .redirectError(ProcessBuilder.Redirect.INHERIT));
      masters.add(p);
      outs.add(
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
    }
    // Both check the file at about the same time; seconds pass before either is ready.
    List<String> first = List.of(outs.get(0).readLine(), outs.get(1).readLine());
    List<String> ready = first.stream().filter(l -> l != null && l.startsWith("READY ")).toList();
    assertEquals(1, ready.size(), "exactly one runs: " + first);
    long winner = Long.parseLong(ready.get(0).split(" ")[2]);
    String refused = first.stream().filter(l -> !ready.contains(l)).findFirst().orElseThrow();
    assertTrue(
        refused.startsWith("FAILED pid file " + pidFile + " is held by pid " + winner + ":"),
        refused);
    assertEquals(Long.toString(winner), Files.readString(pidFile).trim());
  }

  @Test
  void aPidFileIsHeldForTheServersLifeAgainstThisJvmTooAndAStaleOneIsTakenOver() throws Exception {
    Path pidFile = tmp.resolve("server.pid");
    Files.writeString(pidFile, "999999999\n"); // left by a server that died: nobody holds it
    PreforkServer first = cleanup.start(cleanup.builder(TestJob.class).pidFile(pidFile));
    long me = ProcessHandle.current().pid();
    assertEquals(Long.toString(me), Files.readString(pidFile).trim());
    PreforkServer.Builder second = cleanup.builder(TestJob.class).pidFile(pidFile);
    int secondKey = second.build().shmKey();
    PreforkException e = assertThrows(PreforkException.class, () -> cleanup.start(second));
    assertTrue(
        e.getMessage()
            .startsWith(
                "pid file "
                    + pidFile
                    + " is held by pid "
                    + me
                    + ", this JVM: another server of this JVM uses it"),
        e.getMessage());
    assertTrue(ShmSegment.stat(secondKey).isEmpty(), "the refused server touched nothing");
    assertEquals(Long.toString(me), Files.readString(pidFile).trim(), "nor the file");
    // Reading the file does not take the lock away (an fcntl lock would be lost here).
    assertThrows(PreforkException.class, () -> cleanup.start(second));
    first.close();
    assertFalse(Files.exists(pidFile), "removed when the server stops");
    PreforkServer again = cleanup.start(cleanup.builder(TestJob.class).pidFile(pidFile));
    assertEquals(Long.toString(me), Files.readString(pidFile).trim());
    again.close();
  }

  @Test
  void aDaemonThatCannotStartMakesTheLauncherFailWithTheReason() throws Exception {
    int key = cleanup.newKey();
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      Process launcher =
          processes.start(
              new ProcessBuilder(
                      JavaProcesses.command(
                          TestMaster.class.getName(),
                          ShmKeys.toHex(key),
                          "1",
                          "2",
                          "daemon=true",
                          "port=" + taken.getLocalPort()))
                  .redirectErrorStream(true));
      String output = new String(launcher.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(launcher.waitFor(60, TimeUnit.SECONDS));
      assertNotEquals(0, launcher.exitValue(), output);
      assertTrue(output.contains("already in use"), output);
      assertTrue(output.contains("before it was ready"), output);
    }
  }

  private static Socket connect(int port) throws Exception {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    s.setSoTimeout(10_000);
    return s;
  }

  private static void signal(long pid, String name) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
    assertEquals(0, kill.waitFor());
  }
}
