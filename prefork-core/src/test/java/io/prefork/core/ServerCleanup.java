package io.prefork.core;

import io.prefork.shm.ShmKeys;
import io.prefork.shm.testing.ShmKeysExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Test support: unique shm keys, servers with small pools, and, after each test whatever its
 * outcome, every server stopped, every process started for its keys killed, every segment removed.
 */
public final class ServerCleanup implements AfterEachCallback {
  private final ShmKeysExtension keys = new ShmKeysExtension();
  private final List<Integer> usedKeys = new ArrayList<>();
  private final List<PreforkServer> servers = new ArrayList<>();

  /** A key no segment uses; cleaned up after the test. */
  public synchronized int newKey() {
    int key = keys.newKey();
    usedKeys.add(key);
    return key;
  }

  /** A builder for a small server on 127.0.0.1, an ephemeral port and a new key. */
  public PreforkServer.Builder builder(Class<? extends ChildJob> job) {
    return PreforkServer.builder()
        .bindAddress("127.0.0.1")
        .port(0)
        .shmKey(newKey())
        .job(job)
        .minChildren(2)
        .maxChildren(3)
        // One worker per child, as the tests count slots by child; lean children start faster
        // (the standard preset has tests of its own).
        .threadsPerChild(1)
        .childJvmPreset("lean")
        .gracefulTimeout(Duration.ofSeconds(10))
        .startTimeout(Duration.ofSeconds(60))
        // Replacements under a test's load still take the slow-start path, without the default's
        // 6 s each (SlowStartTest sets its own).
        .slowStart(Duration.ofMillis(500));
  }

  /** Starts the server and stops it after the test. */
  public synchronized PreforkServer start(PreforkServer.Builder builder) {
    PreforkServer server = builder.build();
    servers.add(server);
    return server.start();
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    List<PreforkServer> toStop;
    List<Integer> toClean;
    synchronized (this) {
      toStop = List.copyOf(servers);
      toClean = List.copyOf(usedKeys);
      servers.clear();
      usedKeys.clear();
    }
    for (PreforkServer server : toStop) {
      if (server.isRunning()) {
        try (ControlHandle control = server.control()) {
          control.forceDown();
        } catch (RuntimeException e) {
          System.err.println("cleanup: force-down failed: " + e);
        }
        server.awaitTermination(Duration.ofSeconds(10));
      }
    }
    for (int key : toClean) {
      killProcessesOf(key);
    }
    keys.afterEach(context);
  }

  /**
   * Kills any process whose command line names this key (children, test masters), orphans of a
   * killed master included. The command line is read whole from /proc: {@code
   * ProcessHandle.Info.arguments()} reads one page of it, and a child's class path is longer, so it
   * saw no arguments at all and left such processes running.
   */
  static void killProcessesOf(int key) {
    String hex = ShmKeys.toHex(key);
    ProcessHandle.allProcesses()
        .filter(p -> p.pid() != ProcessHandle.current().pid())
        .filter(p -> commandLine(p.pid()).contains(hex))
        .forEach(
            p -> {
              System.err.println("cleanup: killing leftover process " + p.pid() + " of key " + hex);
              p.destroyForcibly();
            });
  }

  private static List<String> commandLine(long pid) {
    try {
      byte[] raw =
          java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/" + pid + "/cmdline"));
      return List.of(new String(raw, java.nio.charset.StandardCharsets.UTF_8).split("\0"));
    } catch (java.io.IOException | RuntimeException e) {
      return List.of(); // gone, or not ours to read
    }
  }
}
