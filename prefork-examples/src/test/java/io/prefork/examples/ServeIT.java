package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.ServerCleanup;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.ShmSegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code serve} from the built jar: its failures, its stop on SIGTERM, its logging, its help. */
class ServeIT {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  /**
   * {@code --metrics-port}: the master's HTTP endpoint, with Prometheus metrics at /metrics and the
   * status paths, announced on two lines after the ready line.
   */
  @Test
  void metricsPortServesTheEndpoint() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli()) {
      Cli.Serve serve = cli.serve(key, "--metrics-port", "0");
      java.util.regex.Matcher metrics =
          java.util.regex.Pattern.compile(
                  "^prefork metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics$")
              .matcher(serve.nextLine());
      assertTrue(metrics.matches(), metrics.toString());
      int port = Integer.parseInt(metrics.group(1));
      assertEquals("prefork status on http://127.0.0.1:" + port + "/status", serve.nextLine());
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      java.util.function.Function<String, java.net.http.HttpResponse<String>> get =
          path -> {
            try {
              return http.send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + port + path))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
              throw new AssertionError(path, e);
            }
          };
      var scrape = get.apply("/metrics");
      assertEquals(200, scrape.statusCode(), scrape.body());
      assertTrue(scrape.body().contains("\nprefork_spawns_total 2.0\n"), scrape.body());
      assertTrue(scrape.body().contains("prefork_workers{state=\"idle\"}"), scrape.body());
      var json = get.apply("/status.json");
      assertEquals(200, json.statusCode(), json.body());
      assertTrue(json.body().startsWith("{\"masterPid\":" + serve.masterPid() + ","), json.body());
      assertEquals(200, get.apply("/healthz").statusCode());
      assertEquals(200, get.apply("/readyz").statusCode());
      assertEquals(200, get.apply("/status").statusCode());

      serve.process().destroy(); // SIGTERM
      assertTrue(Cli.awaitExit(serve.process(), Duration.ofSeconds(10)), serve.log());
      assertEquals(0, serve.process().exitValue(), serve.log());
    }
  }

  @Test
  void sigtermStopsGracefully() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli()) {
      Cli.Serve serve = cli.serve(key);
      try (RawClient client = new RawClient(serve.port())) {
        client.send("GET / HTTP/1.0\r\n\r\n");
        assertTrue(
            new String(client.readToEnd(), StandardCharsets.US_ASCII).endsWith("\r\n\r\nhello\n"));
      }
      List<ProcessHandle> children = children(serve);
      assertEquals(2, children.size(), "children: " + children);
      assertTrue(
          serve.log().contains("accept deferred until the client sends, up to 15 s"),
          "the built-in jobs' clients speak first: accept is deferred\n" + serve.log());

      serve.process().destroy(); // SIGTERM
      assertTrue(
          Cli.awaitExit(serve.process(), Duration.ofSeconds(10)),
          "serve still running 10 s after SIGTERM:\n" + serve.log());
      assertEquals(0, serve.process().exitValue(), serve.log());
      assertTrue(ShmSegment.stat(key).isEmpty(), "the segment is gone");
      assertTrue(children.stream().noneMatch(ProcessHandle::isAlive), "children are gone");
      assertTrue(serve.log().contains("wait-down"), serve.log());
    }
  }

  @Test
  void aPortInUseIsOneLineAndLeavesNoSegment() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli();
        ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Cli.Result r =
          cli.run(
              "serve",
              "--bind",
              "127.0.0.1",
              "--port",
              Integer.toString(taken.getLocalPort()),
              "--shm-key",
              ShmKeys.toHex(key));
      assertEquals(1, r.exitCode(), r.toString());
      assertEquals("", r.out(), r.toString());
      assertEquals(1, r.err().lines().count(), r.toString());
      assertTrue(r.err().startsWith("prefork serve: "), r.toString());
      assertTrue(r.err().contains("already in use"), r.toString());
      assertTrue(ShmSegment.stat(key).isEmpty(), "no segment left");
    }
  }

  @Test
  void anUnknownJobClassIsOneLine() throws Exception {
    Cli.Result r = refusedInOneLine("--job", "no.Such");
    assertEquals(1, r.exitCode(), r.toString());
    assertTrue(r.err().startsWith("prefork serve: job class no.Such "), r.toString());
  }

  @Test
  void aNegativeWarmUpIsOneLineInTheCliWords() throws Exception {
    Cli.Result r = refusedInOneLine("--warm-up", "-1");
    assertTrue(r.err().contains("--warm-up (-1) must be within 0..1000000"), r.toString());
  }

  @Test
  void aNegativeSlowStartIsOneLineInTheCliWords() throws Exception {
    Cli.Result r = refusedInOneLine("--slow-start", "-1");
    assertEquals(1, r.exitCode(), r.toString());
    assertTrue(
        r.err().contains("--slow-start (-1.0) must be 0 (none) or a positive number of seconds"),
        r.toString());
  }

  /**
   * Runs {@code serve} on a free port and a new shm key with these options, and checks that it
   * refused them in one line of stderr and left no segment.
   */
  private Cli.Result refusedInOneLine(String... options) throws Exception {
    int key = cleanup.newKey();
    List<String> args =
        new ArrayList<>(List.of("serve", "--port", "0", "--shm-key", ShmKeys.toHex(key)));
    args.addAll(List.of(options));
    try (Cli cli = new Cli()) {
      Cli.Result r = cli.run(args.toArray(String[]::new));
      assertEquals(1, r.err().lines().count(), r.toString());
      assertTrue(ShmSegment.stat(key).isEmpty(), "no segment left");
      return r;
    }
  }

  @Test
  void aBadShmKeyIsAOneLineUsageError() throws Exception {
    try (Cli cli = new Cli()) {
      for (List<String> args :
          List.of(List.of("serve", "--shm-key", "0x69zz"), List.of("ctl", "--shm-key", "0"))) {
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
        assertTrue(r.err().contains("shm key"), r.toString());
      }
    }
  }

  /**
   * {@code --log-config}: a level set in the file silences the master's INFO lines, and the
   * children get the file's settings too (their lines show levelInBrackets, and their logger's own
   * level, debug), relayed by the master although it is at warn.
   */
  @Test
  void logConfigSetsTheLevelsOfTheMasterAndTheChildren() throws Exception {
    int key = cleanup.newKey();
    Path config = Files.createTempFile("prefork-logging", ".properties");
    try (Cli cli = new Cli()) {
      Files.writeString(
          config,
          "# quiet\norg.slf4j.simpleLogger.defaultLogLevel = warn\n"
              + "org.slf4j.simpleLogger.log.io.prefork.child = debug\n"
              + "org.slf4j.simpleLogger.levelInBrackets=true\n");
      Cli.Serve serve = cli.serve(key, "--log-config", config.toString());
      List<ProcessHandle> children = children(serve);
      assertEquals(2, children.size(), "children: " + children);
      for (ProcessHandle child : children) {
        List<String> args = List.of(child.info().arguments().orElse(new String[0]));
        assertTrue(
            args.contains("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
                && args.contains("-Dorg.slf4j.simpleLogger.levelInBrackets=true"),
            "child arguments: " + args);
      }

      // A client that resets the connection in the middle of its request: the child logs it at
      // DEBUG (the client went away; not a failure of the job), which this file lets through.
      try (Socket reset = new Socket()) {
        reset.connect(new InetSocketAddress("127.0.0.1", serve.port()), 5_000);
        reset.getOutputStream().write("GET / HTTP/1.0\r\n".getBytes(StandardCharsets.US_ASCII));
        Thread.sleep(500); // a child accepted it and waits for the rest
        reset.setSoLinger(true, 0); // close() sends RST
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      Optional<String> gone;
      while ((gone = line(serve.log(), "the client went away")).isEmpty()) {
        assertTrue(System.nanoTime() < deadline, "no child debug line in 10 s:\n" + serve.log());
        Thread.sleep(100);
      }
      assertTrue(gone.get().contains("[DEBUG]"), "the child's own format: " + gone.get());
      assertTrue(line(serve.log(), "failed on a connection").isEmpty(), "no WARN:\n" + serve.log());

      serve.process().destroy(); // SIGTERM
      assertTrue(
          Cli.awaitExit(serve.process(), Duration.ofSeconds(10)),
          "serve still running 10 s after SIGTERM:\n" + serve.log());
      assertEquals(0, serve.process().exitValue(), serve.log());
      String log = serve.log();
      assertTrue(line(log, "spawned").isEmpty(), "no INFO line of the master:\n" + log);
      assertTrue(line(log, "wait-down").isEmpty(), "no INFO line of the master:\n" + log);
      assertTrue(
          log.lines().filter(l -> l.contains("INFO")).allMatch(l -> l.contains("[slot ")),
          "INFO only on the children's relayed lines:\n" + log);
    } finally {
      Files.deleteIfExists(config);
    }
  }

  /** The sample logging.properties works as written: the master logs at INFO, as by default. */
  @Test
  void theSampleLogConfigWorksAsWritten() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli()) {
      Cli.Serve serve = cli.serve(key, "--log-config", Cli.sampleLogConfig().toString());
      serve.process().destroy(); // SIGTERM
      assertTrue(
          Cli.awaitExit(serve.process(), Duration.ofSeconds(10)),
          "serve still running 10 s after SIGTERM:\n" + serve.log());
      assertEquals(0, serve.process().exitValue(), serve.log());
      String log = serve.log();
      assertTrue(line(log, "spawned").isPresent(), log);
      assertTrue(line(log, "wait-down").isPresent(), log);
    }
  }

  @Test
  void aLogConfigThatCannotBeUsedIsAOneLineUsageError() throws Exception {
    int key = cleanup.newKey();
    Path dir = Files.createTempDirectory("prefork-logging");
    Path missing = dir.resolve("missing.properties");
    Path badLevel =
        Files.writeString(
            dir.resolve("bad.properties"), "org.slf4j.simpleLogger.defaultLogLevel=warning\n");
    Path badKey = Files.writeString(dir.resolve("key.properties"), "defaultLogLevel=warn\n");
    try (Cli cli = new Cli()) {
      for (List<String> c :
          List.of(
              List.of(missing.toString(), "no such file"),
              List.of(dir.toString(), "is a directory"),
              List.of(badLevel.toString(), "'warning'"),
              List.of(badKey.toString(), "'defaultLogLevel'"))) {
        Cli.Result r =
            cli.run(
                "serve", "--port", "0", "--shm-key", ShmKeys.toHex(key), "--log-config", c.get(0));
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("", r.out(), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
        assertTrue(
            r.err().startsWith("prefork serve: --log-config " + c.get(0) + ": "), r.toString());
        assertTrue(r.err().contains(c.get(1)), r.toString());
        assertTrue(ShmSegment.stat(key).isEmpty(), "no segment");
      }
    } finally {
      Files.deleteIfExists(badLevel);
      Files.deleteIfExists(badKey);
      Files.deleteIfExists(dir);
    }
  }

  /** Every help renders: a lone % in a description makes picocli warn and print it unformatted. */
  @Test
  void everyHelpRenders() throws Exception {
    try (Cli cli = new Cli()) {
      for (String args :
          List.of(
              "--help",
              "serve --help",
              "ctl --help",
              "ctl status --help",
              "ctl wdown --help",
              "ctl fdown --help",
              "ctl restart --help")) {
        Cli.Result r = cli.run(args.split(" "));
        assertEquals(0, r.exitCode(), args + ": " + r);
        assertEquals("", r.err(), args + ": " + r);
        assertTrue(r.out().startsWith("Usage: prefork"), args + ": " + r);
      }
      String help = cli.run("serve", "--help").out().replaceAll("\\s+", " ");
      assertTrue(help.contains("(plus up to 10% jitter)"), help);
    }
  }

  /** The first line of the log that contains this text. */
  private static Optional<String> line(String log, String text) {
    return log.lines().filter(l -> l.contains(text)).findFirst();
  }

  /** The server's children, not the class-data dump that may be running beside them. */
  private static List<ProcessHandle> children(Cli.Serve serve) {
    return serve
        .process()
        .descendants()
        .filter(
            p ->
                List.of(p.info().arguments().orElse(new String[0]))
                    .contains("io.prefork.core.ChildMain"))
        .toList();
  }
}
