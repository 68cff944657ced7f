package io.prefork.core;

import io.prefork.shm.ShmKeys;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A master in its own JVM, for tests that kill or signal the master: {@code TestMaster KEY MIN MAX
 * [name=value ...]} with names job, daemon, pidFile, logFile, port, childJvmOption (repeatable) and
 * secondKey. Prints {@code READY <port> <pid>} once serving, then runs until stopped. With {@code
 * secondKey=KEY} it then starts a second server in the same JVM on that key and port 0, and prints
 * {@code SECOND <port>} (or {@code SECOND FAILED <why>}).
 */
public final class TestMaster {
  private TestMaster() {}

  public static void main(String[] args) throws Exception {
    PreforkServer.Builder builder =
        PreforkServer.builder()
            .bindAddress("127.0.0.1")
            .port(0)
            .shmKey(ShmKeys.parse(args[0]))
            .minChildren(Integer.parseInt(args[1]))
            .maxChildren(Integer.parseInt(args[2]))
            .job(TestJob.class)
            .threadsPerChild(1)
            .childJvmPreset("lean")
            .gracefulTimeout(Duration.ofSeconds(10))
            .handleSignals(true);
    java.util.List<String> childJvmOptions = new java.util.ArrayList<>();
    Integer secondKey = null;
    for (int i = 3; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      switch (kv[0]) {
        case "job" -> builder.job(kv[1]);
        case "daemon" -> builder.daemon(Boolean.parseBoolean(kv[1]));
        case "pidFile" -> builder.pidFile(Path.of(kv[1]));
        case "logFile" -> builder.logFile(Path.of(kv[1]));
        case "port" -> builder.port(Integer.parseInt(kv[1]));
        case "childJvmOption" -> childJvmOptions.add(kv[1]);
        case "secondKey" -> secondKey = ShmKeys.parse(kv[1]);
        default -> throw new IllegalArgumentException(args[i]);
      }
    }
    builder.childJvmOptions(childJvmOptions);
    PreforkServer server;
    try {
      server = builder.build().start();
    } catch (PreforkException e) {
      System.out.println("FAILED " + e.getMessage());
      System.exit(1);
      return;
    }
    System.out.println("READY " + server.port() + " " + server.pid());
    System.out.flush();
    if (secondKey != null) {
      try {
        PreforkServer second =
            PreforkServer.builder()
                .bindAddress("127.0.0.1")
                .port(0)
                .shmKey(secondKey)
                .minChildren(1)
                .maxChildren(1)
                .job(TestJob.class)
                .build()
                .start();
        System.out.println("SECOND " + second.port());
      } catch (PreforkException e) {
        System.out.println("SECOND FAILED " + e.getMessage());
      }
      System.out.flush();
    }
    server.awaitTermination();
    System.out.println("STOPPED " + server.failure().orElse("normally"));
  }
}
