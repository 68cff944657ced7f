package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.ServerCleanup;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.ShmSegment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code serve} and {@code ctl} from the built jar, as separate processes, as an operator uses
 * them.
 */
class CtlIT {
  private static final Pattern WORKER =
      Pattern.compile(
          "\\{\"slot\":(\\d+),\"pid\":(\\d+),\"state\":\"(\\w+)\",\"calls\":(\\d+),"
              + "\"generation\":(\\d+),\"millisInState\":(\\d+),[^}]*}");

  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  /** One worker of {@code ctl status --json}. */
  record Worker(int slot, long pid, String state, long calls, long generation) {}

  @Test
  void ctlShowsRestartsAndStopsAServer() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli()) {
      Cli.Serve serve = cli.serve(key);

      Cli.Result json = cli.ctl(key, "status", "--json");
      assertEquals(0, json.exitCode(), json.toString());
      assertTrue(json.out().contains("\"masterPid\":" + serve.masterPid() + ","), json.out());
      assertTrue(json.out().contains("\"state\":\"RUNNING\""), json.out());
      assertTrue(json.out().contains("\"listen\":\"127.0.0.1:" + serve.port() + "\""), json.out());
      List<Worker> workers = workers(json.out());
      assertEquals(2, workers.size(), json.out());
      assertTrue(workers.stream().allMatch(w -> w.state().equals("IDLE")), json.out());

      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + serve.port() + "/"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertEquals(200, response.statusCode());
      assertEquals("hello\n", response.body());
      json = cli.ctl(key, "status", "--json");
      assertTrue(workers(json.out()).stream().mapToLong(Worker::calls).sum() >= 1, json.out());

      Cli.Result table = cli.ctl(key, "status");
      assertEquals(0, table.exitCode(), table.toString());
      assertTrue(table.out().contains("master pid " + serve.masterPid()), table.out());
      for (Worker w : workers) {
        assertTrue(table.out().contains(" " + w.pid() + " "), table.out());
      }
      assertTrue(table.out().contains("\nmemory   "), table.out());
      assertEquals( // with the memory and pool lines
          8 + workers.size(), table.out().lines().count(), table.out());

      Cli.Result restart = cli.ctl(key, "restart");
      assertEquals(0, restart.exitCode(), restart.toString());
      assertEquals(1, restart.out().lines().count(), restart.out());
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      List<Worker> now = workers;
      while (!(now.size() == 2
          && now.stream().allMatch(w -> w.generation() == 2 && w.state().equals("IDLE")))) {
        assertTrue(System.nanoTime() < deadline, "no generation 2 after 20 s: " + now);
        Thread.sleep(200);
        now = workers(cli.ctl(key, "status", "--json").out());
      }
      for (Worker w : now) {
        assertTrue(workers.stream().noneMatch(old -> old.pid() == w.pid()), "new pids: " + now);
      }

      Cli.Result wdown = cli.ctl(key, "wdown");
      assertEquals(0, wdown.exitCode(), wdown.toString());
      assertTrue(wdown.out().startsWith("wait-down"), wdown.out());
      assertTrue(
          Cli.awaitExit(serve.process(), Duration.ofSeconds(10)),
          "serve still running 10 s after wdown:\n" + serve.log());
      assertEquals(0, serve.process().exitValue(), serve.log());
      assertTrue(ShmSegment.stat(key).isEmpty(), "the segment is gone");
    }
  }

  /**
   * The table is 0600 and owned by the server's user: ctl run as another user (nobody, through
   * setpriv) is told "permission denied" and changes nothing.
   */
  @Test
  void ctlAsAnotherUserIsDeniedAndChangesNothing() throws Exception {
    Path setpriv = Path.of("/usr/bin/setpriv");
    Assumptions.assumeTrue(Files.isExecutable(setpriv), "no setpriv: cannot run as another user");
    Assumptions.assumeTrue(
        new com.sun.security.auth.module.UnixSystem().getUid() == 0,
        "not root: cannot switch to another uid to test the permission check");
    int key = cleanup.newKey();
    Path dir = Files.createTempDirectory("prefork-other-user");
    Path jar = dir.resolve("prefork-examples.jar");
    try (Cli cli = new Cli()) {
      Cli.Serve serve = cli.serve(key);
      Files.copy(Cli.jar(), jar);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
      for (String command : List.of("status", "wdown", "fdown")) {
        ProcessBuilder pb =
            new ProcessBuilder(
                    setpriv.toString(),
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar",
                    jar.toString(),
                    "ctl",
                    "--shm-key",
                    ShmKeys.toHex(key),
                    command)
                .directory(dir.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue(), command + ": " + out + err);
        assertTrue(err.contains("permission denied"), command + ": " + err);
        assertEquals(1, err.strip().lines().count(), "one clear line: " + err);
      }
      Cli.Result json = cli.ctl(key, "status", "--json");
      assertEquals(0, json.exitCode(), json.toString());
      assertTrue(json.out().contains("\"state\":\"RUNNING\""), json.out());
      assertTrue(json.out().contains("\"masterPid\":" + serve.masterPid() + ","), json.out());
    } finally {
      Files.deleteIfExists(jar);
      Files.deleteIfExists(dir);
    }
  }

  @Test
  void ctlWithoutAServerSaysSoInOneLine() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli()) {
      Cli.Result r = cli.ctl(key, "status");
      assertNotEquals(0, r.exitCode(), r.toString());
      assertEquals("", r.out(), r.toString());
      assertEquals(1, r.err().lines().count(), r.toString());
      assertTrue(r.err().startsWith("prefork ctl: no prefork server at shm key "), r.toString());
    }
  }

  /**
   * {@code ctl status --watch} refreshes until Ctrl-C (SIGINT: exit 0, nothing on stderr), and ends
   * by itself with one line and status 1 when the server stops under it.
   */
  @Test
  void ctlStatusWatchRefreshesUntilCtrlCOrTheServerStops() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli()) {
      Cli.Serve serve = cli.serve(key);

      Cli.Running table = cli.startCtl(key, "status", "--watch", "--interval", "0.2");
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (frames(table.out()) < 3) {
        assertTrue(System.nanoTime() < deadline, "fewer than 3 frames in 20 s:\n" + table.out());
        assertTrue(table.process().isAlive(), "watch ended:\n" + table.out() + table.err());
        Thread.sleep(50);
      }
      assertTrue(table.out().contains("master pid " + serve.masterPid()), table.out());
      assertTrue(table.out().contains("every 0.2s, Ctrl-C to stop"), table.out());
      Process kill =
          new ProcessBuilder("kill", "-INT", Long.toString(table.process().pid())).start();
      assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
      assertTrue(
          Cli.awaitExit(table.process(), Duration.ofSeconds(10)), "watch still running after INT");
      assertEquals(0, table.process().exitValue(), table.err());
      assertEquals("", table.err());

      Cli.Running json = cli.startCtl(key, "status", "--watch", "--json", "--interval", "0.2");
      while (json.out().lines().count() < 2) {
        assertTrue(System.nanoTime() < deadline, "fewer than 2 JSON lines:\n" + json.out());
        Thread.sleep(50);
      }
      for (String line : json.out().lines().toList()) {
        assertTrue(line.startsWith("{\"masterPid\":" + serve.masterPid() + ","), line);
        assertTrue(line.endsWith("]}"), line);
      }
      assertEquals(0, cli.ctl(key, "wdown").exitCode());
      assertTrue(
          Cli.awaitExit(json.process(), Duration.ofSeconds(15)),
          "watch still running after the server stopped:\n" + json.err());
      assertEquals(1, json.process().exitValue(), json.err());
      assertEquals(1, json.err().lines().count(), json.err());
      assertTrue(
          json.err().startsWith("prefork ctl: the server at shm key " + ShmKeys.toHex(key)),
          json.err());
      assertTrue(json.err().contains("stopped"), json.err());
      assertTrue(Cli.awaitExit(serve.process(), Duration.ofSeconds(10)), serve.log());
    }
  }

  /**
   * {@code src/main/dist/prefork-ctl} runs ctl with its own JVM options: the same output and exit
   * status, a class-data archive written by the first run and mapped by the next, and nothing but
   * ctl's own lines on standard error.
   */
  @Test
  void thePreforkCtlScriptRunsCtlWithItsOwnArchive() throws Exception {
    Path script = Path.of(System.getProperty("prefork.examples.ctl", "src/main/dist/prefork-ctl"));
    Assumptions.assumeTrue(Files.isExecutable(script), script + " is not executable");
    int key = cleanup.newKey();
    Path home = Files.createTempDirectory("prefork-ctl-home");
    try (Cli cli = new Cli()) {
      Cli.Serve serve = cli.serve(key);
      for (int run = 0; run < 2; run++) {
        ProcessBuilder pb =
            new ProcessBuilder(
                script.toAbsolutePath().toString(),
                "--shm-key",
                ShmKeys.toHex(key),
                "status",
                "--json");
        pb.environment().put("HOME", home.toString());
        pb.environment().remove("XDG_CACHE_HOME");
        pb.environment().put("PREFORK_JAR", Cli.jar().toString());
        pb.environment()
            .put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out + err);
        assertEquals("", err, "run " + run);
        assertTrue(out.startsWith("{\"masterPid\":" + serve.masterPid() + ","), out);
        assertEquals(1, out.lines().count(), out);
        try (var files = Files.list(home.resolve(".cache/prefork"))) {
          List<String> archives =
              files
                  .map(f -> f.getFileName().toString())
                  .filter(n -> n.startsWith("prefork-ctl-"))
                  .toList();
          assertEquals(1, archives.size(), "run " + run + ": " + archives);
          assertTrue(archives.get(0).endsWith(".jsa"), archives.toString());
        }
      }
      ProcessBuilder none =
          new ProcessBuilder(
              script.toAbsolutePath().toString(),
              "--shm-key",
              ShmKeys.toHex(cleanup.newKey()),
              "status");
      none.environment().put("HOME", home.toString());
      none.environment().put("PREFORK_JAR", Cli.jar().toString());
      none.environment()
          .put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
      Process p = none.start();
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(1, p.exitValue(), err);
      assertTrue(err.startsWith("prefork ctl: no prefork server at shm key "), err);
      assertEquals(1, err.lines().count(), err);
    } finally {
      try (var files = Files.walk(home)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /** Frames of a watched scoreboard written to a pipe: one per header line. */
  private static long frames(String out) {
    return out.lines().filter(l -> l.startsWith("prefork 0x")).count();
  }

  private static List<Worker> workers(String json) {
    List<Worker> workers = new ArrayList<>();
    Matcher m = WORKER.matcher(json);
    while (m.find()) {
      workers.add(
          new Worker(
              Integer.parseInt(m.group(1)),
              Long.parseLong(m.group(2)),
              m.group(3),
              Long.parseLong(m.group(4)),
              Long.parseLong(m.group(5))));
    }
    return workers;
  }
}
