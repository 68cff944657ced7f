package com.example.hello;

import io.prefork.core.PreforkException;
import io.prefork.core.PreforkServer;
import java.time.Duration;

/**
 * The server: {@code HelloServer [PORT [SHM_KEY [BIND_ADDRESS]]]}. Port 0 (the default) picks a
 * free one; the key is hex ({@code 0x4865}) or decimal. Runs until a controller or a signal stops
 * it: SIGTERM or Ctrl-C waits for the requests in progress, {@link HelloStop} does not.
 */
public final class HelloServer {
  private HelloServer() {}

  public static void main(String[] args) throws InterruptedException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    int shmKey = args.length > 1 ? Integer.decode(args[1]) : 0x4865;
    String bind = args.length > 2 ? args[2] : "127.0.0.1";
    PreforkServer server;
    try {
      server =
          PreforkServer.builder()
              .bindAddress(bind)
              .port(port)
              .shmKey(shmKey) // unique per server on the host
              .job(HelloJob.class)
              .minChildren(2)
              .maxChildren(4)
              .readTimeout(Duration.ofSeconds(5))
              .handleSignals(true) // SIGTERM/SIGINT: wait-down, SIGHUP: restart
              .build()
              .start(); // returns once the children accept
    } catch (PreforkException | IllegalArgumentException e) {
      System.err.println("hello-app: " + e.getMessage());
      System.exit(1);
      return;
    }
    System.out.printf(
        "hello-app listening on %s port %d, master pid %d, shm key 0x%x%n",
        server.address().getHostAddress(), server.port(), server.pid(), server.shmKey());
    System.out.flush();
    server.awaitTermination();
    if (server.failure().isPresent()) { // it stopped on its own, e.g. the job no longer starts
      System.err.println("hello-app: " + server.failure().get());
      System.exit(1);
    }
    System.out.println("hello-app stopped");
  }
}
