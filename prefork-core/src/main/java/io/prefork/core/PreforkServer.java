package io.prefork.core;

import io.prefork.core.internal.master.ListenSocket;
import io.prefork.core.internal.master.ServerConfig;
import io.prefork.core.internal.master.ServerEvents;
import io.prefork.core.internal.master.Supervisor;
import io.prefork.core.internal.ops.Daemon;
import io.prefork.core.internal.ops.PidFile;
import io.prefork.core.internal.ops.PreforkServerJmx;
import io.prefork.core.internal.ops.PrometheusEndpoint;
import io.prefork.core.internal.ops.SystemdNotifier;
import io.prefork.shm.ShmKeys;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A prefork server: a master that owns one listening socket and a shared status table, and child
 * JVMs that accept on that socket and serve one connection at a time each through a {@link
 * ChildJob}.
 *
 * <pre>{@code
 * PreforkServer server = PreforkServer.builder()
 *     .port(8080)
 *     .shmKey(0x6905)
 *     .job(MyJob.class)
 *     .minChildren(4)
 *     .maxChildren(16)
 *     .build()
 *     .start();
 * server.awaitTermination();
 * }</pre>
 *
 * <p>{@link #start()} binds first (a port in use fails before anything else is touched), then
 * creates the table, then spawns {@code minChildren} children and returns once they all accept. The
 * server then runs until a wait-down or force-down (from {@link #control()}, from any process
 * through {@link ControlHandle#attach(int)}, or from a signal when {@link
 * Builder#handleSignals(boolean)} is on), or until {@link #close()}.
 */
public final class PreforkServer implements AutoCloseable {
  private final ServerConfig config;
  private Supervisor supervisor;
  private PrometheusEndpoint metrics; // null when metrics are off

  private PreforkServer(ServerConfig config) {
    this.config = config;
  }

  /**
   * A builder with the defaults documented on each of its methods.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the socket, creates the status table, spawns {@code minChildren} children and waits until
   * they accept.
   *
   * @return this server, running
   * @throws PreforkException if the port is in use, the shm key taken, the pid file held by another
   *     server, the job fails to start in its child, or the children are not ready within the start
   *     timeout; nothing is left behind
   * @throws IllegalStateException if called twice
   */
  public synchronized PreforkServer start() {
    if (supervisor != null) {
      throw new IllegalStateException("the server was already started");
    }
    if (config.daemon() && !Daemon.inDaemon()) {
      if (config.pidFile() != null) {
        PidFile.checkFree(config.pidFile());
      }
      Daemon.launch(); // exits this JVM once the daemon is ready, or throws
    }
    // Locked from here until the master stops: a second server with this file is refused now.
    PidFile pidFile = config.pidFile() == null ? null : PidFile.acquire(config.pidFile());
    try {
      start(pidFile);
    } catch (RuntimeException | Error e) {
      if (pidFile != null) {
        pidFile.release(); // no-op if the stopped master released it already
      }
      throw e;
    }
    return this;
  }

  private void start(PidFile pidFile) {
    if (config.daemon()) {
      Daemon.detach();
    }
    // Observers of the master: pid file, and integrations (systemd, metrics, JMX).
    List<ServerEvents> observers = new java.util.ArrayList<>();
    SystemdNotifier systemd = SystemdNotifier.fromEnvironment(System.getenv(), config.daemon());
    if (systemd != null) {
      observers.add(systemd); // Type=notify: READY=1, STATUS=, RELOADING=1, STOPPING=1
    }
    if (pidFile != null) {
      observers.add(
          new ServerEvents() {
            @Override
            public void stopped() {
              pidFile.release();
            }
          });
    }
    // Bound before the master starts (a port in use fails before any child), and an observer from
    // the first spawn; it stops when the master stops.
    PrometheusEndpoint endpoint = config.metrics() ? PrometheusEndpoint.start(config) : null;
    if (endpoint != null) {
      observers.add(endpoint);
    }
    // Registered once the server is ready, unregistered when the master stops.
    PreforkServerJmx jmx =
        config.jmx() ? new PreforkServerJmx(this, this::request, config.shmKey()) : null;
    if (jmx != null) {
      observers.add(jmx);
    }
    try {
      supervisor = Supervisor.start(config, observers);
    } catch (RuntimeException | Error e) {
      if (endpoint != null) {
        endpoint.stopped(); // the master may never have run: the endpoint must go all the same
      }
      throw e;
    }
    metrics = endpoint;
    try {
      announce(endpoint, jmx, pidFile);
    } catch (RuntimeException | Error e) {
      // Nothing is left behind: the children, the table and the socket go with the failure.
      supervisor.request(io.prefork.shm.Command.FORCE_DOWN);
      try {
        supervisor.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      throw e;
    }
  }

  /** What follows a ready master: metrics, JMX, the pid file, the daemon's ready line. */
  private void announce(PrometheusEndpoint endpoint, PreforkServerJmx jmx, PidFile pidFile) {
    if (endpoint != null) {
      endpoint.attach(supervisor::status);
    }
    if (jmx != null) {
      jmx.register();
    }
    if (pidFile != null) {
      pidFile.write();
    }
    if (config.daemon()) {
      Daemon.ready(
          // The foreground ready line's shape (scripts parse "port N" and "master pid N").
          "prefork daemon listening on "
              + ListenSocket.where(address(), port())
              + " (port "
              + port()
              + "), master pid "
              + pid()
              + ", shm key "
              + ShmKeys.toHex(config.shmKey())
              + (config.logFile() == null ? ", output discarded" : ", log " + config.logFile()),
          config.logFile());
    }
  }

  /**
   * The port the server listens on (useful after binding port 0).
   *
   * @return the listening port
   * @throws IllegalStateException if the server was not started
   */
  public int port() {
    return running().port();
  }

  /**
   * The port of the Prometheus endpoint (useful after {@link Builder#metricsPort(int)
   * metricsPort(0)}), or -1 when metrics are off.
   *
   * @return the endpoint's port, or -1 when metrics are off
   * @throws IllegalStateException if metrics are on and the server is not started
   */
  public int metricsPort() {
    if (!config.metrics()) {
      return -1;
    }
    running();
    return metrics.port();
  }

  /**
   * The address the server listens on.
   *
   * @return the listening address
   * @throws IllegalStateException if the server was not started
   */
  public InetAddress address() {
    return running().address();
  }

  /** {@return the key of the server's shared status table} */
  public int shmKey() {
    return config.shmKey();
  }

  /** {@return the pid of the master: this JVM} */
  public long pid() {
    return ProcessHandle.current().pid();
  }

  /**
   * The server's status now, read from its shared table. Values are point-in-time.
   *
   * @return the server's status now
   * @throws IllegalStateException if the server is not running
   */
  public ServerStatus status() {
    return running().status();
  }

  /** Queues a command for the master, as a signal or a controller would. */
  private void request(io.prefork.shm.Command command) {
    running().request(command);
  }

  /**
   * A control handle on this server, as another process would attach it. Close it when done.
   *
   * @return a new handle on this server
   * @throws IllegalStateException if the server was not started
   */
  public ControlHandle control() {
    running();
    return ControlHandle.attach(config.shmKey());
  }

  /**
   * True from a successful {@link #start()} until the master has stopped.
   *
   * @return whether the master runs
   */
  public boolean isRunning() {
    Supervisor s = supervisor;
    return s != null && !s.isTerminated();
  }

  /**
   * Why the server stopped on its own, if it did: a job that cannot start in any child, or a
   * failure of the master itself. Empty while running and after a requested stop.
   *
   * @return the reason, or empty
   */
  public java.util.Optional<String> failure() {
    Supervisor s = supervisor;
    return s == null ? java.util.Optional.empty() : java.util.Optional.ofNullable(s.failure());
  }

  /**
   * Waits until the master has stopped: children gone, table removed, socket closed.
   *
   * @throws InterruptedException if this thread is interrupted while waiting
   * @throws IllegalStateException if the server was not started
   */
  public void awaitTermination() throws InterruptedException {
    running().awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
  }

  /**
   * Waits until the master has stopped, at most {@code timeout}.
   *
   * @param timeout how long to wait at most
   * @return true if it stopped, false if the timeout passed first
   * @throws InterruptedException if this thread is interrupted while waiting
   * @throws IllegalStateException if the server was not started
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return running().awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Stops gracefully (wait-down) and waits for it: children finish the connection in hand, then
   * exit; any still busy after the graceful timeout are killed. Does nothing if not running.
   */
  @Override
  public void close() {
    Supervisor s;
    synchronized (this) {
      s = supervisor;
    }
    if (s == null || s.isTerminated()) {
      return;
    }
    s.request(io.prefork.shm.Command.WAIT_DOWN);
    try {
      s.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized Supervisor running() {
    if (supervisor == null) {
      throw new IllegalStateException("the server is not started: call start() first");
    }
    return supervisor;
  }

  /**
   * Configures a {@link PreforkServer}. Every value is checked by {@link #build()}, which names the
   * value at fault; nothing is silently corrected. Every timeout is at least 1 ms and at most 24
   * hours ({@code jobTimeout} may also be zero: no watchdog).
   */
  public static final class Builder {
    /** The longest timeout {@link #build()} accepts. */
    static final Duration MAX_DURATION = Duration.ofHours(24);

    /** The largest backlog {@link #build()} accepts; the kernel caps it at net.core.somaxconn. */
    static final int MAX_BACKLOG = 65_535;

    /** The largest maxCallsPerChild or recycleJitter: 10^12 connections is "never". */
    static final long MAX_CALLS = 1_000_000_000_000L;

    private String bindAddress = "0.0.0.0";
    private int port = 0;
    private int backlog = 511;
    private int minChildren = 4;
    private int maxChildren = 16;
    private int threadsPerChild = 1;
    private int minSpare = 1;
    private Integer maxSpare;
    private Duration jobTimeout = Duration.ZERO;
    private long maxCallsPerChild = 0;
    private Long recycleJitter;
    private boolean daemon = false;
    private Path pidFile;
    private Path logFile;
    private Path childLogDirectory;
    private Path childClassDataDirectory;
    private String metricsAddress = "0.0.0.0";
    private int metricsPort = -1;
    private boolean jmx = true;
    private Integer shmKey;
    private String jobClassName;
    private final List<String> childJvmOptions = new ArrayList<>();
    private Path javaExecutable = Path.of(System.getProperty("java.home"), "bin", "java");
    private String childClassPath = System.getProperty("java.class.path");
    private Duration readTimeout = Duration.ofSeconds(10);
    private Duration writeTimeout = Duration.ofSeconds(10);
    private Duration gracefulTimeout = Duration.ofSeconds(30);
    private Duration startTimeout = Duration.ofSeconds(60);
    private boolean handleSignals = false;

    private Builder() {}

    /**
     * The address to listen on: a host name or literal. Default {@code 0.0.0.0} (all IPv4).
     *
     * @param address the address to listen on: a host name or literal
     * @return this builder
     */
    public Builder bindAddress(String address) {
      this.bindAddress = address;
      return this;
    }

    /**
     * The TCP port; 0 picks a free one (read it with {@link #port()}). Default 0.
     *
     * @param port the TCP port, or 0 for a free one
     * @return this builder
     */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /**
     * The accept queue's limit (the kernel caps it at net.core.somaxconn). Default 511.
     *
     * @param backlog the accept queue's limit, 1 to 65535
     * @return this builder
     */
    public Builder backlog(int backlog) {
      this.backlog = backlog;
      return this;
    }

    /**
     * Children started at once and always kept. Default 4.
     *
     * @param minChildren children started at once and always kept
     * @return this builder
     */
    public Builder minChildren(int minChildren) {
      this.minChildren = minChildren;
      return this;
    }

    /**
     * The most children the pool grows to when all are busy. Default 16.
     *
     * @param maxChildren the most children the pool grows to when all are busy
     * @return this builder
     */
    public Builder maxChildren(int maxChildren) {
      this.maxChildren = maxChildren;
      return this;
    }

    /**
     * Worker threads per child, each accepting and serving one connection at a time with its own
     * slot in the table (httpd's worker MPM). Default 1: one connection per child, as in prefork.
     *
     * @param threadsPerChild worker threads per child, 1 to 1024
     * @return this builder
     */
    public Builder threadsPerChild(int threadsPerChild) {
      this.threadsPerChild = threadsPerChild;
      return this;
    }

    /**
     * Idle workers to keep at least: when fewer are idle, children are spawned, 1, 2, 4 ... per
     * tick (50 ms) up to 8, within maxChildren. Default 1: grow as soon as every worker is busy.
     *
     * @param minSpare idle workers to keep at least, 0 to maxChildren * threadsPerChild
     * @return this builder
     */
    public Builder minSpare(int minSpare) {
      this.minSpare = minSpare;
      return this;
    }

    /**
     * Idle workers to keep at most: while more stay idle, one idle child retires per second, never
     * below minChildren. Default: {@code max(minSpare + 1, minChildren * threadsPerChild)} workers.
     *
     * @param maxSpare idle workers to keep at most; more than minSpare
     * @return this builder
     */
    public Builder maxSpare(int maxSpare) {
      this.maxSpare = maxSpare;
      return this;
    }

    /**
     * The hung-job watchdog: a child busy on one connection longer than this gets a thread dump
     * (SIGQUIT) and, a second later, is killed and replaced. Default {@link Duration#ZERO}: off,
     * since only the application knows how long a conversation may last.
     *
     * @param jobTimeout the longest a worker may serve one connection, 1 ms to 24 h, or zero for no
     *     watchdog
     * @return this builder
     */
    public Builder jobTimeout(Duration jobTimeout) {
      this.jobTimeout = jobTimeout;
      return this;
    }

    /**
     * Recycling: a child that accepted this many connections is replaced (the replacement accepts
     * before the old child leaves). Default 0: never.
     *
     * @param maxCallsPerChild connections after which a child is replaced, up to 10^12, or 0 for
     *     never
     * @return this builder
     */
    public Builder maxCallsPerChild(long maxCallsPerChild) {
      this.maxCallsPerChild = maxCallsPerChild;
      return this;
    }

    /**
     * A random 0..jitter added to each child's maxCallsPerChild, so children don't recycle
     * together. Default: a tenth of maxCallsPerChild.
     *
     * @param recycleJitter the most added to a child's maxCallsPerChild, 0 to 10^12
     * @return this builder
     */
    public Builder recycleJitter(long recycleJitter) {
      this.recycleJitter = recycleJitter;
      return this;
    }

    /**
     * Daemon mode: {@link #start()} relaunches this JVM's command line detached (new session, cwd
     * {@code /}, stdin on /dev/null, output to the log file or /dev/null), waits until that daemon
     * is ready, and exits this JVM with status 0; or throws with the daemon's reason if it could
     * not get ready. In the daemon, start() returns as usual. Default off.
     *
     * @param daemon whether {@link PreforkServer#start()} runs the server as a daemon
     * @return this builder
     */
    public Builder daemon(boolean daemon) {
      this.daemon = daemon;
      return this;
    }

    /**
     * A file the master writes its pid into once ready, removed when it stops. The server holds an
     * exclusive lock ({@code flock}) on it from {@link PreforkServer#start()} until it stops, so a
     * second server given the same file, in another process or this one, is refused at once with
     * the file and the pid holding it; a file left by a server that died holds no lock and is taken
     * over. Default none.
     *
     * @param pidFile the pid file's path
     * @return this builder
     */
    public Builder pidFile(Path pidFile) {
      this.pidFile = pidFile;
      return this;
    }

    /**
     * In daemon mode, where the daemon's (and its children's) output goes. Default /dev/null.
     * Rejected by {@link #build()} without {@link #daemon(boolean) daemon(true)}.
     *
     * @param logFile the daemon's log file
     * @return this builder
     */
    public Builder logFile(Path logFile) {
      this.logFile = logFile;
      return this;
    }

    /**
     * Where children's output goes: by default (null) the master's log, logger {@code
     * io.prefork.child}, each line tagged with slot and pid; or, if set, one file per child in this
     * directory, {@code child-<index>.log} by the child's index in the pool (a replacement reuses
     * its index, so its file), lines tagged with slots and pid.
     *
     * @param directory a writable directory, or null for the master's log
     * @return this builder
     */
    public Builder childLogDirectory(Path directory) {
      this.childLogDirectory = directory;
      return this;
    }

    /**
     * Keeps an AppCDS archive of the classes a child loads before its first accept in this
     * directory, and has children map it: about 70 ms less from spawn to first accept, and less
     * memory per child (docs/performance.md). The first child records its classes; once it accepts,
     * the archive is written in the background (about a second of CPU, once), and children spawned
     * after that use it. Its name is a hash of the JDK, class path and JVM options, so a new jar or
     * JDK builds a new one; it is used only if this user owns it and nobody else may write it.
     * Default none: no archive.
     *
     * @param directory an existing, writable directory, e.g. {@code /var/cache/myapp}
     * @return this builder
     */
    public Builder childClassDataDirectory(Path directory) {
      this.childClassDataDirectory = directory;
      return this;
    }

    /**
     * Serves Prometheus metrics (text exposition format) over HTTP at {@code /metrics} on this
     * port; 0 picks a free one (read it with {@link PreforkServer#metricsPort()}). Needs {@code
     * io.prometheus:prometheus-metrics-core} and {@code prometheus-metrics-exporter-httpserver}
     * (1.x) on the class path: prefork-core declares them optional. Default -1: off.
     *
     * @param metricsPort the endpoint's port, 0 for a free one, or -1 for no endpoint
     * @return this builder
     */
    public Builder metricsPort(int metricsPort) {
      this.metricsPort = metricsPort;
      return this;
    }

    /**
     * The address the metrics endpoint binds. Default {@code 0.0.0.0}.
     *
     * @param metricsAddress the address the metrics endpoint binds
     * @return this builder
     */
    public Builder metricsAddress(String metricsAddress) {
      this.metricsAddress = metricsAddress;
      return this;
    }

    /**
     * Registers an MXBean {@code io.prefork:type=PreforkServer,shmKey=0x...} with the status and
     * the operations restart, waitDown and forceDown. Default on.
     *
     * @param jmx whether to register the MXBean
     * @return this builder
     */
    public Builder jmx(boolean jmx) {
      this.jmx = jmx;
      return this;
    }

    /**
     * The System V key of the shared status table; required, unique per server on the host.
     *
     * @param shmKey the table's System V key; not 0 (IPC_PRIVATE)
     * @return this builder
     */
    public Builder shmKey(int shmKey) {
      this.shmKey = shmKey;
      return this;
    }

    /**
     * The job each child runs; required. It needs a public no-argument constructor.
     *
     * @param jobClass the job each child runs; required
     * @return this builder
     */
    public Builder job(Class<? extends ChildJob> jobClass) {
      this.jobClassName = jobClass.getName();
      return this;
    }

    /**
     * The job by class name, loaded in each child from the child class path; required.
     *
     * @param jobClassName the job class's binary name
     * @return this builder
     */
    public Builder job(String jobClassName) {
      this.jobClassName = jobClassName;
      return this;
    }

    /**
     * Extra JVM options for the children, after prefork's lean defaults, so they win where they
     * repeat one (e.g. {@code -Xmx256m}).
     *
     * @param options the options, none blank; they replace any set before
     * @return this builder
     */
    public Builder childJvmOptions(List<String> options) {
      this.childJvmOptions.clear();
      this.childJvmOptions.addAll(options);
      return this;
    }

    /**
     * The {@code java} that runs the children. Default: this JVM's.
     *
     * @param javaExecutable the java that runs the children
     * @return this builder
     */
    public Builder javaExecutable(Path javaExecutable) {
      this.javaExecutable = javaExecutable;
      return this;
    }

    /**
     * The children's class path. Default: this JVM's {@code java.class.path}.
     *
     * @param childClassPath the children's class path
     * @return this builder
     */
    public Builder childClassPath(String childClassPath) {
      this.childClassPath = childClassPath;
      return this;
    }

    /**
     * How long a client may take to send what the job waits for, counted from the accept or the
     * job's last write; see {@link Connection}. Kept within 100 ms (the child checks its workers'
     * reads that often). Default 10 s.
     *
     * @param readTimeout the read timeout, 1 ms to 24 h
     * @return this builder
     */
    public Builder readTimeout(Duration readTimeout) {
      this.readTimeout = readTimeout;
      return this;
    }

    /**
     * How long a write to the client may make no progress: a write during which the client
     * acknowledges nothing for this long (it stopped reading, its receive window is closed) fails
     * with {@link java.net.SocketTimeoutException}, and the connection's output is shut down, so a
     * client that never reads cannot hold a worker; a slow client that keeps reading is never cut.
     * Applies to writes on {@link Connection#output()} (once the job has asked for {@link
     * Connection#channel()}, the time counts from each write's start instead, and writes on the
     * channel itself have no deadline); kept within 100 ms (the child checks its workers' writes
     * that often). Default 10 s, as the read timeout: a client that stops reading a response is the
     * same threat to a worker as one that stops sending a request (httpd's {@code Timeout} of 60 s
     * covers both, nginx's {@code send_timeout} is 60 s; their workers are cheaper than a prefork
     * child's). Raise it for clients that legitimately stall (a download paused by a mobile app).
     *
     * @param writeTimeout the write timeout, 1 ms to 24 h
     * @return this builder
     */
    public Builder writeTimeout(Duration writeTimeout) {
      this.writeTimeout = writeTimeout;
      return this;
    }

    /**
     * How long a wait-down waits for busy children before killing them. Default 30 s.
     *
     * @param gracefulTimeout how long a wait-down waits for busy children before killing them, 1 ms
     *     to 24 h
     * @return this builder
     */
    public Builder gracefulTimeout(Duration gracefulTimeout) {
      this.gracefulTimeout = gracefulTimeout;
      return this;
    }

    /**
     * How long {@link #start()} waits for {@code minChildren} to accept; later, how long any new
     * child may take to accept before it is killed (and a restart it belongs to aborted). Default
     * 60 s.
     *
     * @param startTimeout the start timeout, 1 ms to 24 h
     * @return this builder
     */
    public Builder startTimeout(Duration startTimeout) {
      this.startTimeout = startTimeout;
      return this;
    }

    /**
     * Whether the master handles SIGTERM and SIGINT (wait-down), SIGHUP (restart), SIGTTIN and
     * SIGTTOU (one child more or less). Off by default: an embedding application may own its
     * signals. The example daemon turns it on.
     *
     * @param handleSignals whether the master handles these signals
     * @return this builder
     */
    public Builder handleSignals(boolean handleSignals) {
      this.handleSignals = handleSignals;
      return this;
    }

    /**
     * Checks every value and makes the server (not started).
     *
     * @return a new server, not started
     * @throws IllegalArgumentException naming the value at fault and what is expected
     */
    public PreforkServer build() {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port (" + port + ") must be within 0..65535");
      }
      if (backlog < 1 || backlog > MAX_BACKLOG) {
        throw new IllegalArgumentException(
            "backlog ("
                + backlog
                + ") must be within 1.."
                + MAX_BACKLOG
                + " (the kernel caps it at net.core.somaxconn anyway)");
      }
      if (minChildren < 1) {
        throw new IllegalArgumentException("minChildren (" + minChildren + ") must be >= 1");
      }
      if (maxChildren < minChildren) {
        throw new IllegalArgumentException(
            "maxChildren (" + maxChildren + ") must be >= minChildren (" + minChildren + ")");
      }
      if (threadsPerChild < 1 || threadsPerChild > 1024) {
        throw new IllegalArgumentException(
            "threadsPerChild (" + threadsPerChild + ") must be within 1..1024");
      }
      if ((long) maxChildren * threadsPerChild > io.prefork.shm.SharedStatusTable.MAX_SLOTS) {
        throw new IllegalArgumentException(
            "maxChildren * threadsPerChild ("
                + (long) maxChildren * threadsPerChild
                + ") must be <= "
                + io.prefork.shm.SharedStatusTable.MAX_SLOTS);
      }
      if (shmKey == null) {
        throw new IllegalArgumentException(
            "shmKey is not set: choose a System V key unique to this server on the host, e.g."
                + " 0x6905");
      }
      if (shmKey == 0) {
        throw new IllegalArgumentException(
            "shmKey 0 is IPC_PRIVATE, which no other process can attach: choose another key");
      }
      if (jobClassName == null || jobClassName.isBlank()) {
        throw new IllegalArgumentException(
            "job is not set: name the ChildJob class the children run");
      }
      if (childClassPath != null && childClassPath.equals(System.getProperty("java.class.path"))) {
        // Children load the job from the same class path: catch a typo here, not in every child.
        checkJobClass(jobClassName);
      }
      if (minSpare < 0) {
        throw new IllegalArgumentException("minSpare (" + minSpare + ") must be >= 0");
      }
      if (minSpare > maxChildren * threadsPerChild) {
        throw new IllegalArgumentException(
            "minSpare ("
                + minSpare
                + ") must be at most maxChildren * threadsPerChild ("
                + maxChildren * threadsPerChild
                + "), the most workers the pool can have: more idle ones can never be kept");
      }
      int spareCap =
          maxSpare != null ? maxSpare : Math.max(minSpare + 1, minChildren * threadsPerChild);
      if (spareCap <= minSpare) {
        throw new IllegalArgumentException(
            "maxSpare (" + spareCap + ") must be > minSpare (" + minSpare + ")");
      }
      duration("jobTimeout", jobTimeout, "zero for no watchdog");
      if (maxCallsPerChild < 0 || maxCallsPerChild > MAX_CALLS) {
        throw new IllegalArgumentException(
            "maxCallsPerChild ("
                + maxCallsPerChild
                + ") must be within 0.."
                + MAX_CALLS
                + " (0: never recycle)");
      }
      long jitter = recycleJitter != null ? recycleJitter : maxCallsPerChild / 10;
      if (jitter < 0 || jitter > MAX_CALLS) {
        throw new IllegalArgumentException(
            "recycleJitter (" + jitter + ") must be within 0.." + MAX_CALLS);
      }
      if (logFile != null && !daemon) {
        throw new IllegalArgumentException(
            "logFile ("
                + logFile
                + ") applies in daemon mode only: set daemon(true), or send the log elsewhere"
                + " through your slf4j binding");
      }
      if (daemon && logFile != null && !logFile.isAbsolute()) {
        logFile = logFile.toAbsolutePath();
      }
      if (pidFile != null && !pidFile.isAbsolute()) {
        pidFile = pidFile.toAbsolutePath();
      }
      if (childClassDataDirectory != null) {
        childClassDataDirectory = childClassDataDirectory.toAbsolutePath();
        if (!Files.isDirectory(childClassDataDirectory)
            || !Files.isWritable(childClassDataDirectory)) {
          throw new IllegalArgumentException(
              "childClassDataDirectory "
                  + childClassDataDirectory
                  + " is not a writable directory: create it, or leave the option unset");
        }
      }
      if (childLogDirectory != null) {
        childLogDirectory = childLogDirectory.toAbsolutePath();
        if (!Files.isDirectory(childLogDirectory) || !Files.isWritable(childLogDirectory)) {
          throw new IllegalArgumentException(
              "childLogDirectory " + childLogDirectory + " is not a writable directory");
        }
      }
      duration("readTimeout", readTimeout, null);
      duration("writeTimeout", writeTimeout, null);
      duration("gracefulTimeout", gracefulTimeout, null);
      duration("startTimeout", startTimeout, null);
      if (!Files.isExecutable(javaExecutable)) {
        throw new IllegalArgumentException(
            "javaExecutable " + javaExecutable + " is not an executable file");
      }
      if (childClassPath == null || childClassPath.isBlank()) {
        throw new IllegalArgumentException("childClassPath is empty");
      }
      for (String option : childJvmOptions) {
        if (option == null || option.isBlank()) {
          throw new IllegalArgumentException(
              "childJvmOptions contains an empty option: " + childJvmOptions);
        }
      }
      InetAddress address;
      try {
        address = InetAddress.getByName(bindAddress);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(
            "bindAddress '"
                + bindAddress
                + "' does not resolve: give an IP address or a host name");
      }
      if (metricsPort < -1 || metricsPort > 65_535) {
        throw new IllegalArgumentException(
            "metricsPort (" + metricsPort + ") must be within 0..65535, or -1 for no endpoint");
      }
      InetAddress metricsInet;
      try {
        metricsInet = InetAddress.getByName(metricsAddress);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(
            "metricsAddress '"
                + metricsAddress
                + "' does not resolve: give an IP address or a host name");
      }
      return new PreforkServer(
          new ServerConfig(
              address,
              port,
              backlog,
              minChildren,
              maxChildren,
              threadsPerChild,
              minSpare,
              spareCap,
              shmKey,
              jobClassName,
              childJvmOptions,
              javaExecutable,
              absoluteClassPath(childClassPath),
              readTimeout,
              jobTimeout,
              maxCallsPerChild,
              jitter,
              gracefulTimeout,
              startTimeout,
              handleSignals,
              daemon,
              pidFile,
              logFile,
              childLogDirectory,
              childClassDataDirectory,
              metricsInet,
              metricsPort,
              jmx,
              writeTimeout));
    }

    /** Children may run in another directory (daemon mode: /): make every entry absolute. */
    private static String absoluteClassPath(String classPath) {
      StringBuilder sb = new StringBuilder();
      for (String entry : classPath.split(java.io.File.pathSeparator)) {
        if (entry.isEmpty()) {
          continue;
        }
        if (sb.length() > 0) {
          sb.append(java.io.File.pathSeparatorChar);
        }
        sb.append(Path.of(entry).toAbsolutePath());
      }
      return sb.toString();
    }

    /**
     * A duration within 1 ms (they travel and are counted in milliseconds) and {@link
     * #MAX_DURATION}; zero too if {@code zeroMeans} says what it means.
     */
    private static void duration(String name, Duration value, String zeroMeans) {
      String orZero = zeroMeans == null ? "" : ", or " + zeroMeans;
      if (value == null) {
        throw new IllegalArgumentException(name + " is null: give a duration" + orZero);
      }
      if (value.isZero() && zeroMeans != null) {
        return;
      }
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " (" + value + ") must be positive" + orZero);
      }
      if (value.compareTo(Duration.ofMillis(1)) < 0) {
        throw new IllegalArgumentException(
            name + " (" + value + ") must be at least 1 ms: it is kept in milliseconds" + orZero);
      }
      if (value.compareTo(MAX_DURATION) > 0) {
        throw new IllegalArgumentException(
            name
                + " ("
                + value
                + ") must be at most "
                + MAX_DURATION.toHours()
                + " hours"
                + orZero
                + ": a longer one is a mistake (or an overflow) rather than a timeout");
      }
    }

    /** Fails early, in the master, for a job class the children could not load. */
    private static void checkJobClass(String name) {
      Class<?> type;
      try {
        type = Class.forName(name, false, Thread.currentThread().getContextClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        throw new IllegalArgumentException(
            "job class " + name + " is not on the class path: check its name and the class path");
      }
      if (!ChildJob.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException(
            "job class " + name + " does not implement " + ChildJob.class.getName());
      }
      if (!Modifier.isPublic(type.getModifiers()) || Modifier.isAbstract(type.getModifiers())) {
        throw new IllegalArgumentException(
            "job class " + name + " must be a public, concrete class");
      }
      try {
        if (!Modifier.isPublic(type.getDeclaredConstructor().getModifiers())) {
          throw new NoSuchMethodException();
        }
      } catch (NoSuchMethodException e) {
        throw new IllegalArgumentException(
            "job class " + name + " needs a public no-argument constructor");
      }
    }
  }

  @Override
  public String toString() {
    return "PreforkServer[shmKey="
        + ShmKeys.toHex(config.shmKey())
        + ", job="
        + config.jobClassName()
        + "]";
  }
}
