package io.prefork.core.internal.master;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A validated, immutable configuration, made by {@link PreforkServer.Builder#build()}. */
public record ServerConfig(
    InetAddress bindAddress,
    int port,
    int backlog,
    int minChildren,
    int maxChildren,
    int threadsPerChild,
    int minSpare,
    int maxSpare,
    int shmKey,
    String jobClassName,
    List<String> childJvmOptions,
    Path javaExecutable,
    String childClassPath,
    Duration readTimeout,
    Duration jobTimeout,
    long maxCallsPerChild,
    long recycleJitter,
    Duration gracefulTimeout,
    Duration startTimeout,
    boolean handleSignals,
    boolean daemon,
    Path pidFile,
    Path logFile,
    Path childLogDirectory,
    Path childClassDataDirectory,
    InetAddress httpAddress,
    int httpPort,
    boolean jmx,
    Duration childIdleTimeout,
    String childJvmPreset,
    long childHeapBytes,
    Duration writeTimeout,
    Duration drainDelay,
    int minThreadsPerChild,
    int warmUpConnections,
    Duration warmUpTimeout,
    Duration slowStart,
    Duration deferAccept) {

  public ServerConfig {
    childJvmOptions = List.copyOf(childJvmOptions);
  }

  /** The master's HTTP endpoint (status, health, readiness, added routes) is on. */
  public boolean httpEndpoint() {
    return httpPort >= 0;
  }

  /** {@code TCP_DEFER_ACCEPT} in whole seconds, rounded up; 0: off. */
  int deferAcceptSeconds() {
    long millis = deferAccept.toMillis();
    return (int) ((millis + 999) / 1000);
  }

  /** The watchdog is on. */
  boolean watchdog() {
    return !jobTimeout.isZero();
  }
}
