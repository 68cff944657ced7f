package io.prefork.core;

import io.prefork.core.internal.os.Signals;
import io.prefork.shm.ShmKeys;
import java.time.Duration;

/**
 * An application that embeds a server with {@code handleSignals(true)}: {@code EmbeddingApp KEY}.
 * It has a shutdown hook and a SIGHUP handler of its own, starts the server, closes it, prints
 * {@code CLOSED}, then waits 20 s for signals: {@code APP HUP} when SIGHUP reaches its handler,
 * {@code HOOK RAN} when its shutdown hook runs.
 */
public final class EmbeddingApp {
  private EmbeddingApp() {}

  public static void main(String[] args) throws Exception {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> System.out.println("HOOK RAN"), "app-shutdown-hook"));
    Signals.handle("HUP", () -> System.out.println("APP HUP"));
    PreforkServer server =
        PreforkServer.builder()
            .bindAddress("127.0.0.1")
            .port(0)
            .shmKey(ShmKeys.parse(args[0]))
            .job(TestJob.class)
            .minChildren(1)
            .maxChildren(1)
            .handleSignals(true)
            .build()
            .start();
    System.out.println("STARTED " + server.port());
    server.close();
    System.out.println("CLOSED");
    System.out.flush();
    Thread.sleep(Duration.ofSeconds(20).toMillis());
    System.out.println("NO SIGNAL CAME");
  }
}
