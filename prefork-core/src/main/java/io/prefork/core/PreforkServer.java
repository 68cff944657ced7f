package io.prefork.core;

import com.sun.net.httpserver.HttpHandler;
import io.prefork.core.internal.master.ServerConfig;
import io.prefork.core.internal.master.ServerSettings;
import io.prefork.core.internal.master.Supervisor;
import io.prefork.core.internal.ops.Daemon;
import io.prefork.core.internal.ops.HttpEndpoint;
import io.prefork.core.internal.ops.PidFile;
import io.prefork.core.internal.ops.ServerStartup;
import io.prefork.shm.ShmKeys;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A prefork server: a master that owns one listening socket and a shared status table, and child
 * JVMs that accept on that socket and serve one connection at a time each through a {@link
 * ChildJob}.
 *
 * <pre>{@code
 * PreforkServer server =
 *     PreforkServer.builder().port(8080).shmKey(0x6905).job(MyJob.class).build().start();
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
  private final List<ServerListener> listeners;
  private final Map<String, HttpHandler> routes;
  private volatile Supervisor supervisor; // set once start() succeeded; read without the lock
  private volatile HttpEndpoint endpoint; // null when the HTTP endpoint is off

  private PreforkServer(
      ServerConfig config, List<ServerListener> listeners, Map<String, HttpHandler> routes) {
    this.config = config;
    this.listeners = listeners;
    this.routes = routes;
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
      ServerStartup.Started started =
          ServerStartup.start(this, config, listeners, routes, this::request, pidFile);
      endpoint = started.endpoint();
      supervisor = started.supervisor();
    } catch (RuntimeException | Error e) {
      if (pidFile != null) {
        pidFile.release(); // no-op if the stopped master released it already
      }
      throw e;
    }
    return this;
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
   * The port of the master's HTTP endpoint (useful after {@link Builder#httpEndpoint(String, int)
   * httpEndpoint(address, 0)}), or -1 when it is off.
   *
   * @return the endpoint's port, or -1 when it is off
   * @throws IllegalStateException if the endpoint is on and the server is not started
   */
  public int httpEndpointPort() {
    if (!config.httpEndpoint()) {
      return -1;
    }
    running();
    return endpoint.port();
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
   * exit; any still busy after the graceful timeout get a thread dump and are killed a second
   * later. Waits at most the graceful timeout plus 20 s. Does nothing if not running.
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
      // Every child has its exit deadline (graceful timeout, a thread dump, the kill): the master
      // is gone soon after it. A force-down past that is a last resort, bounded too.
      Duration bound = config.gracefulTimeout().plusSeconds(10);
      if (!s.awaitTermination(bound.toNanos(), TimeUnit.NANOSECONDS)) {
        s.request(io.prefork.shm.Command.FORCE_DOWN);
        s.awaitTermination(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Never waits for a start() in progress: readers on other threads answer at once. */
  private Supervisor running() {
    Supervisor s = supervisor;
    if (s == null) {
      throw new IllegalStateException("the server is not started: call start() first");
    }
    return s;
  }

  /** Children started at once and always kept, by default (docs/performance.md). */
  public static final int DEFAULT_MIN_CHILDREN = 2;

  /** The most children by default: with {@link #DEFAULT_THREADS_PER_CHILD}, 512 workers. */
  public static final int DEFAULT_MAX_CHILDREN = 4;

  /**
   * Worker threads per child by default: a waiting job needs a worker per connection, and two warm
   * JVMs of 128 serve 200 of them better than four of 64. Those beyond {@link
   * #DEFAULT_MIN_THREADS_PER_CHILD} start only when the job needs them.
   */
  public static final int DEFAULT_THREADS_PER_CHILD = 128;

  /**
   * Worker threads of each child that accept from its start, by default (at most threadsPerChild):
   * enough to keep two cores busy; the child accepts on more as the job waits.
   */
  public static final int DEFAULT_MIN_THREADS_PER_CHILD = 8;

  /**
   * Warm-up connections each child serves before it accepts, by default, when its job has a {@link
   * ChildJob#warmUpRequest()}: enough for C2 to compile a request's path (docs/performance.md).
   */
  public static final int DEFAULT_WARM_UP_CONNECTIONS = 3_000;

  /** A replacement's slow start under busy cores, by default, in seconds (docs/performance.md). */
  public static final int DEFAULT_SLOW_START_SECONDS = 6;

  /** A replacement's slow start under busy cores, by default. */
  public static final Duration DEFAULT_SLOW_START = Duration.ofSeconds(DEFAULT_SLOW_START_SECONDS);

  /** The longest a child's warm-up takes, by default (at most half of startTimeout). */
  public static final Duration DEFAULT_WARM_UP_TIMEOUT = Duration.ofSeconds(2);

  /**
   * Configures a {@link PreforkServer}. Every value is checked by {@link #build()}, which names the
   * value at fault; nothing is silently corrected. Every timeout is at least 1 ms and at most 24
   * hours ({@code jobTimeout} may also be zero: no watchdog).
   */
  public static final class Builder {
    private final ServerSettings s = new ServerSettings();

    private Builder() {}

    /**
     * Adds a listener to the master's events (children spawned, ready and gone, restarts, the
     * stop); see {@link ServerListener} for when and on which thread it is called. Listeners are
     * called in the order they were added. Default none.
     *
     * @param listener the listener to add
     * @return this builder
     */
    public Builder listener(ServerListener listener) {
      s.listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * The address to listen on: a host name or literal. Default {@code 0.0.0.0} (all IPv4).
     *
     * @param address the address to listen on: a host name or literal
     * @return this builder
     */
    public Builder bindAddress(String address) {
      s.bindAddress = address;
      return this;
    }

    /**
     * The TCP port; 0 picks a free one (read it with {@link #port()}). Default 0.
     *
     * @param port the TCP port, or 0 for a free one
     * @return this builder
     */
    public Builder port(int port) {
      s.port = port;
      return this;
    }

    /**
     * The accept queue's limit (the kernel caps it at net.core.somaxconn). Default 511.
     *
     * @param backlog the accept queue's limit, 1 to 65535
     * @return this builder
     */
    public Builder backlog(int backlog) {
      s.backlog = backlog;
      return this;
    }

    /**
     * For protocols where the client speaks first, such as HTTP: the kernel hands a connection to
     * the workers only once its first bytes have arrived (Linux {@code TCP_DEFER_ACCEPT}, as
     * httpd's {@code AcceptFilter http data} and nginx's {@code deferred}). No worker then waits on
     * a client that connected but has not sent yet: under many short connections each one costs a
     * worker one wake-up less, and idle connections (a browser's pre-connects) hold no worker. A
     * client silent for longer is handed over anyway, after about this long (the kernel rounds it
     * up to its SYN-ACK retransmissions: 1, 3, 7, 15, 31 or 63 s), and the read timeout applies
     * from then. Leave it off where the server speaks first (SMTP, FTP, a greeting): there the
     * client waits in silence and every connection would be held for the whole time. With systemd
     * socket activation it is set on the inherited socket too (or use the unit's {@code
     * DeferAcceptSec=}; zero leaves systemd's setting as it is). Connections waiting for their
     * first bytes are held in the kernel's queue of half-open connections, which {@link
     * #backlog(int)} also bounds. Default zero: every connection is accepted at once.
     *
     * @param timeout how long a silent client may be held back, up to 60 s; zero for off
     * @return this builder
     */
    public Builder deferAccept(Duration timeout) {
      s.deferAccept = timeout;
      return this;
    }

    /**
     * Children started at once and always kept. Default {@value #DEFAULT_MIN_CHILDREN}.
     *
     * @param minChildren children started at once and always kept
     * @return this builder
     */
    public Builder minChildren(int minChildren) {
      s.minChildren = minChildren;
      return this;
    }

    /**
     * The most children the pool grows to when its workers are all busy. Default {@value
     * #DEFAULT_MAX_CHILDREN}.
     *
     * @param maxChildren the most children the pool grows to when all are busy
     * @return this builder
     */
    public Builder maxChildren(int maxChildren) {
      s.maxChildren = maxChildren;
      return this;
    }

    /**
     * Worker threads per child, each accepting and serving one connection at a time with its own
     * slot in the table (httpd's worker MPM), so the job must be thread-safe. Default {@value
     * #DEFAULT_THREADS_PER_CHILD}; 1 gives one connection per child, as in httpd's prefork.
     *
     * @param threadsPerChild worker threads per child, 1 to 1024
     * @return this builder
     */
    public Builder threadsPerChild(int threadsPerChild) {
      s.threadsPerChild = threadsPerChild;
      return this;
    }

    /**
     * Worker threads of each child that always accept; the child's other threads are parked spares
     * (PARKED in the table) until its accepting ones are all busy and the cores have time for more:
     * then it accepts on twice as many, up to threadsPerChild (on all at once when long
     * conversations hold them), and parks half again once a quarter of them sufficed for 10 s. A
     * CPU-bound job keeps few threads (fewer context switches), a waiting one gets a thread per
     * connection in flight. The master spawns children only once the children's threads are all in
     * use. Default {@value #DEFAULT_MIN_THREADS_PER_CHILD} or threadsPerChild if smaller; equal to
     * threadsPerChild: every thread always accepts.
     *
     * @param minThreadsPerChild 1 to threadsPerChild
     * @return this builder
     */
    public Builder minThreadsPerChild(int minThreadsPerChild) {
      s.minThreadsPerChild = minThreadsPerChild;
      return this;
    }

    /**
     * The warm-up of each child, for a job that has a {@link ChildJob#warmUpRequest()}: before it
     * accepts, the child serves that request over {@code connections} private loopback connections
     * (up to 32 at once), or for {@code atMost}, whichever ends first, and only while no connection
     * waits in the kernel's accept queue: a child spawned under load (a replacement, a child the
     * pool grows by) accepts at once, cold, rather than take the cores its siblings serve with.
     * Default {@value #DEFAULT_WARM_UP_CONNECTIONS} connections within 2 s (or half of
     * startTimeout, if that is less); 0 connections: none.
     *
     * @param connections warm-up connections per child, 0 to 1,000,000
     * @param atMost the longest a warm-up takes, shorter than startTimeout
     * @return this builder
     */
    public Builder warmUp(int connections, Duration atMost) {
      s.warmUpConnections = connections;
      s.warmUpTimeout = atMost;
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
      s.minSpare = minSpare;
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
      s.maxSpare = maxSpare;
      return this;
    }

    /**
     * How long the pool must stay over-provisioned before it gives a child back: more than {@code
     * maxSpare} workers would still be idle without it, on every tick of this time (php-fpm's
     * process_idle_timeout). Then one child retires, and one more per second while that holds. A
     * steady load never makes the pool churn. Default 10 s.
     *
     * @param childIdleTimeout how long surplus capacity stays before a child retires, 1 ms to 1 day
     * @return this builder
     */
    public Builder childIdleTimeout(Duration childIdleTimeout) {
      s.childIdleTimeout = childIdleTimeout;
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
      s.jobTimeout = jobTimeout;
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
      s.maxCallsPerChild = maxCallsPerChild;
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
      s.recycleJitter = recycleJitter;
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
      s.daemon = daemon;
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
      s.pidFile = pidFile;
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
      s.logFile = logFile;
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
      s.childLogDirectory = directory;
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
      s.childClassDataDirectory = directory;
      return this;
    }

    /**
     * Serves the master's HTTP endpoint on this address and port, from the master JVM itself (the
     * JDK's {@code com.sun.net.httpserver}, module {@code jdk.httpserver}), so it answers while
     * every worker is busy:
     *
     * <ul>
     *   <li>{@code /status}: a status page for people (scoreboard, pool, history), refreshed every
     *       2 s;
     *   <li>{@code /status.json}: {@link ServerStatus#toJson()}, what {@code ctl status --json}
     *       prints;
     *   <li>{@code /healthz}: 200 while the master's loop ticks (its last tick under 2 s ago), else
     *       503: a liveness probe;
     *   <li>{@code /readyz}: 200 while at least {@code minChildren} children accept (and are not
     *       asked to leave) and the master is neither starting nor stopping, else 503: a readiness
     *       probe or load-balancer health check;
     *   <li>{@code /}: an index of the paths, and any {@link #endpointRoute(String, HttpHandler)
     *       route} added.
     * </ul>
     *
     * <p>The endpoint has no authentication: bind it to a loopback or private address. It is bound
     * before anything else, so a port in use fails {@link PreforkServer#start()} at once, and it
     * closes when the master stops. Default: off.
     *
     * @param address the address to bind, e.g. {@code 127.0.0.1}
     * @param port the port, 0 for a free one (read it with {@link
     *     PreforkServer#httpEndpointPort()}), or -1 for no endpoint
     * @return this builder
     */
    public Builder httpEndpoint(String address, int port) {
      s.httpAddress = address;
      s.httpPort = port;
      return this;
    }

    /**
     * Adds a path to the {@link #httpEndpoint(String, int) HTTP endpoint}, answered by {@code
     * handler} on the endpoint's threads; {@code prefork-prometheus} adds {@code /metrics} this
     * way. The path matches exactly (the query string aside); the handler gets every method and
     * must send a response. An exception it throws becomes a 500 and is logged. The endpoint's own
     * paths ({@code /}, {@code /status}, {@code /status.json}, {@code /healthz}, {@code /readyz})
     * cannot be taken.
     *
     * @param path the exact path, starting with {@code /}
     * @param handler answers requests for it
     * @return this builder
     */
    public Builder endpointRoute(String path, HttpHandler handler) {
      s.routes.put(
          java.util.Objects.requireNonNull(path, "path"),
          java.util.Objects.requireNonNull(handler, "handler"));
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
      s.jmx = jmx;
      return this;
    }

    /**
     * The System V key of the shared status table; required, unique per server on the host.
     *
     * @param shmKey the table's System V key; not 0 (IPC_PRIVATE)
     * @return this builder
     */
    public Builder shmKey(int shmKey) {
      s.shmKey = shmKey;
      return this;
    }

    /**
     * The job each child runs; required. It needs a public no-argument constructor.
     *
     * @param jobClass the job each child runs; required
     * @return this builder
     */
    public Builder job(Class<? extends ChildJob> jobClass) {
      s.jobClassName = jobClass.getName();
      return this;
    }

    /**
     * The job by class name, loaded in each child from the child class path; required.
     *
     * @param jobClassName the job class's binary name
     * @return this builder
     */
    public Builder job(String jobClassName) {
      s.jobClassName = jobClassName;
      return this;
    }

    /**
     * Extra JVM options for the children, after the {@linkplain #childJvmPreset preset}'s, so they
     * win where they repeat one (e.g. {@code -Xmx256m}).
     *
     * @param options the options, none blank; they replace any set before
     * @return this builder
     */
    public Builder childJvmOptions(List<String> options) {
      s.childJvmOptions.clear();
      s.childJvmOptions.addAll(options);
      return this;
    }

    /**
     * The children's JVM flags before {@link #childJvmOptions}, by name. Default {@code
     * "standard"}: full tiered JIT and a heap of half the machine's memory shared by {@code
     * maxChildren} (64 MB to 2 GB each; it grows only as the job allocates), for real jobs. {@code
     * "lean"}: C1 only and at most 64 MB of heap, for tiny jobs where many children must stay small
     * (an idle child about 40 MB), at the price of ordinary Java code running at half speed.
     *
     * @param preset {@code "standard"} or {@code "lean"}
     * @return this builder
     */
    public Builder childJvmPreset(String preset) {
      s.childJvmPreset = preset;
      return this;
    }

    /**
     * The {@code java} that runs the children. Default: this JVM's.
     *
     * @param javaExecutable the java that runs the children
     * @return this builder
     */
    public Builder javaExecutable(Path javaExecutable) {
      s.javaExecutable = javaExecutable;
      return this;
    }

    /**
     * The children's class path. Default: this JVM's {@code java.class.path}.
     *
     * @param childClassPath the children's class path
     * @return this builder
     */
    public Builder childClassPath(String childClassPath) {
      s.childClassPath = childClassPath;
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
      s.readTimeout = readTimeout;
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
      s.writeTimeout = writeTimeout;
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
      s.gracefulTimeout = gracefulTimeout;
      return this;
    }

    /**
     * How long a wait-down keeps the children serving after readiness is withdrawn ({@code /readyz}
     * answers 503, systemd hears STOPPING=1), so a load balancer stops sending before they leave;
     * then they finish their connections within {@code gracefulTimeout}. A force-down does not
     * wait. Default {@link Duration#ZERO}: the children are asked to go at once.
     *
     * @param drainDelay zero, or 1 ms to 24 hours
     * @return this builder
     */
    public Builder drainDelay(Duration drainDelay) {
      s.drainDelay = drainDelay;
      return this;
    }

    /**
     * The slow start of a replacement (a restart, a recycling) spawned while the pool serves (a
     * connection accepted or in hand within the last second) and the machine's cores are at least
     * 90 % busy: it accepts on one thread, then on more in proportion to the time, up to
     * minThreadsPerChild at the end, and the child it replaces serves until then. A cold JVM runs
     * the job slowly until its JIT has compiled it: this way the warm children take most
     * connections meanwhile, and with busy cores one replacement warms at a time (two from 8
     * children), so a restart under load costs a shallow dip rather than a deep one, and takes
     * longer. With idle cores or no clients, replacements take their full share at once, and so
     * does one that takes the place of a child already gone (at maxChildren). Default {@value
     * #DEFAULT_SLOW_START_SECONDS} s; zero: none.
     *
     * @param slowStart zero, or 1 ms to 10 minutes
     * @return this builder
     */
    public Builder slowStart(Duration slowStart) {
      s.slowStart = slowStart;
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
      s.startTimeout = startTimeout;
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
      s.handleSignals = handleSignals;
      return this;
    }

    /**
     * Checks every value and makes the server (not started).
     *
     * @return a new server, not started
     * @throws IllegalArgumentException naming the value at fault and what is expected
     */
    public PreforkServer build() {
      return new PreforkServer(s.toConfig(), List.copyOf(s.listeners), Map.copyOf(s.routes));
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
