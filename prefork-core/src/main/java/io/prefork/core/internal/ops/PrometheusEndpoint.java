package io.prefork.core.internal.ops;

import io.prefork.core.PreforkException;
import io.prefork.core.ServerStatus;
import io.prefork.core.internal.master.ChildProcess;
import io.prefork.core.internal.master.ExitCause;
import io.prefork.core.internal.master.ListenSocket;
import io.prefork.core.internal.master.ServerConfig;
import io.prefork.core.internal.master.ServerEvents;
import io.prefork.core.internal.protocol.ExitStatus;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.SlotState;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Prometheus endpoint of one server ({@link PreforkServer.Builder#metricsPort(int)}): an HTTP
 * server on {@code metricsAddress:metricsPort} serving {@code /metrics} in the text exposition
 * format from a registry of its own (several servers may live in one JVM), and an observer of the
 * master. It starts before the master and stops when the master stops.
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
 *       watchdog, killed, start_timeout, exited</td><td>children gone, by cause (see {@link ExitCause})</td></tr>
 *   <tr><td>{@code prefork_restarts_total}</td><td>counter</td><td></td><td>restarts
 *       completed</td></tr>
 *   <tr><td>{@code prefork_generation}</td><td>gauge</td><td></td><td>the current generation</td>
 *       </tr>
 *   <tr><td>{@code prefork_listen_queue_length}</td><td>gauge</td><td></td><td>connections waiting
 *       in the accept queue, as the kernel last reported it</td></tr>
 *   <tr><td>{@code prefork_listen_backlog}</td><td>gauge</td><td></td><td>the accept queue's
 *       limit</td></tr>
 *   <tr><td>{@code prefork_child_startup_seconds}</td><td>histogram</td><td></td><td>time from a
 *       child's spawn until all its workers accept</td></tr>
 * </table>
 *
 * <p>The gauges and the calls, spawns and restarts counters are read from the shared status table
 * once per scrape, so they match {@code ctl status}; the counters never go down, even while a gone
 * child's calls move from its slot to the table's total. Deaths and start-up times are counted from
 * the master's events since this endpoint started.
 *
 * <p>This is the only class that references {@code io.prometheus} types, and only its nested {@code
 * Exporter} does: {@link #start} checks the class path first, so without the client on it the core
 * runs as long as metrics are off, and fails clearly when they are on.
 */
public final class PrometheusEndpoint implements ServerEvents {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** What an application adds to serve metrics. */
  static final String ARTIFACTS =
      "io.prometheus:prometheus-metrics-core and io.prometheus:prometheus-metrics-exporter-httpserver"
          + " (1.x, with their dependencies)";

  /** A class of each artifact the exporter needs, with the artifact it comes from. */
  private static final List<String[]> REQUIRED =
      List.of(
          new String[] {"io.prometheus.metrics.core.metrics.Counter", "prometheus-metrics-core"},
          new String[] {
            "io.prometheus.metrics.model.registry.PrometheusRegistry", "prometheus-metrics-model"
          },
          new String[] {
            "io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter",
            "prometheus-metrics-exposition-textformats"
          },
          new String[] {
            "io.prometheus.metrics.exporter.httpserver.HTTPServer",
            "prometheus-metrics-exporter-httpserver"
          });

  private final Exporter exporter;

  private PrometheusEndpoint(Exporter exporter) {
    this.exporter = exporter;
  }

  /**
   * Binds and starts the endpoint. Until {@link #attach} it serves only the event metrics.
   *
   * @throws PreforkException if the Prometheus client is not on the class path, or the port cannot
   *     be bound
   */
  public static PrometheusEndpoint start(ServerConfig config) {
    ClassLoader loader = PrometheusEndpoint.class.getClassLoader();
    for (String[] required : REQUIRED) {
      try {
        Class.forName(required[0], false, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        throw new PreforkException(
            "metricsPort is set but the Prometheus client is not on the class path (no "
                + required[0]
                + " from io.prometheus:"
                + required[1]
                + "): add "
                + ARTIFACTS
                + ", or leave metricsPort at -1");
      }
    }
    try {
      // Exporter is loaded and linked here, not before: the check above ran first.
      return new PrometheusEndpoint(new Exporter(config));
    } catch (LinkageError e) {
      throw new PreforkException(
          "the Prometheus client on the class path does not fit prefork ("
              + e
              + "): use "
              + ARTIFACTS
              + " of one 1.x version",
          e);
    }
  }

  /** The bound port (the one chosen, for metricsPort 0). */
  public int port() {
    return exporter.port;
  }

  /** Starts serving the table's values, read through {@code status} at each scrape. */
  public void attach(Supplier<ServerStatus> status) {
    exporter.attach(status);
  }

  @Override
  public void childReady(ChildProcess child, long startupNanos) {
    exporter.childReady(startupNanos);
  }

  @Override
  public void exited(ChildProcess child, ExitStatus status, ExitCause cause) {
    exporter.exited(cause);
  }

  /** Stops the HTTP server; no scrape reads the table after this returns. Idempotent. */
  @Override
  public void stopped() {
    exporter.stop();
  }

  /**
   * Everything that touches {@code io.prometheus}: loaded only once the classes are known there.
   */
  private static final class Exporter implements MultiCollector {
    private static final double[] STARTUP_BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private static final List<String> NAMES =
        List.of(
            "prefork_workers",
            "prefork_children",
            "prefork_calls",
            "prefork_spawns",
            "prefork_restarts",
            "prefork_generation",
            "prefork_listen_queue_length",
            "prefork_listen_backlog");

    private final String where;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter deaths;
    private final Histogram startup;
    private final HTTPServer http;
    private final int port;

    /** Guards the status source against the table's removal: see {@link #stop()}. */
    private final ReentrantReadWriteLock guard = new ReentrantReadWriteLock();

    private Supplier<ServerStatus> source; // guarded by guard
    private boolean stopped; // guarded by guard

    // The largest values served so far: counters never go down.
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong spawns = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();

    Exporter(ServerConfig config) {
      where =
          ListenSocket.where(config.metricsAddress(), config.metricsPort())
              + " (shm key "
              + ShmKeys.toHex(config.shmKey())
              + ")";
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
      registry.register(this);
      try {
        http =
            HTTPServer.builder()
                .inetAddress(config.metricsAddress())
                .port(config.metricsPort())
                .registry(registry)
                .buildAndStart();
      } catch (IOException e) {
        throw new PreforkException(
            "cannot serve metrics on "
                + ListenSocket.where(config.metricsAddress(), config.metricsPort())
                + ": "
                + e.getMessage()
                + "; choose another metricsPort (0 picks a free one)",
            e);
      }
      port = http.getPort();
      log.info(
          "Prometheus metrics on http://{}/metrics",
          ListenSocket.where(config.metricsAddress(), port));
    }

    void childReady(long startupNanos) {
      startup.observe(Unit.nanosToSeconds(startupNanos));
    }

    void exited(ExitCause cause) {
      deaths.labelValues(cause.label()).inc();
    }

    public void attach(Supplier<ServerStatus> status) {
      guard.writeLock().lock();
      try {
        if (!stopped) {
          source = status;
        }
      } finally {
        guard.writeLock().unlock();
      }
    }

    /**
     * After this, no scrape reads the table: the master removes it right after its observers hear
     * that it stopped.
     */
    void stop() {
      guard.writeLock().lock();
      try {
        if (stopped) {
          return;
        }
        stopped = true;
        source = null;
      } finally {
        guard.writeLock().unlock();
      }
      try {
        http.close();
      } catch (RuntimeException e) {
        log.warn("stopping the metrics endpoint for {} failed: {}", where, e.toString());
      }
    }

    /** The table's status now, or null before {@link #attach} and after {@link #stop}. */
    private ServerStatus status() {
      guard.readLock().lock();
      try {
        if (stopped || source == null) {
          return null;
        }
        return source.get();
      } catch (IllegalStateException e) {
        return null; // the server has stopped
      } finally {
        guard.readLock().unlock();
      }
    }

    @Override
    public MetricSnapshots collect() {
      ServerStatus s = status();
      if (s == null) {
        return new MetricSnapshots();
      }
      GaugeSnapshot.Builder workers =
          GaugeSnapshot.builder()
              .name("prefork_workers")
              .help("Worker slots in use, by state: idle, busy, starting, exiting");
      for (SlotState state :
          List.of(SlotState.IDLE, SlotState.BUSY, SlotState.STARTING, SlotState.EXITING)) {
        workers.dataPoint(gauge(s.count(state), "state", label(state)));
      }
      long unknown = s.count(SlotState.UNKNOWN);
      if (unknown > 0) {
        workers.dataPoint(gauge(unknown, "state", label(SlotState.UNKNOWN)));
      }
      return MetricSnapshots.of(
          workers.build(),
          GaugeSnapshot.builder()
              .name("prefork_children")
              .help("Child processes in the pool")
              .dataPoint(gauge(s.children()))
              .build(),
          counter(
              "prefork_calls",
              "Connections accepted since the start, by children alive or gone",
              calls,
              s.totalCalls()),
          counter("prefork_spawns", "Children spawned", spawns, s.spawns()),
          counter("prefork_restarts", "Restarts completed", restarts, s.restarts()),
          GaugeSnapshot.builder()
              .name("prefork_generation")
              .help("The current generation (one more per restart)")
              .dataPoint(gauge(s.generation()))
              .build(),
          GaugeSnapshot.builder()
              .name("prefork_listen_queue_length")
              .help("Connections waiting in the accept queue")
              .dataPoint(gauge(s.listenQueue()))
              .build(),
          GaugeSnapshot.builder()
              .name("prefork_listen_backlog")
              .help("The accept queue's limit")
              .dataPoint(gauge(s.listenBacklog()))
              .build());
    }

    @Override
    public List<String> getPrometheusNames() {
      return NAMES;
    }

    private static String label(SlotState state) {
      return state.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static GaugeDataPointSnapshot gauge(double value, String... labels) {
      return GaugeDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build();
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
}
