package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.shm.SlotState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A child's own pool of accepting threads, on a real child and real connections: it starts with
 * minThreadsPerChild accepting and the rest parked, accepts on more once those are all held, so a
 * connection beyond them is served, and its parked threads leave at once when it stops.
 */
class ParkedThreadsTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void aChildAcceptsOnItsParkedThreadsWhenTheOthersAreHeld() throws Exception {
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(1)
                .maxChildren(1)
                .threadsPerChild(8)
                .minThreadsPerChild(2));
    try (ControlHandle control = server.control()) {
      waitUntil(
          () ->
              control.status().count(SlotState.IDLE) == 2
                  && control.status().count(SlotState.PARKED) == 6,
          "2 accepting, 6 parked");
      long child = control.status().workers().get(0).pid();
      assertEquals(2, workerThreads(child), "a parked worker has no thread until it is needed");
      List<Client> held = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          Client c = new Client(server.port());
          held.add(c);
          assertEquals("pong", c.send("ping"), "served by an accepting thread");
          c.write("hold");
        }
        waitUntil(() -> control.status().count(SlotState.BUSY) == 2, "both accepting threads held");
        // A third connection waits in the kernel's queue until the child accepts on more threads:
        // nothing was accepted while both were held, so it accepts on all, whatever the cores do.
        assertEquals("pong", Client.ask(server.port(), "ping"), "served once the child grew");
        waitUntil(() -> control.status().count(SlotState.PARKED) == 0, "every thread accepting");
        assertEquals(8, workerThreads(child));
      } finally {
        for (Client c : held) {
          c.close();
        }
      }
      waitUntil(() -> control.status().count(SlotState.BUSY) == 0, "the held workers are free");
      // Parked threads leave as soon as the child stops: nothing holds the wait-down.
      assertTrue(control.waitDown(Duration.ofSeconds(10)), "the wait-down completes");
    }
  }

  /** The child's worker threads, by name (the kernel keeps 15 characters: "prefork-worker-"). */
  private static long workerThreads(long pid) throws IOException {
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return tasks
          .filter(
              t -> {
                try {
                  return Files.readString(t.resolve("comm")).startsWith("prefork-worker");
                } catch (IOException e) {
                  return false; // the thread ended meanwhile
                }
              })
          .count();
    }
  }
}
