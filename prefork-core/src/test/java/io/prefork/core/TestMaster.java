package io.prefork.core;

import io.prefork.shm.ShmKeys;
import java.time.Duration;

/**
 * A master in its own JVM, for tests that kill or signal the master: {@code TestMaster KEY MIN MAX
 * [JOB]}. Prints {@code READY <port> <pid>} once serving, then runs until stopped.
 */
public final class TestMaster {
  private TestMaster() {}

  public static void main(String[] args) throws Exception {
    PreforkServer server =
        PreforkServer.builder()
            .bindAddress("127.0.0.1")
            .port(0)
            .shmKey(ShmKeys.parse(args[0]))
            .minChildren(Integer.parseInt(args[1]))
            .maxChildren(Integer.parseInt(args[2]))
            .job(args.length > 3 ? args[3] : TestJob.class.getName())
            .gracefulTimeout(Duration.ofSeconds(10))
            .handleSignals(true)
            .build()
            .start();
    System.out.println("READY " + server.port() + " " + server.pid());
    System.out.flush();
    server.awaitTermination();
    System.out.println("STOPPED");
  }
}
