package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpExchange;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.SlotState;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The master's HTTP endpoint on a real pool, through a real HTTP client: every path's status and
 * content, its answers while every worker is busy, readiness during a wait-down, liveness of a
 * stalled master loop, and the routes an application adds.
 */
class HttpEndpointTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private PreforkServer.Builder withEndpoint() {
    return cleanup.builder(TestJob.class).httpEndpoint("127.0.0.1", 0).jmx(false);
  }

  @Test
  void servesEveryPath() throws Exception {
    PreforkServer server = cleanup.start(withEndpoint());
    int port = server.httpEndpointPort();
    assertTrue(port > 0 && port != server.port(), "port " + port);
    waitUntil(() -> server.status().count(SlotState.IDLE) == 2, "both workers idle");

    HttpResponse<String> health = get(port, "/healthz");
    assertEquals(200, health.statusCode(), health.body());
    assertTrue(health.body().startsWith("ok: the master's loop ticked "), health.body());
    assertEquals("text/plain; charset=utf-8", type(health));

    HttpResponse<String> ready = get(port, "/readyz");
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals("ready: 2 of minChildren 2 children accept\n", ready.body());

    HttpResponse<String> json = get(port, "/status.json");
    assertEquals(200, json.statusCode(), json.body());
    assertEquals("application/json", type(json));
    assertEquals("no-store", json.headers().firstValue("Cache-Control").orElse(""));
    String body = json.body();
    assertTrue(body.endsWith("}\n") && body.indexOf('\n') == body.length() - 1, body);
    // The same object as ctl status --json: the same fields in the same order.
    String ctl;
    try (ControlHandle control = server.control()) {
      ctl = control.status().toJson();
    }
    assertEquals(fieldNames(ctl), fieldNames(body));
    assertTrue(body.startsWith("{\"masterPid\":" + server.pid() + ",\"generation\":1,"), body);
    assertTrue(body.contains("\"listen\":\"127.0.0.1:" + server.port() + "\""), body);
    assertTrue(body.contains("\"workers\":{\"idle\":2,\"busy\":0,"), body);

    HttpResponse<String> page = get(port, "/status");
    assertEquals(200, page.statusCode());
    assertEquals("text/html; charset=utf-8", type(page));
    assertTrue(
        page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src"),
        page.headers().toString());
    String html = page.body();
    assertTrue(html.startsWith("<!doctype html>"), html);
    assertTrue(html.contains("<div id=\"scoreboard\" data-slots=\"3\">"), html);
    assertEquals(2, count(html, "data-state=\"IDLE\" title=\"slot"), html);
    assertEquals(1, count(html, "data-state=\"OPEN\" title=\"slot"), html);
    assertTrue(html.contains("<ul id=\"legend\">"), html);
    assertFalse(html.contains("src=\"http"), "nothing fetched from elsewhere");

    HttpResponse<String> index = get(port, "/");
    assertEquals(200, index.statusCode());
    for (String path : List.of("status", "status.json", "healthz", "readyz")) {
      assertTrue(index.body().contains("<a href=\"" + path + "\">/" + path + "</a>"), index.body());
    }

    HttpResponse<String> missing = get(port, "/nope");
    assertEquals(404, missing.statusCode());
    assertTrue(missing.body().contains("/nope"), missing.body());

    HttpResponse<String> post =
        http.send(
            request(port, "/status.json").POST(HttpRequest.BodyPublishers.ofString("x")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(405, post.statusCode());
    assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));

    HttpResponse<String> head =
        http.send(
            request(port, "/readyz").method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, head.statusCode());
    assertEquals("", head.body());

    // The endpoint goes with the master.
    server.close();
    assertThrows(IOException.class, () -> get(port, "/healthz"));
  }

  @Test
  void answersWhileEveryWorkerIsBusy() throws Exception {
    PreforkServer server = cleanup.start(withEndpoint().maxChildren(2));
    int port = server.httpEndpointPort();
    // Once before, so the timing below is the endpoint's answer, not this JVM loading the HTTP
    // client's classes for its first request.
    for (String path : List.of("/status.json", "/status", "/healthz", "/readyz")) {
      assertEquals(200, get(port, path).statusCode(), path);
    }
    List<Client> held = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        Client c = new Client(server.port());
        c.write("hold"); // the worker serves this connection until the client closes it
        held.add(c);
      }
      waitUntil(() -> server.status().count(SlotState.BUSY) == 2, "both workers busy");
      for (String path : List.of("/status.json", "/status", "/healthz", "/readyz")) {
        long start = System.nanoTime();
        HttpResponse<String> r = get(port, path);
        long took = System.nanoTime() - start;
        // The master answers, not a worker: held busy, a worker would never answer. Quiet, it
        // takes a few ms (the target is 1 s); the bound allows for a loaded CI machine.
        System.out.println(path + " answered in " + took / 1_000_000 + " ms, every worker busy");
        assertTrue(took < TimeUnit.SECONDS.toNanos(5), path + " took " + took / 1_000_000 + " ms");
        assertEquals(200, r.statusCode(), path + ": " + r.body());
      }
      String json = get(port, "/status.json").body();
      assertTrue(json.contains("\"workers\":{\"idle\":0,\"busy\":2,"), json);
      assertTrue(get(port, "/status").body().contains("data-state=\"BUSY\""));
    } finally {
      for (Client c : held) {
        c.close();
      }
    }
  }

  @Test
  void notReadyDuringAWaitDownWhileStillAlive() throws Exception {
    PreforkServer server = cleanup.start(withEndpoint());
    int port = server.httpEndpointPort();
    assertEquals(200, get(port, "/readyz").statusCode());
    Client busy = new Client(server.port());
    try {
      busy.write("hold"); // keeps one child, so the wait-down lasts until it is closed
      waitUntil(() -> server.status().count(SlotState.BUSY) == 1, "one worker busy");
      try (ControlHandle control = server.control()) {
        control.waitDown();
      }
      waitUntil(() -> get(port, "/readyz").statusCode() == 503, "not ready");
      HttpResponse<String> ready = get(port, "/readyz");
      assertEquals(503, ready.statusCode());
      assertTrue(ready.body().startsWith("not ready: stopping (STOPPING)"), ready.body());
      // Alive all the same: the master drains its children.
      assertTrue(server.isRunning());
      assertEquals(200, get(port, "/healthz").statusCode());
      String json = get(port, "/status.json").body();
      assertTrue(json.contains("\"state\":\"STOPPING\""), json);
      assertTrue(get(port, "/status").body().contains("data-state=\"FINISHING\""));
    } finally {
      busy.close();
    }
    assertTrue(server.awaitTermination(Duration.ofSeconds(20)));
    assertThrows(IOException.class, () -> get(port, "/readyz"));
  }

  /** A listener that holds the master's thread (what no listener may do) makes the master hung. */
  @Test
  void unhealthyWhileTheMastersLoopStalls() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch stalled = new CountDownLatch(1);
    ServerListener stalling =
        new ServerListener() {
          @Override
          public void childExited(
              int pid, int index, long generation, ExitCause cause, int exitCode, int signal) {
            stalled.countDown();
            try {
              release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    PreforkServer server = cleanup.start(withEndpoint().listener(stalling));
    int port = server.httpEndpointPort();
    try {
      assertEquals(200, get(port, "/healthz").statusCode());
      int victim = server.status().workers().get(0).pid();
      assertTrue(ProcessHandle.of(victim).orElseThrow().destroyForcibly());
      assertTrue(stalled.await(20, TimeUnit.SECONDS), "the master reaped the child");
      waitUntil(() -> get(port, "/healthz").statusCode() == 503, "unhealthy");
      HttpResponse<String> health = get(port, "/healthz");
      assertTrue(
          health.body().startsWith("unhealthy: the master's loop last ticked "), health.body());
      assertEquals(503, get(port, "/readyz").statusCode());
      assertEquals(200, get(port, "/status.json").statusCode(), "the table is still read");
    } finally {
      release.countDown();
    }
    waitUntil(() -> get(port, "/healthz").statusCode() == 200, "healthy again");
    waitUntil(() -> get(port, "/readyz").statusCode() == 200, "ready again");
  }

  @Test
  void servesTheApplicationsRoutes() throws Exception {
    PreforkServer server =
        cleanup.start(
            withEndpoint()
                .endpointRoute(
                    "/hello",
                    exchange -> {
                      byte[] b = "hi\n".getBytes(StandardCharsets.UTF_8);
                      exchange.sendResponseHeaders(201, b.length);
                      exchange.getResponseBody().write(b);
                      exchange.close();
                    })
                .endpointRoute(
                    "/broken",
                    (HttpExchange exchange) -> {
                      throw new IllegalStateException("a route that fails (expected)");
                    }));
    int port = server.httpEndpointPort();
    HttpResponse<String> hello = get(port, "/hello?x=1");
    assertEquals(201, hello.statusCode());
    assertEquals("hi\n", hello.body());
    assertEquals(404, get(port, "/hello/more").statusCode());
    HttpResponse<String> broken = get(port, "/broken");
    assertEquals(500, broken.statusCode());
    assertTrue(broken.body().contains("a route that fails"), broken.body());
    assertTrue(get(port, "/").body().contains("<a href=\"hello\">/hello</a>"));
    assertEquals(200, get(port, "/healthz").statusCode(), "the endpoint still serves");
  }

  @Test
  void refusesRoutesItCannotServe() {
    IllegalArgumentException reserved =
        assertThrows(
            IllegalArgumentException.class,
            () -> withEndpoint().endpointRoute("/status", exchange -> {}).build());
    assertTrue(
        reserved.getMessage().contains("one of the endpoint's own paths"), reserved.getMessage());
    IllegalArgumentException relative =
        assertThrows(
            IllegalArgumentException.class,
            () -> withEndpoint().endpointRoute("metrics", exchange -> {}).build());
    assertTrue(relative.getMessage().contains("starting with '/'"), relative.getMessage());
    IllegalArgumentException off =
        assertThrows(
            IllegalArgumentException.class,
            () -> cleanup.builder(TestJob.class).endpointRoute("/x", exchange -> {}).build());
    assertTrue(off.getMessage().contains("needs the endpoint"), off.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> cleanup.builder(TestJob.class).httpEndpoint("127.0.0.1", 70_000).build());
  }

  @Test
  void aPortInUseFailsTheStartAndLeavesNothing() throws Exception {
    PreforkServer first = cleanup.start(withEndpoint());
    PreforkServer.Builder second =
        cleanup.builder(TestJob.class).httpEndpoint("127.0.0.1", first.httpEndpointPort());
    int key = second.build().shmKey();
    PreforkException e = assertThrows(PreforkException.class, () -> cleanup.start(second));
    assertTrue(
        e.getMessage().startsWith("cannot serve the HTTP endpoint on 127.0.0.1:"), e.getMessage());
    assertTrue(ShmSegment.stat(key).isEmpty(), "no table");
    assertEquals(200, get(first.httpEndpointPort(), "/readyz").statusCode());
  }

  @Test
  void offByDefault() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(TestJob.class).minChildren(1));
    assertEquals(-1, server.httpEndpointPort());
  }

  @Test
  void coreCarriesNoPrometheusClient() {
    assertThrows(
        ClassNotFoundException.class,
        () -> Class.forName("io.prometheus.metrics.model.registry.PrometheusRegistry"));
  }

  private HttpRequest.Builder request(int port, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10));
  }

  private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return http.send(
        request(port, path).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private static String type(HttpResponse<?> r) {
    return r.headers().firstValue("Content-Type").orElse("");
  }

  private static int count(String text, String part) {
    int n = 0;
    for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
      n++;
    }
    return n;
  }

  /** The JSON's field names in order (values left out). */
  private static List<String> fieldNames(String json) {
    List<String> names = new ArrayList<>();
    Matcher m = Pattern.compile("\"(\\w+)\":").matcher(json);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
