package io.prefork.core.internal.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.prefork.core.PreforkException;
import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import io.prefork.core.internal.master.ListenSocket;
import io.prefork.core.internal.master.ServerConfig;
import io.prefork.core.internal.master.ServerEvents;
import io.prefork.core.internal.master.ServerView;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.MasterState;
import io.prefork.shm.ShmKeys;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's own HTTP endpoint ({@code PreforkServer.Builder.httpEndpoint}): the JDK's {@code
 * com.sun.net.httpserver} in the master JVM, so it answers while every worker is busy. It serves
 *
 * <ul>
 *   <li>{@code /status}: a page for people (the scoreboard and the pool's figures, refreshed every
 *       2 s);
 *   <li>{@code /status.json}: {@link ServerStatus#toJson()}, the object {@code ctl status --json}
 *       prints;
 *   <li>{@code /healthz}: 200 while the master's loop ticks (last tick under 2 s ago), else 503;
 *   <li>{@code /readyz}: 200 while at least {@code minChildren} children accept and the master is
 *       neither starting nor stopping, else 503;
 *   <li>{@code /}: an index of the paths;
 * </ul>
 *
 * and any route the application adds ({@code Builder.endpointRoute}), such as {@code /metrics}.
 *
 * <p>It is bound before the master starts (a port in use fails the start before any child) and is
 * an observer of the master: its ticks make {@code /healthz} and the history, its stop closes the
 * endpoint. The table is read through {@link #attach}'s source, which refuses once the table is
 * gone, so no request reads a removed table.
 */
public final class HttpEndpoint implements ServerEvents {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  public static final String INDEX = "/";
  public static final String STATUS = "/status";
  public static final String STATUS_JSON = "/status.json";
  public static final String HEALTHZ = "/healthz";
  public static final String READYZ = "/readyz";

  /** The paths the endpoint serves itself; a route may not take one. */
  public static final Set<String> RESERVED = Set.of(INDEX, STATUS, STATUS_JSON, HEALTHZ, READYZ);

  /** The master's loop is healthy while its last tick is younger than this. */
  public static final long HEALTHY_TICK_MILLIS = 2_000;

  /** History kept for the status page: one sample a second. */
  static final int HISTORY_SECONDS = 300;

  /** Threads answering requests (a slow client holds one). */
  static final int THREADS = 4;

  private final HttpServer http;
  private final ThreadPoolExecutor executor;
  private final Map<String, HttpHandler> routes;
  private final ServerConfig config;
  private final String where;
  private final StatusHistory history = new StatusHistory(HISTORY_SECONDS);

  private volatile Supplier<ServerStatus> source; // null until attached, and once stopped
  private volatile long lastTickNanos;
  private volatile boolean stopping;
  private volatile boolean stopped;
  private long lastSampleNanos; // master thread only

  private HttpEndpoint(
      HttpServer http,
      ThreadPoolExecutor executor,
      Map<String, HttpHandler> routes,
      ServerConfig config) {
    this.http = http;
    this.executor = executor;
    this.routes = routes;
    this.config = config;
    this.where =
        ListenSocket.where(config.httpAddress(), http.getAddress().getPort())
            + " (shm key "
            + ShmKeys.toHex(config.shmKey())
            + ")";
    this.lastTickNanos = System.nanoTime(); // the master's first tick follows within milliseconds
  }

  /**
   * Binds and starts the endpoint. Until {@link #attach} the status paths answer 503 (starting).
   *
   * @param routes the application's routes, by exact path
   * @throws PreforkException if the address cannot be bound
   */
  public static HttpEndpoint start(ServerConfig config, Map<String, HttpHandler> routes) {
    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(config.httpAddress(), config.httpPort()), 0);
    } catch (IOException e) {
      throw new PreforkException(
          "cannot serve the HTTP endpoint on "
              + ListenSocket.where(config.httpAddress(), config.httpPort())
              + ": "
              + e.getMessage()
              + "; choose another port for httpEndpoint (0 picks a free one)",
          e);
    }
    String name = "prefork-http-" + ShmKeys.toHex(config.shmKey()) + "-";
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, name + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    executor.allowCoreThreadTimeOut(true);
    HttpEndpoint endpoint = new HttpEndpoint(http, executor, Map.copyOf(routes), config);
    http.createContext("/", endpoint::handle);
    http.setExecutor(executor);
    http.start();
    log.info(
        "HTTP endpoint on http://{}/ ({})",
        ListenSocket.where(config.httpAddress(), endpoint.port()),
        String.join(", ", endpoint.paths().keySet()));
    return endpoint;
  }

  /** The bound port (the one chosen, for port 0). */
  public int port() {
    return http.getAddress().getPort();
  }

  /** Starts serving the table's values, read through {@code status} at each request. */
  public void attach(Supplier<ServerStatus> status) {
    if (!stopped) {
      source = status;
    }
  }

  @Override
  public void tick(ServerView view) {
    long now = System.nanoTime();
    lastTickNanos = now;
    history.tick(view.busyWorkers());
    Supplier<ServerStatus> s = source;
    if (s != null && now - lastSampleNanos >= TimeUnit.SECONDS.toNanos(1)) {
      lastSampleNanos = now;
      try {
        history.sample(s.get()); // a read of the table, once a second
      } catch (IllegalStateException e) {
        // stopped meanwhile
      }
    }
  }

  @Override
  public void stopping() {
    stopping = true;
  }

  /** Closes the endpoint; after this no request reads the table. Idempotent. */
  @Override
  public void stopped() {
    if (stopped) {
      return;
    }
    stopped = true;
    source = null;
    try {
      http.stop(0);
    } catch (RuntimeException e) {
      log.warn("stopping the HTTP endpoint on {} failed: {}", where, e.toString());
    }
    executor.shutdownNow();
  }

  /** Every path served, with what it is: the index page lists them. */
  Map<String, String> paths() {
    Map<String, String> paths = new LinkedHashMap<>();
    paths.put(STATUS, "the status page");
    paths.put(STATUS_JSON, "the status as JSON (ctl status --json)");
    paths.put(HEALTHZ, "liveness: the master's loop runs");
    paths.put(READYZ, "readiness: minChildren accept, not starting or stopping");
    routes.keySet().stream().sorted().forEach(p -> paths.put(p, "added by the application"));
    return paths;
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  private void handle(HttpExchange exchange) throws IOException {
    try {
      String path = exchange.getRequestURI().getPath();
      HttpHandler route = routes.get(path);
      if (route != null) {
        route.handle(exchange);
        return;
      }
      if (!RESERVED.contains(path)) {
        send(exchange, 404, TEXT, "no such path: " + path + "; see / for the paths served\n");
        return;
      }
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, TEXT, method + " is not allowed: GET or HEAD\n");
        return;
      }
      switch (path) {
        case HEALTHZ -> healthz(exchange);
        case READYZ -> readyz(exchange);
        case STATUS_JSON -> statusJson(exchange);
        case STATUS -> statusPage(exchange);
        default -> send(exchange, 200, HTML, StatusPage.index(paths()));
      }
    } catch (IOException e) {
      log.debug("HTTP endpoint {}: {}", where, e.toString()); // the client went away
    } catch (RuntimeException | Error e) {
      log.warn("HTTP endpoint {}: {} failed", where, exchange.getRequestURI(), e);
      if (exchange.getResponseCode() == -1) {
        try {
          send(exchange, 500, TEXT, "internal error: " + e + "\n");
        } catch (IOException | RuntimeException ignored) {
          // the client went away
        }
      }
      if (e instanceof VirtualMachineError) {
        throw e;
      }
    } finally {
      exchange.close();
    }
  }

  /** The status now, or null before the server is ready and after it stopped. */
  private ServerStatus status() {
    Supplier<ServerStatus> s = source;
    if (s == null || stopped) {
      return null;
    }
    try {
      return s.get();
    } catch (IllegalStateException e) {
      return null; // the server has stopped
    }
  }

  /** How long ago the master's loop last ticked. */
  long tickAgeMillis() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastTickNanos);
  }

  /** What {@code /healthz} says, and why. */
  public record Verdict(boolean ok, String why) {}

  Verdict health() {
    long age = tickAgeMillis();
    if (stopped) {
      return new Verdict(false, "the master has stopped");
    }
    if (age >= HEALTHY_TICK_MILLIS) {
      return new Verdict(
          false,
          "the master's loop last ticked "
              + age
              + " ms ago (limit "
              + HEALTHY_TICK_MILLIS
              + " ms): hung or overloaded");
    }
    return new Verdict(true, "the master's loop ticked " + age + " ms ago");
  }

  Verdict readiness(ServerStatus s) {
    Verdict health = health();
    if (!health.ok()) {
      return health;
    }
    if (s == null) {
      return new Verdict(false, stopping ? "stopping" : "starting: the pool is not ready yet");
    }
    MasterState state = s.masterState();
    if (stopping || state == MasterState.STOPPING || state == MasterState.FORCE_STOPPING) {
      return new Verdict(false, "stopping (" + state + "): children are leaving");
    }
    if (state != MasterState.RUNNING && state != MasterState.RESTARTING) {
      return new Verdict(false, state.name());
    }
    int accepting = acceptingChildren(s);
    String counted =
        accepting
            + " of minChildren "
            + s.minChildren()
            + " children accept"
            + (state == MasterState.RESTARTING ? " (restarting)" : "");
    return new Verdict(accepting >= s.minChildren(), counted);
  }

  /**
   * Children whose every worker is up (IDLE, BUSY or PARKED) and that were not asked to exit: the
   * capacity that stays.
   */
  static int acceptingChildren(ServerStatus s) {
    Map<Integer, Integer> accepting = new HashMap<>();
    Map<Integer, Boolean> ok = new HashMap<>();
    for (WorkerStatus w : s.workers()) {
      if (w.pid() <= 0) {
        continue;
      }
      boolean accepts = w.state().isAccepting() && w.exitRequest() == ExitRequest.NONE;
      ok.merge(w.pid(), accepts, Boolean::logicalAnd);
      accepting.merge(w.pid(), 1, Integer::sum);
    }
    int n = 0;
    for (var e : ok.entrySet()) {
      if (e.getValue() && accepting.get(e.getKey()) == s.threadsPerChild()) {
        n++;
      }
    }
    return n;
  }

  private void healthz(HttpExchange exchange) throws IOException {
    Verdict v = health();
    send(exchange, v.ok() ? 200 : 503, TEXT, (v.ok() ? "ok: " : "unhealthy: ") + v.why() + "\n");
  }

  private void readyz(HttpExchange exchange) throws IOException {
    Verdict v = readiness(status());
    send(exchange, v.ok() ? 200 : 503, TEXT, (v.ok() ? "ready: " : "not ready: ") + v.why() + "\n");
  }

  private void statusJson(HttpExchange exchange) throws IOException {
    ServerStatus s = status();
    if (s == null) {
      StringBuilder b = new StringBuilder("{\"error\":");
      StatusJson.string(b, stopped ? "the server has stopped" : "the server is starting");
      send(exchange, 503, JSON, b.append("}\n").toString());
      return;
    }
    send(exchange, 200, JSON, s.toJson() + "\n");
  }

  private void statusPage(HttpExchange exchange) throws IOException {
    ServerStatus s = status();
    if (s == null) {
      send(
          exchange,
          503,
          HTML,
          StatusPage.unavailable(
              stopped ? "the server has stopped" : "starting: the pool is not ready yet"));
      return;
    }
    List<StatusHistory.Sample> samples = history.samples();
    String page =
        StatusPage.render(s, samples, history.capacity(), health(), readiness(s), paths().keySet());
    exchange.getResponseHeaders().set("Content-Security-Policy", StatusPage.POLICY);
    send(exchange, 200, HTML, page);
  }

  static final String TEXT = "text/plain; charset=utf-8";
  static final String JSON = "application/json";
  static final String HTML = "text/html; charset=utf-8";

  private static void send(HttpExchange exchange, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    var headers = exchange.getResponseHeaders();
    headers.set("Content-Type", type);
    headers.set("Cache-Control", "no-store");
    headers.set("X-Content-Type-Options", "nosniff");
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }
}
