package io.prefork.prometheus;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.core.PreforkException;
import io.prefork.core.PreforkServer;
import io.prefork.core.ServerCleanup;
import io.prefork.core.ServerStatus;
import io.prefork.core.TestJob;
import io.prefork.core.WorkerStatus;
import io.prefork.core.internal.ops.PreforkServerJmx;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.SlotState;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Prometheus metrics end to end: a real pool, scraped over HTTP at /metrics on the master's
 * endpoint, the body checked line by line against the text exposition format 0.0.4 (the Java client
 * has writers for it, no parser).
 */
class PrometheusMetricsTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A small pool with the endpoint on 127.0.0.1 (a free port) and the metrics on it. */
  private PreforkServer.Builder withMetrics() {
    return new PrometheusMetrics()
        .addTo(cleanup.builder(TestJob.class).httpEndpoint("127.0.0.1", 0));
  }

  @Test
  void servesTheServersMetricsAndCountsACrash() throws Exception {
    PreforkServer server = cleanup.start(withMetrics());
    int port = server.httpEndpointPort();
    assertTrue(port > 0, "bound port " + port);
    assertNotEquals(server.port(), port);

    assertEquals("pong", ask(server.port(), "ping"));
    waitUntil(
        () -> server.status().totalCalls() >= 1 && server.status().count(SlotState.IDLE) == 2,
        "the call counted and both workers idle");
    ServerStatus status = server.status();
    Exposition m = scrape(port);

    assertTrue(m.value("prefork_calls_total") >= 1, m.body);
    assertEquals(status.totalCalls(), m.value("prefork_calls_total"), m.body);
    assertEquals(2, m.value("prefork_workers", "state", "idle"), m.body);
    assertEquals(0, m.value("prefork_workers", "state", "busy"), m.body);
    assertEquals(0, m.value("prefork_workers", "state", "starting"), m.body);
    assertEquals(0, m.value("prefork_workers", "state", "exiting"), m.body);
    assertEquals(status.workers().size(), m.sum("prefork_workers"), m.body);
    assertEquals(status.children(), m.value("prefork_children"), m.body);
    assertEquals(status.spawns(), m.value("prefork_spawns_total"), m.body);
    assertEquals(2, m.value("prefork_spawns_total"), m.body);
    assertEquals(status.spawns(), m.value("prefork_child_startup_seconds_count"), m.body);
    assertTrue(m.value("prefork_child_startup_seconds_sum") > 0, m.body);
    assertEquals(1, m.value("prefork_generation"), m.body);
    assertEquals(0, m.value("prefork_restarts_total"), m.body);
    assertEquals(status.listenBacklog(), m.value("prefork_listen_backlog"), m.body);
    assertTrue(m.value("prefork_listen_queue_length") >= 0, m.body);
    // RSS from /proc, refreshed once a second: a running JVM holds more than 8 MB, and the
    // children's sum grows past two of that once their JVMs are up.
    assertTrue(m.value("prefork_resident_memory_bytes", "process", "master") > 8 << 20, m.body);
    waitUntil(
        () -> scrape(port).value("prefork_resident_memory_bytes", "process", "children") > 16 << 20,
        "the children's resident memory published");
    for (String cause : List.of("requested", "crashed", "watchdog", "killed")) {
      assertEquals(0, m.value("prefork_deaths_total", "cause", cause), cause + "\n" + m.body);
    }
    assertEquals("counter", m.types.get("prefork_calls_total"), m.body);
    assertEquals("counter", m.types.get("prefork_deaths_total"), m.body);
    assertEquals("gauge", m.types.get("prefork_workers"), m.body);
    assertEquals("histogram", m.types.get("prefork_child_startup_seconds"), m.body);

    // kill -9 a child: once reaped, deaths{cause="crashed"} counts it, and its replacement's
    // start-up is in the histogram.
    WorkerStatus victim = status.workers().get(0);
    assertTrue(ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly());
    waitUntil(() -> server.status().crashes() == 1, "the crash reaped");
    assertEquals(1, scrape(port).value("prefork_deaths_total", "cause", "crashed"));
    waitUntil(
        () ->
            server.status().count(SlotState.IDLE) == 2
                && server.status().workers().stream().noneMatch(w -> w.pid() == victim.pid()),
        "a replacement accepting");
    waitUntil(
        () -> scrape(port).value("prefork_child_startup_seconds_count") == 3,
        "the replacement's start-up observed");
    Exposition after = scrape(port);
    assertEquals(server.status().spawns(), after.value("prefork_spawns_total"), after.body);
    assertEquals(3, after.value("prefork_spawns_total"), after.body);
    assertEquals(1, after.value("prefork_deaths_total", "cause", "crashed"), after.body);
    assertEquals(0, after.value("prefork_deaths_total", "cause", "requested"), after.body);
    assertTrue(after.value("prefork_calls_total") >= m.value("prefork_calls_total"));

    // The endpoint stops with the master.
    server.close();
    assertThrows(IOException.class, () -> scrape(port));
  }

  @Test
  void answersWhileEveryWorkerIsBusy() throws Exception {
    PreforkServer server = cleanup.start(withMetrics());
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        held.add(hold(server.port()));
      }
      waitUntil(() -> server.status().count(SlotState.BUSY) == 2, "both workers busy");
      long start = System.nanoTime();
      Exposition m = scrape(server.httpEndpointPort());
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(1).toNanos(), "within 1 s");
      assertEquals(2, m.value("prefork_workers", "state", "busy"), m.body);
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void serversInOneJvmHaveMetricsOfTheirOwn() throws Exception {
    PreforkServer a = cleanup.start(withMetrics());
    PreforkServer b = cleanup.start(withMetrics().minChildren(1));
    assertNotEquals(a.httpEndpointPort(), b.httpEndpointPort());
    waitUntil(() -> b.status().count(SlotState.IDLE) == 1, "b's child idle");
    assertEquals(1, scrape(b.httpEndpointPort()).value("prefork_workers", "state", "idle"));
    waitUntil(() -> a.status().count(SlotState.IDLE) == 2, "a's children idle");
    assertEquals(2, scrape(a.httpEndpointPort()).value("prefork_workers", "state", "idle"));
    assertTrue(
        PrometheusRegistry.defaultRegistry.scrape().stream()
            .noneMatch(s -> s.getMetadata().getName().startsWith("prefork")),
        "nothing in the default registry");
  }

  @Test
  void oneInstanceServesOneServer() throws Exception {
    PrometheusMetrics metrics = new PrometheusMetrics();
    cleanup.start(metrics.addTo(cleanup.builder(TestJob.class).httpEndpoint("127.0.0.1", 0)));
    PreforkServer.Builder second =
        metrics.addTo(cleanup.builder(TestJob.class).httpEndpoint("127.0.0.1", 0));
    int key = second.build().shmKey();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> cleanup.start(second));
    assertTrue(e.getMessage().contains("one instance per server"), e.getMessage());
    assertTrue(ShmSegment.stat(key).isEmpty(), "no table");
  }

  @Test
  void aSharedRegistryServesTheApplicationsMetricsToo() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    io.prometheus.metrics.core.metrics.Counter mine =
        io.prometheus.metrics.core.metrics.Counter.builder()
            .name("app_things_total")
            .help("things")
            .register(registry);
    mine.inc(3);
    PreforkServer server =
        cleanup.start(
            new PrometheusMetrics(registry)
                .addTo(cleanup.builder(TestJob.class).httpEndpoint("127.0.0.1", 0)));
    Exposition m = scrape(server.httpEndpointPort());
    assertEquals(3, m.value("app_things_total"), m.body);
    assertEquals(2, m.value("prefork_spawns_total"), m.body);
    assertThrows(IllegalArgumentException.class, () -> new PrometheusMetrics(registry));
  }

  /**
   * Scrapes and JMX reads racing the master's stop: the table is detached right after the master's
   * observers hear it stopped, so a read after that would crash this JVM, not fail an assertion.
   */
  @Test
  void readsRacingTheStopNeverTouchTheRemovedTable() throws Exception {
    PreforkServer server = cleanup.start(withMetrics());
    int port = server.httpEndpointPort();
    MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
    ObjectName name = PreforkServerJmx.objectName(server.shmKey());
    AtomicInteger scrapes = new AtomicInteger();
    AtomicInteger reads = new AtomicInteger();
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    Thread scraper =
        new Thread(
            () -> {
              while (server.isRunning() && System.nanoTime() < deadline) {
                try {
                  scrape(port);
                  scrapes.incrementAndGet();
                } catch (IOException e) {
                  return; // the endpoint is gone
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    Thread reader =
        new Thread(
            () -> {
              while (server.isRunning() && System.nanoTime() < deadline) {
                try {
                  mbeans.getAttribute(name, "IdleWorkers");
                  reads.incrementAndGet();
                } catch (Exception e) {
                  // unregistered, or stopped between the check and the read: both fine
                }
              }
            });
    scraper.start();
    reader.start();
    waitUntil(() -> scrapes.get() >= 5 && reads.get() >= 5, "reads under way");
    server.close();
    scraper.join(20_000);
    reader.join(20_000);
    assertFalse(scraper.isAlive() || reader.isAlive());
    assertFalse(mbeans.isRegistered(name));
    assertThrows(IOException.class, () -> scrape(port));
  }

  @Test
  void anEndpointPortInUseFailsTheStartAndLeavesNothing() throws Exception {
    PreforkServer first = cleanup.start(withMetrics());
    PreforkServer.Builder second =
        new PrometheusMetrics()
            .addTo(
                cleanup.builder(TestJob.class).httpEndpoint("127.0.0.1", first.httpEndpointPort()));
    int secondKey = second.build().shmKey();
    PreforkException e = assertThrows(PreforkException.class, () -> cleanup.start(second));
    assertTrue(e.getMessage().contains("cannot serve the HTTP endpoint"), e.getMessage());
    assertTrue(e.getMessage().contains(Integer.toString(first.httpEndpointPort())), e.getMessage());
    assertTrue(ShmSegment.stat(secondKey).isEmpty(), "no table");
    assertEquals(2, scrape(first.httpEndpointPort()).value("prefork_spawns_total"));
  }

  @Test
  void theMetricsNeedTheEndpoint() {
    PreforkServer.Builder builder = new PrometheusMetrics().addTo(cleanup.builder(TestJob.class));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, builder::build);
    assertTrue(e.getMessage().contains("httpEndpoint"), e.getMessage());
  }

  /** One line to the test job, its answer. */
  static String ask(int port, String line) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
      InputStream in = s.getInputStream();
      StringBuilder b = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0 && c != '\n') {
        b.append((char) c);
      }
      return b.toString();
    }
  }

  /** A connection whose worker stays busy until it is closed ("hold"). */
  static Socket hold(int port) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    OutputStream out = s.getOutputStream();
    out.write("hold\n".getBytes(StandardCharsets.UTF_8));
    out.flush();
    return s;
  }

  interface Check {
    boolean ok() throws Exception;
  }

  /** Waits until the check holds, at most 20 s. */
  static void waitUntil(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!check.ok()) {
      if (System.nanoTime() - deadline > 0) {
        fail("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }

  private Exposition scrape(int port) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertEquals(200, response.statusCode(), response.body());
    String type = response.headers().firstValue("Content-Type").orElse("");
    assertTrue(type.startsWith("text/plain; version=0.0.4"), type);
    return Exposition.parse(response.body());
  }

  /**
   * A strict reader of the Prometheus text exposition format 0.0.4: every line must be a HELP, a
   * TYPE or a sample line; every sample must belong to the family of the last TYPE line; each
   * family is typed once, before its samples; histogram buckets must be cumulative and end at +Inf
   * with the count.
   */
  static final class Exposition {
    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*";
    private static final String VALUE =
        "(?:[+-]?Inf|NaN|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)";
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE =
        Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE =
        Pattern.compile("(" + NAME + ")(?:\\{(.*)\\})? (" + VALUE + ")(?: (-?\\d+))?");
    private static final Pattern LABEL_PAIR =
        Pattern.compile("(" + LABEL + ")=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");

    record Sample(String name, Map<String, String> labels, double value) {}

    final String body;
    final Map<String, String> types = new HashMap<>();
    final Map<String, String> helps = new HashMap<>();
    final List<Sample> samples = new ArrayList<>();

    private Exposition(String body) {
      this.body = body;
    }

    static Exposition parse(String body) {
      Exposition e = new Exposition(body);
      assertTrue(body.endsWith("\n"), "the body ends with a line feed");
      String family = null;
      String familyType = null;
      int n = 0;
      for (String line : body.split("\n", -1)) {
        n++;
        if (line.isEmpty()) {
          continue;
        }
        String where = "line " + n + ": '" + line + "'";
        Matcher m;
        if ((m = HELP.matcher(line)).matches()) {
          assertNull(e.helps.put(m.group(1), m.group(2)), "a second HELP, " + where);
          assertTrue(
              m.group(2).replaceAll("\\\\[\\\\n]", "").indexOf('\\') < 0,
              "only \\\\ and \\n escapes in HELP, " + where);
        } else if ((m = TYPE.matcher(line)).matches()) {
          family = m.group(1);
          familyType = m.group(2);
          assertNull(e.types.put(family, familyType), "a second TYPE, " + where);
        } else if ((m = SAMPLE.matcher(line)).matches()) {
          String name = m.group(1);
          assertNotNull(family, "a sample before any TYPE, " + where);
          assertTrue(belongs(name, family, familyType), "not of family " + family + ", " + where);
          Map<String, String> labels = new LinkedHashMap<>();
          String text = m.group(2);
          if (text != null && !text.isEmpty()) {
            Matcher lm = LABEL_PAIR.matcher(text);
            int at = 0;
            while (at < text.length()) {
              assertTrue(lm.find(at) && lm.start() == at, "bad labels at " + at + ", " + where);
              assertNull(labels.put(lm.group(1), unescape(lm.group(2))), "repeated, " + where);
              at = lm.end();
            }
          }
          if (name.endsWith("_bucket") && "histogram".equals(familyType)) {
            assertTrue(labels.containsKey("le"), "a bucket without le, " + where);
          }
          e.samples.add(new Sample(name, labels, parseValue(m.group(3))));
        } else {
          fail("neither HELP, TYPE nor a sample, " + where);
        }
      }
      e.checkHistograms();
      return e;
    }

    private static boolean belongs(String sample, String family, String type) {
      return switch (type) {
        case "histogram" ->
            sample.equals(family + "_bucket")
                || sample.equals(family + "_sum")
                || sample.equals(family + "_count");
        case "summary" ->
            sample.equals(family)
                || sample.equals(family + "_sum")
                || sample.equals(family + "_count");
        default -> sample.equals(family);
      };
    }

    private static double parseValue(String text) {
      return switch (text) {
        case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        case "NaN" -> Double.NaN;
        default -> Double.parseDouble(text);
      };
    }

    private static String unescape(String value) {
      return value.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
    }

    private void checkHistograms() {
      types.forEach(
          (family, type) -> {
            if (!type.equals("histogram")) {
              return;
            }
            double previous = 0;
            double last = Double.NaN;
            String lastLe = null;
            for (Sample s : samples) {
              if (s.name().equals(family + "_bucket")) {
                assertTrue(s.value() >= previous, family + " buckets are cumulative\n" + body);
                previous = s.value();
                last = s.value();
                lastLe = s.labels().get("le");
              }
            }
            assertEquals("+Inf", lastLe, family + " ends at le=+Inf\n" + body);
            assertEquals(value(family + "_count"), last, family + ": +Inf bucket = count");
          });
    }

    /** The value of the one sample with this name and labels (and no others). */
    double value(String name, String... labels) {
      Map<String, String> wanted = new HashMap<>();
      for (int i = 0; i < labels.length; i += 2) {
        wanted.put(labels[i], labels[i + 1]);
      }
      List<Sample> found =
          samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(wanted)).toList();
      assertEquals(1, found.size(), name + wanted + " in\n" + body);
      return found.get(0).value();
    }

    /** The sum of every sample with this name. */
    double sum(String name) {
      return samples.stream().filter(s -> s.name().equals(name)).mapToDouble(Sample::value).sum();
    }
  }
}
