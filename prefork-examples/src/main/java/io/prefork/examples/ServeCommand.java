package io.prefork.examples;

import io.prefork.core.PreforkException;
import io.prefork.core.PreforkServer;
import io.prefork.prometheus.PrometheusMetrics;
import io.prefork.shm.ShmKeys;
import java.io.PrintWriter;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code serve}: runs a prefork server in the foreground until a wait-down or force-down (from
 * {@code ctl}, SIGTERM or SIGINT). Once every child accepts it prints one line to standard output,
 * which scripts parse for "port N" and "master pid N":
 *
 * <pre>
 * prefork listening on 0.0.0.0:6905 (port 6905), master pid 12345, shm key 0x00006905
 * </pre>
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a prefork server in the foreground.",
      "SIGTERM and SIGINT stop it gracefully, SIGHUP restarts the children, SIGTTIN and SIGTTOU"
          + " add or remove one."
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--bind",
      paramLabel = "ADDR",
      defaultValue = "0.0.0.0",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--port",
      paramLabel = "N",
      defaultValue = "6905",
      description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--min",
      paramLabel = "N",
      description =
          "Children started at once and always kept (default: "
              + PreforkServer.DEFAULT_MIN_CHILDREN
              + ", or --max if that is less; see docs/performance.md).")
  Integer min;

  @Option(
      names = "--max",
      paramLabel = "N",
      description =
          "Most children when all workers are busy (default: "
              + PreforkServer.DEFAULT_MAX_CHILDREN
              + ", or --min if that is more).")
  Integer max;

  @Option(
      names = "--shm-key",
      paramLabel = "KEY",
      defaultValue = "0x6905",
      converter = ShmKeyConverter.class,
      description = "System V key of the status table, hex or decimal (default: ${DEFAULT-VALUE}).")
  int shmKey;

  @Option(
      names = "--job",
      paramLabel = "hello|hello-ka|echo|wait|cpu|CLASS",
      defaultValue = "hello",
      description =
          "hello: HTTP/1.0 'hello', one request per connection; hello-ka: the same over HTTP/1.1"
              + " keep-alive; echo: echoes lines; wait: 'hello' after 10 ms; cpu: about 0.2 ms of"
              + " Java work per request; or a ChildJob class on the class path"
              + " (default: ${DEFAULT-VALUE}).")
  String job;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description =
          "Worker threads per child, each serving one connection (default: "
              + PreforkServer.DEFAULT_THREADS_PER_CHILD
              + "; the job must be thread-safe).")
  Integer threads;

  @Option(
      names = "--min-threads",
      paramLabel = "N",
      description =
          "Worker threads of each child that always accept (default: "
              + PreforkServer.DEFAULT_MIN_THREADS_PER_CHILD
              + ", or --threads if smaller). The others are parked spares: a child accepts on"
              + " twice as many when those are all busy and the cores have time, up to --threads"
              + " (all at once when long conversations hold them),"
              + " and parks half again after 10 s in which a quarter sufficed. Equal to --threads:"
              + " every thread always accepts.")
  Integer minThreads;

  @Option(
      names = "--warm-up",
      paramLabel = "N",
      description =
          "Warm-up connections each child serves before it accepts, for a job with a warm-up"
              + " request (the built-in jobs have one): the JIT compiles the request's path before"
              + " clients wait for it; at most 2 s a child. 0: none (default: "
              + PreforkServer.DEFAULT_WARM_UP_CONNECTIONS
              + ").")
  Integer warmUp;

  @Option(
      names = "--slow-start",
      paramLabel = "SECONDS",
      description =
          "A replacement (ctl restart, --max-calls) spawned while the pool serves and the cores are"
              + " busy takes"
              + " connections gradually over this time, one at a time first, and the child it"
              + " replaces serves until then; one replacement warms at a time (two from 8"
              + " children): a restart under load dips less and takes longer. 0: none (default: "
              + PreforkServer.DEFAULT_SLOW_START_SECONDS
              + ").")
  Double slowStart;

  @Option(
      names = "--min-spare",
      paramLabel = "N",
      description = "Idle workers to keep at least; fewer spawn more children (default: 1).")
  Integer minSpare;

  @Option(
      names = "--max-spare",
      paramLabel = "N",
      description =
          "Idle workers to keep at most; more retire one child a second (default: max(min-spare"
              + " + 1, min * threads), the workers of --min children).")
  Integer maxSpare;

  @Option(
      names = "--read-timeout",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description =
          "A client must send its request within this time; trickling bytes do not extend it"
              + " (default: ${DEFAULT-VALUE}).")
  double readTimeout;

  @Option(
      names = "--write-timeout",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description =
          "A write to a client that acknowledges nothing for this long fails and frees the"
              + " worker; a slow client that keeps reading is not cut (default: ${DEFAULT-VALUE}).")
  double writeTimeout;

  @Option(
      names = "--job-timeout",
      paramLabel = "SECONDS",
      defaultValue = "30",
      description =
          "A child busy on one connection longer gets a thread dump, then is replaced; 0 turns"
              + " the watchdog off (default: ${DEFAULT-VALUE}).")
  double jobTimeout;

  @Option(
      names = "--max-calls",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Recycle a child after N connections (plus up to 10%% jitter); 0: never (default:"
              + " ${DEFAULT-VALUE}).")
  long maxCalls;

  @Option(
      names = "--graceful-timeout",
      paramLabel = "SECONDS",
      defaultValue = "30",
      description = "How long a wait-down waits for busy children (default: ${DEFAULT-VALUE}).")
  double gracefulTimeout;

  @Option(
      names = "--drain-delay",
      paramLabel = "SECONDS",
      defaultValue = "0",
      description =
          "On a wait-down, how long the children keep serving after /readyz turns 503, so a load"
              + " balancer stops sending first (default: ${DEFAULT-VALUE}).")
  double drainDelay;

  @Option(
      names = "--start-timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      description =
          "How long the children may take to accept at start, and a new child at any time, before"
              + " the start fails or the child is killed (default: ${DEFAULT-VALUE}).")
  double startTimeout;

  @Option(
      names = "--backlog",
      paramLabel = "N",
      defaultValue = "511",
      description =
          "The listening socket's accept queue (capped by net.core.somaxconn; default:"
              + " ${DEFAULT-VALUE}).")
  int backlog;

  @Option(
      names = "--defer-accept",
      paramLabel = "SECONDS",
      description =
          "Hand a connection to the workers only once the client has sent (TCP_DEFER_ACCEPT, as"
              + " httpd and nginx do for HTTP): no worker waits on a client that has connected but"
              + " not yet sent; a client silent for longer is accepted after about this long"
              + " (rounded up to 1, 3, 7, 15, 31 or 63 s), at most 60. 0: accept at once, for"
              + " protocols where the server speaks first (default: "
              + BuiltInJobs.DEFER_ACCEPT_SECONDS
              + " for the built-in jobs, whose clients speak first; 0 for a CLASS).")
  Double deferAccept;

  @Option(
      names = "--daemon",
      description =
          "Detach: new session, cwd /, output to --log-file or /dev/null; returns once ready.")
  boolean daemon;

  @Option(
      names = "--pid-file",
      paramLabel = "PATH",
      description =
          "Write the master's pid here once ready; locked while the server runs, so a second"
              + " server with the same file is refused.")
  java.nio.file.Path pidFile;

  @Option(
      names = "--log-file",
      paramLabel = "PATH",
      description = "With --daemon: where the daemon's and children's output goes.")
  java.nio.file.Path logFile;

  @Option(
      names = "--child-log-dir",
      paramLabel = "DIR",
      description =
          "Children's output to one file per child, DIR/child-N.log (N: the child's index in the"
              + " pool, which a replacement reuses), instead of the master's log.")
  java.nio.file.Path childLogDir;

  @Option(
      names = "--class-data-dir",
      paramLabel = "DIR|none",
      description =
          "Keep the children's class-data (AppCDS) archive here: built once from the first child,"
              + " it starts later children about a third faster (default: ~/.cache/prefork;"
              + " none: no archive).")
  String classDataDir;

  @Option(
      names = "--metrics-port",
      paramLabel = "N",
      defaultValue = "-1",
      description =
          "Serve the master's HTTP endpoint on this port: Prometheus metrics at /metrics, the"
              + " status page at /status, /status.json, /healthz and /readyz; 0 picks a free one"
              + " (default: ${DEFAULT-VALUE}, none).")
  int metricsPort;

  @Option(
      names = "--metrics-bind",
      paramLabel = "ADDR",
      defaultValue = "127.0.0.1",
      description =
          "Address of the HTTP endpoint, which has no authentication (default:"
              + " ${DEFAULT-VALUE}).")
  String metricsBind;

  @Option(
      names = "--child-idle-timeout",
      paramLabel = "SECONDS",
      description =
          "How long the pool stays over-provisioned (more than --max-spare idle without a child)"
              + " before a child retires (default: 10).")
  Double childIdleTimeout;

  @Option(
      names = "--child-jvm-preset",
      paramLabel = "standard|lean",
      defaultValue = "standard",
      description =
          "The children's JVM flags: standard (full JIT, heap from the machine's memory) or lean"
              + " (C1 only, 64 MB heap, ~40 MB idle; for tiny jobs) (default: ${DEFAULT-VALUE}).")
  String childJvmPreset;

  @Option(
      names = "--child-jvm-option",
      paramLabel = "OPTION",
      description = "An extra JVM option for the children (repeatable), e.g. -Xmx256m.")
  java.util.List<String> childJvmOptions = new java.util.ArrayList<>();

  @Option(
      names = "--log-config",
      paramLabel = "FILE",
      description =
          "slf4j-simple settings (org.slf4j.simpleLogger.* keys, e.g. defaultLogLevel=warn) for"
              + " the master and the children; keys it leaves out keep the built-in values (a"
              + " sample: prefork-examples/src/main/dist/logging.properties).")
  java.nio.file.Path logConfig;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    // First of all: slf4j-simple reads its settings once, when the first logger is made.
    java.util.List<String> childOptions = new java.util.ArrayList<>();
    if (logConfig != null) {
      LogConfig config;
      try {
        config = LogConfig.load(logConfig);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), PreforkExample.oneLine(e.getMessage()));
      }
      config.apply();
      childOptions.addAll(config.childJvmOptions());
    }
    childOptions.addAll(childJvmOptions); // after the log settings: an explicit -D wins
    PreforkServer server;
    try {
      PreforkServer.Builder builder =
          PreforkServer.builder()
              .bindAddress(bind)
              .port(port)
              .shmKey(shmKey)
              .job(BuiltInJobs.className(job))
              .handleSignals(true);
      // The library's defaults (docs/performance.md), but for a lone --min or --max, which moves
      // the other bound with it rather than fail against its default.
      if (min != null) {
        builder.minChildren(min);
        builder.maxChildren(Math.max(min, PreforkServer.DEFAULT_MAX_CHILDREN));
      }
      if (max != null) {
        builder.maxChildren(max);
        if (min == null) {
          builder.minChildren(Math.max(1, Math.min(PreforkServer.DEFAULT_MIN_CHILDREN, max)));
        }
      }
      if (threads != null) {
        builder.threadsPerChild(threads);
      }
      if (minThreads != null) {
        builder.minThreadsPerChild(minThreads);
      }
      if (warmUp != null) {
        builder.warmUp(warmUp, PreforkServer.DEFAULT_WARM_UP_TIMEOUT);
      }
      if (slowStart != null) {
        builder.slowStart(CliSeconds.orNone("--slow-start", slowStart));
      }
      if (childIdleTimeout != null) {
        builder.childIdleTimeout(CliSeconds.positive("--child-idle-timeout", childIdleTimeout));
      }
      if (minSpare != null) {
        builder.minSpare(minSpare);
      }
      if (maxSpare != null) {
        builder.maxSpare(maxSpare);
      }
      builder
          .readTimeout(CliSeconds.positive("--read-timeout", readTimeout))
          .writeTimeout(CliSeconds.positive("--write-timeout", writeTimeout))
          .jobTimeout(CliSeconds.orNone("--job-timeout", jobTimeout))
          .maxCallsPerChild(maxCalls)
          .gracefulTimeout(CliSeconds.positive("--graceful-timeout", gracefulTimeout))
          .drainDelay(CliSeconds.orNone("--drain-delay", drainDelay))
          .startTimeout(CliSeconds.positive("--start-timeout", startTimeout))
          .backlog(backlog)
          .deferAccept(BuiltInJobs.deferAccept(job, deferAccept))
          .daemon(daemon)
          .pidFile(pidFile)
          .logFile(logFile)
          .childLogDirectory(childLogDir)
          .childClassDataDirectory(classDataDirectory())
          .childJvmPreset(childJvmPreset)
          .childJvmOptions(childOptions);
      if (metricsPort >= 0) {
        new PrometheusMetrics().addTo(builder.httpEndpoint(metricsBind, metricsPort));
      }
      server = builder.build().start();
    } catch (IllegalArgumentException | PreforkException e) {
      spec.commandLine()
          .getErr()
          .println("prefork serve: " + PreforkExample.inCliWords(e.getMessage()));
      return 1;
    }
    out.printf(
        "prefork listening on %s:%d (port %d), master pid %d, shm key %s%n",
        host(server.address()),
        server.port(),
        server.port(),
        server.pid(),
        ShmKeys.toHex(server.shmKey()));
    if (server.httpEndpointPort() >= 0) {
      String http = "http://" + url(metricsBind) + ":" + server.httpEndpointPort();
      out.printf("prefork metrics on %s/metrics%n", http); // the line as before the endpoint
      out.printf("prefork status on %s/status%n", http);
    }
    out.flush();
    server.awaitTermination();
    if (server.failure().isPresent()) {
      spec.commandLine()
          .getErr()
          .println("prefork serve: " + PreforkExample.inCliWords(server.failure().get()));
      return 1;
    }
    return 0;
  }

  /** --class-data-dir, or ~/.cache/prefork (made 0700 if missing); null for none. */
  private java.nio.file.Path classDataDirectory() {
    if ("none".equals(classDataDir)) {
      return null;
    }
    if (classDataDir != null) {
      return java.nio.file.Path.of(classDataDir);
    }
    java.nio.file.Path cache =
        java.nio.file.Path.of(System.getProperty("user.home"), ".cache", "prefork");
    try {
      java.nio.file.Files.createDirectories(
          cache,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
      if (java.nio.file.Files.isWritable(cache)) {
        return cache;
      }
    } catch (java.io.IOException | RuntimeException e) {
      // no home to cache in (a service user without one): run without the archive
    }
    spec.commandLine()
        .getErr()
        .println(
            "prefork serve: no class-data archive: "
                + cache
                + " is not a writable directory (choose one with --class-data-dir DIR)");
    return null;
  }

  /** A host for a URL: an IPv6 literal in brackets. */
  private static String url(String host) {
    return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  private static String host(InetAddress address) {
    String host = address.getHostAddress();
    return address instanceof Inet6Address ? "[" + host + "]" : host;
  }
}
