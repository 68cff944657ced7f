package io.prefork.core.internal.master;

import com.sun.net.httpserver.HttpHandler;
import io.prefork.core.ChildJob;
import io.prefork.core.PreforkServer;
import io.prefork.core.ServerListener;
import io.prefork.core.internal.ops.HttpEndpoint;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@code PreforkServer.Builder} was told, and its checks: {@link #toConfig()} validates
 * every value, naming the one at fault and what is expected, and makes the immutable {@link
 * ServerConfig}. The builder's methods (with their documentation) only set these fields.
 */
public final class ServerSettings {
  /** The longest timeout accepted. */
  public static final Duration MAX_DURATION = Duration.ofHours(24);

  /** The largest backlog accepted; the kernel caps it at net.core.somaxconn. */
  public static final int MAX_BACKLOG = 65_535;

  /** The largest maxCallsPerChild or recycleJitter: 10^12 connections is "never". */
  public static final long MAX_CALLS = 1_000_000_000_000L;

  /** The longest slow start accepted: a restart waits for its replacements' slow starts. */
  public static final Duration MAX_SLOW_START = Duration.ofMinutes(10);

  /**
   * The longest deferAccept accepted, a design limit: a client silent for longer is the read
   * timeout's business, once it is accepted.
   */
  public static final Duration MAX_DEFER_ACCEPT = Duration.ofSeconds(60);

  /** The most warm-up connections per child accepted. */
  public static final int MAX_WARM_UP_CONNECTIONS = 1_000_000;

  public String bindAddress = "0.0.0.0";
  public int port = 0;
  public int backlog = 511;
  public Duration deferAccept = Duration.ZERO;
  public int minChildren = PreforkServer.DEFAULT_MIN_CHILDREN;
  public int maxChildren = PreforkServer.DEFAULT_MAX_CHILDREN;
  public int threadsPerChild = PreforkServer.DEFAULT_THREADS_PER_CHILD;
  public Integer minThreadsPerChild;
  public int warmUpConnections = PreforkServer.DEFAULT_WARM_UP_CONNECTIONS;

  /** Null: the default, within half of startTimeout. */
  public Duration warmUpTimeout;

  public int minSpare = 1;
  public Integer maxSpare;
  public Duration childIdleTimeout = Duration.ofSeconds(10);
  public Duration jobTimeout = Duration.ZERO;
  public long maxCallsPerChild = 0;
  public Long recycleJitter;
  public boolean daemon = false;
  public Path pidFile;
  public Path logFile;
  public Path childLogDirectory;
  public Path childClassDataDirectory;
  public String httpAddress;
  public int httpPort = -1;
  public final Map<String, HttpHandler> routes = new LinkedHashMap<>();
  public boolean jmx = true;
  public Integer shmKey;
  public String jobClassName;
  public final List<String> childJvmOptions = new ArrayList<>();
  public String childJvmPreset = ChildJvmPreset.STANDARD.label();
  public Path javaExecutable = Path.of(System.getProperty("java.home"), "bin", "java");
  public String childClassPath = System.getProperty("java.class.path");
  public Duration readTimeout = Duration.ofSeconds(10);
  public Duration writeTimeout = Duration.ofSeconds(10);
  public Duration drainDelay = Duration.ZERO;
  public Duration slowStart = PreforkServer.DEFAULT_SLOW_START;
  public Duration gracefulTimeout = Duration.ofSeconds(30);
  public Duration startTimeout = Duration.ofSeconds(60);
  public boolean handleSignals = false;
  public final List<ServerListener> listeners = new ArrayList<>();

  /**
   * Checks every value and makes the configuration.
   *
   * @return the validated configuration
   * @throws IllegalArgumentException naming the value at fault and what is expected
   */
  public ServerConfig toConfig() {
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
    duration("deferAccept", deferAccept, "zero to accept every connection at once");
    atMost(
        "deferAccept",
        deferAccept,
        MAX_DEFER_ACCEPT,
        "a client silent for longer is the read timeout's business, once it is accepted");
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
    int minThreads =
        minThreadsPerChild != null
            ? minThreadsPerChild
            : Math.min(PreforkServer.DEFAULT_MIN_THREADS_PER_CHILD, threadsPerChild);
    if (minThreads < 1 || minThreads > threadsPerChild) {
      throw new IllegalArgumentException(
          "minThreadsPerChild ("
              + minThreads
              + ") must be within 1..threadsPerChild ("
              + threadsPerChild
              + "): raise threadsPerChild or lower minThreadsPerChild");
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
    duration("childIdleTimeout", childIdleTimeout, null);
    duration("drainDelay", drainDelay, "zero for none");
    duration("slowStart", slowStart, "zero for none");
    atMost(
        "slowStart",
        slowStart,
        MAX_SLOW_START,
        "a restart under load waits for each replacement's slow start");
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
    if (warmUpConnections < 0 || warmUpConnections > MAX_WARM_UP_CONNECTIONS) {
      throw new IllegalArgumentException(
          "warmUp connections ("
              + warmUpConnections
              + ") must be within 0.."
              + MAX_WARM_UP_CONNECTIONS
              + " (0: no warm-up)");
    }
    Duration warmUpFor = warmUpTimeout;
    if (warmUpFor == null) {
      Duration half = startTimeout.dividedBy(2);
      warmUpFor =
          half.compareTo(PreforkServer.DEFAULT_WARM_UP_TIMEOUT) < 0
              ? half.plusMillis(half.isZero() ? 1 : 0)
              : PreforkServer.DEFAULT_WARM_UP_TIMEOUT;
    } else {
      duration("warmUp timeout", warmUpFor, null);
      if (warmUpConnections > 0 && warmUpFor.compareTo(startTimeout) >= 0) {
        throw new IllegalArgumentException(
            "warmUp timeout ("
                + warmUpFor
                + ") must be shorter than startTimeout ("
                + startTimeout
                + "), or a child still warming up is killed as one that never started: shorten the"
                + " warm-up or raise startTimeout");
      }
    }
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
    ChildJvmPreset preset = ChildJvmPreset.byName(childJvmPreset);
    long childHeap =
        ChildMemory.heapBytes(preset, childJvmOptions, maxChildren, ChildMemory.physicalBytes());
    InetAddress address;
    try {
      address = InetAddress.getByName(bindAddress);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "bindAddress '" + bindAddress + "' does not resolve: give an IP address or a host name");
    }
    InetAddress httpInet = httpEndpointAddress();
    return new ServerConfig(
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
        httpInet,
        httpPort,
        jmx,
        childIdleTimeout,
        preset.label(),
        childHeap,
        writeTimeout,
        drainDelay,
        minThreads,
        warmUpConnections,
        warmUpFor,
        slowStart,
        deferAccept);
  }

  /** The endpoint's address, checked with its port and routes; null when it is off. */
  private InetAddress httpEndpointAddress() {
    if (httpPort < -1 || httpPort > 65_535) {
      throw new IllegalArgumentException(
          "httpEndpoint port (" + httpPort + ") must be within 0..65535, or -1 for no endpoint");
    }
    for (String path : routes.keySet()) {
      if (!path.startsWith("/") || path.contains("?") || path.contains("#")) {
        throw new IllegalArgumentException(
            "endpointRoute '" + path + "' must be a path starting with '/', e.g. /metrics");
      }
      if (HttpEndpoint.RESERVED.contains(path)) {
        throw new IllegalArgumentException(
            "endpointRoute '"
                + path
                + "' is one of the endpoint's own paths "
                + HttpEndpoint.RESERVED.stream().sorted().toList());
      }
    }
    if (httpPort < 0) {
      if (!routes.isEmpty()) {
        throw new IllegalArgumentException(
            "endpointRoute "
                + routes.keySet()
                + " needs the endpoint: set httpEndpoint(address, port)");
      }
      return null;
    }
    if (httpAddress == null || httpAddress.isBlank()) {
      throw new IllegalArgumentException(
          "httpEndpoint address is empty: give an IP address or a host name, e.g. 127.0.0.1");
    }
    try {
      return InetAddress.getByName(httpAddress);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "httpEndpoint address '"
              + httpAddress
              + "' does not resolve: give an IP address or a host name");
    }
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
   * A duration within 1 ms (they travel and are counted in milliseconds) and {@link #MAX_DURATION};
   * zero too if {@code zeroMeans} says what it means.
   */
  private static void atMost(String name, Duration value, Duration max, String why) {
    if (value.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          name + " (" + value + ") must be at most " + max + ": " + why);
    }
  }

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
      throw new IllegalArgumentException("job class " + name + " must be a public, concrete class");
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
