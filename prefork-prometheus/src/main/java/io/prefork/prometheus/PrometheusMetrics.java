package io.prefork.prometheus;

import com.sun.net.httpserver.HttpHandler;
import io.prefork.core.PreforkServer;
import io.prefork.core.ServerListener;
import io.prefork.core.ServerStatus;
import io.prefork.shm.SlotState;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prometheus metrics of one prefork server, served at {@code /metrics} on the master's HTTP
 * endpoint, in the text exposition format (or OpenMetrics or protobuf, as the scraper asks), by the
 * official Prometheus Java client:
 *
 * <pre>{@code
 * PreforkServer.Builder builder =
 *     PreforkServer.builder()
 *         .httpEndpoint("127.0.0.1", 9405) // also serves /status, /healthz, /readyz
 *         ...;
 * new PrometheusMetrics().addTo(builder); // a listener, and the route /metrics
 * PreforkServer server = builder.build().start();
 * }</pre>
 *
 * <table>
 *   <caption>Metrics</caption>
 *   <tr><th>name</th><th>type</th><th>labels</th><th>what</th></tr>
 *   <tr><td>{@code prefork_workers}</td><td>gauge</td><td>{@code state}: idle, busy, starting,
 *       exiting</td><td>worker slots in use, by state; they add up to the workers of {@code ctl
 *       status} ({@code state="unknown"} appears only for a corrupt slot)</td></tr>
 *   <tr><td>{@code prefork_children}</td><td>gauge</td><td></td><td>child processes in the
 *       pool</td></tr>
 *   <tr><td>{@code prefork_calls_total}</td><td>counter</td><td></td><td>connections accepted
 *       since the start, by children alive or gone</td></tr>
 *   <tr><td>{@code prefork_spawns_total}</td><td>counter</td><td></td><td>children
 *       spawned</td></tr>
 *   <tr><td>{@code prefork_deaths_total}</td><td>counter</td><td>{@code cause}: requested, crashed,
 *       watchdog, killed, start_timeout, exited</td><td>children gone, by cause (see {@link
 *       ServerListener.ExitCause})</td></tr>
 *   <tr><td>{@code prefork_restarts_total}</td><td>counter</td><td></td><td>restarts
 *       completed</td></tr>
 *   <tr><td>{@code prefork_generation}</td><td>gauge</td><td></td><td>the current generation</td>
 *       </tr>
 *   <tr><td>{@code prefork_listen_queue_length}</td><td>gauge</td><td></td><td>connections waiting
 *       in the accept queue, as the kernel last reported it</td></tr>
 *   <tr><td>{@code prefork_listen_backlog}</td><td>gauge</td><td></td><td>the accept queue's
 *       limit</td></tr>
 *   <tr><td>{@code prefork_resident_memory_bytes}</td><td>gauge</td><td>{@code process}: master,
 *       children</td><td>resident memory (RSS, as {@code ps} shows it) of the master and of its
 *       children summed, refreshed once a second</td></tr>
 *   <tr><td>{@code prefork_child_startup_seconds}</td><td>histogram</td><td></td><td>time from a
 *       child's spawn until all its workers accept</td></tr>
 * </table>
 *
 * <p>The gauges and the calls, spawns and restarts counters are read from the server's status table
 * at each scrape ({@link PreforkServer#status()}), so they match {@code ctl status}; the counters
 * never go down, even while a gone child's calls move from its slot to the table's total. Deaths
 * and start-up times are counted from the master's events ({@link ServerListener}) since the server
 * started. Before the server is ready and after it stopped, only those two are served.
 *
 * <p>One instance serves one server. Its metrics go to a registry of its own by default, so several
 * servers in one JVM do not collide; give {@link #PrometheusMetrics(PrometheusRegistry)} a shared
 * registry (for instance with the JVM's metrics) to serve them together.
 */
public final class PrometheusMetrics implements ServerListener {
  /** The path {@link #addTo} serves the metrics at. */
  public static final String PATH = "/metrics";

  private static final double[] STARTUP_BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

  private final PrometheusRegistry registry;
  private final Counter deaths;
  private final Histogram startup;
  private volatile PreforkServer server; // from starting(); null before

  // The largest values served so far: counters never go down.
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong spawns = new AtomicLong();
  private final AtomicLong restarts = new AtomicLong();

  /** Metrics in a registry of their own. */
  public PrometheusMetrics() {
    this(new PrometheusRegistry());
  }

  /**
   * Metrics registered in {@code registry}.
   *
   * @param registry where the metrics are registered; {@link #handler()} serves all of it
   * @throws IllegalArgumentException if the registry has metrics of these names already
   */
  public PrometheusMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    deaths =
        Counter.builder()
            .name("prefork_deaths_total")
            .help(
                "Children gone, by cause: requested, crashed, watchdog, killed, start_timeout,"
                    + " exited")
            .labelNames("cause")
            .register(registry);
    for (ExitCause cause : ExitCause.values()) {
      deaths.labelValues(cause.label()); // present at 0 from the start, so rate() works
    }
    startup =
        Histogram.builder()
            .name("prefork_child_startup_seconds")
            .help("Time from a child's spawn until all its workers accept")
            .unit(Unit.SECONDS)
            .classicOnly()
            .classicUpperBounds(STARTUP_BUCKETS)
            .register(registry);
    registry.register(new TableCollector());
    // The client's classes for an observation load here, not on the master's thread at the first
    // child's start (a histogram of its own, not registered, so nothing is counted).
    Histogram.builder()
        .name("prefork_warm_up")
        .classicOnly()
        .classicUpperBounds(STARTUP_BUCKETS)
        .build()
        .observe(0.1);
  }

  /**
   * Registers this as a listener of the builder's server and serves {@link #handler()} at {@value
   * #PATH} on its HTTP endpoint, which the builder must have ({@link
   * PreforkServer.Builder#httpEndpoint(String, int)}).
   *
   * @param builder the server's builder
   * @return the same builder
   */
  public PreforkServer.Builder addTo(PreforkServer.Builder builder) {
    return builder.listener(this).endpointRoute(PATH, handler());
  }

  /**
   * A handler that serves the registry: the exposition format the scraper asks for, gzip if it
   * accepts it, {@code name[]} filters.
   *
   * @return a new handler of this registry
   */
  public HttpHandler handler() {
    return new MetricsHandler(registry);
  }

  /** {@return the registry the metrics are registered in} */
  public PrometheusRegistry registry() {
    return registry;
  }

  @Override
  public void starting(PreforkServer server) {
    synchronized (this) {
      if (this.server != null && this.server != server) {
        throw new IllegalStateException(
            "this PrometheusMetrics already serves " + this.server + ": one instance per server");
      }
      this.server = server;
    }
  }

  @Override
  public void childReady(int pid, int index, long generation, Duration startup) {
    this.startup.observe(Unit.nanosToSeconds(startup.toNanos()));
  }

  @Override
  public void childExited(
      int pid, int index, long generation, ExitCause cause, int exitCode, int signal) {
    deaths.labelValues(cause.label()).inc();
  }

  /** The server's status now, or null before it is ready and after it stopped. */
  private ServerStatus status() {
    PreforkServer s = server;
    if (s == null) {
      return null;
    }
    try {
      return s.status();
    } catch (IllegalStateException e) {
      return null; // not started yet, or stopped
    }
  }

  /** The table's figures, read at each scrape. */
  private final class TableCollector implements MultiCollector {
    private static final List<SlotState> STATES =
        List.of(
            SlotState.IDLE,
            SlotState.BUSY,
            SlotState.PARKED,
            SlotState.STARTING,
            SlotState.EXITING);

    private static final String WORKERS_HELP =
        "Worker slots in use, by state: idle, busy, parked, starting, exiting";
    private static final String CHILDREN_HELP = "Child processes in the pool";
    private static final String CALLS_HELP =
        "Connections accepted since the start, by children alive or gone";
    private static final String SPAWNS_HELP = "Children spawned";
    private static final String RESTARTS_HELP = "Restarts completed";
    private static final String GENERATION_HELP = "The current generation (one more per restart)";
    private static final String QUEUE_HELP = "Connections waiting in the accept queue";
    private static final String BACKLOG_HELP = "The accept queue's limit";
    private static final String MEMORY_HELP =
        "Resident memory of the master and of its children summed (RSS, as ps shows it)";

    @Override
    public MetricSnapshots collect() {
      ServerStatus s = status();
      if (s == null) {
        return new MetricSnapshots();
      }
      GaugeSnapshot.Builder workers =
          GaugeSnapshot.builder().name("prefork_workers").help(WORKERS_HELP);
      for (SlotState state : STATES) {
        workers.dataPoint(gauge(s.count(state), "state", label(state)));
      }
      long unknown = s.count(SlotState.UNKNOWN);
      if (unknown > 0) {
        workers.dataPoint(gauge(unknown, "state", label(SlotState.UNKNOWN)));
      }
      GaugeSnapshot memory =
          GaugeSnapshot.builder()
              .name("prefork_resident_memory_bytes")
              .help(MEMORY_HELP)
              .dataPoint(gauge(s.masterRssBytes(), "process", "master"))
              .dataPoint(gauge(s.childrenRssBytes(), "process", "children"))
              .build();
      return MetricSnapshots.of(
          workers.build(),
          gauge("prefork_children", CHILDREN_HELP, s.children()),
          counter("prefork_calls", CALLS_HELP, calls, s.totalCalls()),
          counter("prefork_spawns", SPAWNS_HELP, spawns, s.spawns()),
          counter("prefork_restarts", RESTARTS_HELP, restarts, s.restarts()),
          gauge("prefork_generation", GENERATION_HELP, s.generation()),
          gauge("prefork_listen_queue_length", QUEUE_HELP, s.listenQueue()),
          gauge("prefork_listen_backlog", BACKLOG_HELP, s.listenBacklog()),
          memory);
    }

    /** What {@link #collect()} may return, for the registry's checks of duplicate names. */
    @Override
    public List<MetricFamilyDescriptor> getMetricFamilyDescriptors() {
      return List.of(
          MetricFamilyDescriptor.gauge("prefork_workers")
              .help(WORKERS_HELP)
              .labelNames("state")
              .build(),
          MetricFamilyDescriptor.gauge("prefork_children").help(CHILDREN_HELP).build(),
          MetricFamilyDescriptor.counter("prefork_calls").help(CALLS_HELP).build(),
          MetricFamilyDescriptor.counter("prefork_spawns").help(SPAWNS_HELP).build(),
          MetricFamilyDescriptor.counter("prefork_restarts").help(RESTARTS_HELP).build(),
          MetricFamilyDescriptor.gauge("prefork_generation").help(GENERATION_HELP).build(),
          MetricFamilyDescriptor.gauge("prefork_listen_queue_length").help(QUEUE_HELP).build(),
          MetricFamilyDescriptor.gauge("prefork_listen_backlog").help(BACKLOG_HELP).build(),
          MetricFamilyDescriptor.gauge("prefork_resident_memory_bytes")
              .help(MEMORY_HELP)
              .labelNames("process")
              .build());
    }

    private static String label(SlotState state) {
      return state.name().toLowerCase(Locale.ROOT);
    }

    private static GaugeDataPointSnapshot gauge(double value, String... labels) {
      return GaugeDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build();
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
      return GaugeSnapshot.builder().name(name).help(help).dataPoint(gauge(value)).build();
    }

    /** A counter of a table value, never below what was served before. */
    private static CounterSnapshot counter(String name, String help, AtomicLong max, long value) {
      long served = max.accumulateAndGet(value, Math::max);
      return CounterSnapshot.builder()
          .name(name)
          .help(help)
          .dataPoint(CounterDataPointSnapshot.builder().value(served).build())
          .build();
    }
  }

  @Override
  public String toString() {
    PreforkServer s = server;
    return "PrometheusMetrics[" + (s == null ? "not started" : s) + "]";
  }
}
