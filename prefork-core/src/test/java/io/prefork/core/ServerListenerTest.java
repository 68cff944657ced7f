package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.ShmSegment;
import io.prefork.shm.SlotState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The public listener, on a real pool: what it hears, on which thread, and what it cannot break.
 */
class ServerListenerTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  /** Records every event as one line, with the thread it came on. */
  static final class Recorder implements ServerListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    volatile PreforkServer server;

    private void add(String event) {
      events.add(event);
      threads.add(Thread.currentThread().getName());
    }

    @Override
    public void starting(PreforkServer server) {
      this.server = server;
      add("starting");
    }

    @Override
    public void ready() {
      add("ready");
    }

    @Override
    public void childSpawned(int pid, int index, long generation) {
      add("spawned " + pid + " " + index + " " + generation);
    }

    @Override
    public void childReady(int pid, int index, long generation, Duration startup) {
      assertTrue(startup.toNanos() > 0);
      add("childReady " + pid + " " + index + " " + generation);
    }

    @Override
    public void childExited(
        int pid, int index, long generation, ExitCause cause, int exitCode, int signal) {
      add("exited " + pid + " " + cause.label() + " " + exitCode + " " + signal);
    }

    @Override
    public void restartBegan() {
      add("restartBegan");
    }

    @Override
    public void restartEnded() {
      add("restartEnded");
    }

    @Override
    public void stopping() {
      add("stopping");
    }

    @Override
    public void stopped() {
      add("stopped");
    }

    List<String> starting(String prefix) {
      return events.stream().filter(e -> e.startsWith(prefix)).toList();
    }
  }

  /** Throws from every event: the server runs all the same, and the next listener hears them. */
  static final class Thrower implements ServerListener {
    @Override
    public void ready() {
      throw new IllegalStateException("a listener that throws (expected in this test)");
    }

    @Override
    public void childSpawned(int pid, int index, long generation) {
      throw new IllegalStateException("a listener that throws (expected in this test)");
    }

    @Override
    public void childExited(
        int pid, int index, long generation, ExitCause cause, int exitCode, int signal) {
      throw new IllegalStateException("a listener that throws (expected in this test)");
    }

    @Override
    public void stopped() {
      throw new IllegalStateException("a listener that throws (expected in this test)");
    }
  }

  @Test
  void hearsTheLifeOfThePoolOnTheMasterThread() throws Exception {
    Recorder recorder = new Recorder();
    PreforkServer server =
        cleanup.start(
            cleanup.builder(TestJob.class).listener(new Thrower()).listener(recorder).jmx(false));
    assertSame(server, recorder.server);
    assertEquals("starting", recorder.events.get(0));
    assertEquals(Thread.currentThread().getName(), recorder.threads.get(0));
    // start() returns once the pool is ready, which may be just before the listener hears it.
    waitUntil(() -> recorder.events.contains("ready"), "ready heard");
    List<String> spawned = recorder.starting("spawned ");
    assertEquals(2, spawned.size(), recorder.events.toString());
    ServerStatus status = server.status();
    for (WorkerStatus w : status.workers()) {
      assertTrue(
          recorder.events.stream().anyMatch(e -> e.matches("spawned " + w.pid() + " [01] 1")),
          recorder.events.toString());
    }
    waitUntil(() -> recorder.starting("childReady ").size() == 2, "both children ready heard");
    int ready = recorder.events.indexOf("ready");
    assertTrue(
        recorder.events.subList(0, ready).stream().filter(e -> e.startsWith("childReady")).count()
            >= 2,
        "childReady before ready: " + recorder.events);

    // kill -9 a child: a crash, killed by signal 9.
    int victim = status.workers().get(0).pid();
    assertTrue(ProcessHandle.of(victim).orElseThrow().destroyForcibly());
    waitUntil(
        () -> recorder.events.contains("exited " + victim + " crashed -1 9"), "the crash heard");
    waitUntil(() -> server.status().count(SlotState.IDLE) == 2, "a replacement accepting");

    try (ControlHandle control = server.control()) {
      control.restart();
    }
    waitUntil(() -> recorder.events.contains("restartEnded"), "the restart's end heard");
    assertTrue(
        recorder.events.indexOf("restartBegan") < recorder.events.indexOf("restartEnded"),
        recorder.events.toString());
    assertTrue(
        recorder.events.stream().anyMatch(e -> e.matches("spawned \\d+ \\d 2")),
        "generation 2 spawned: " + recorder.events);

    server.close();
    List<String> events = new ArrayList<>(recorder.events);
    int stopping = events.indexOf("stopping");
    assertTrue(stopping > 0, events.toString());
    assertEquals("stopped", events.get(events.size() - 1), events.toString());
    assertTrue(
        events.subList(stopping, events.size()).stream()
            .anyMatch(e -> e.matches("exited \\d+ requested 0 0")),
        "children asked to exit in the wait-down: " + events);
    String master = "prefork-master-";
    for (int i = 1; i < recorder.threads.size(); i++) {
      assertTrue(
          recorder.threads.get(i).startsWith(master),
          events.get(i) + " came on " + recorder.threads.get(i));
    }
  }

  @Test
  void aListenerRefusingToStartFailsTheStartAndLeavesNothing() {
    ServerListener refuses =
        new ServerListener() {
          @Override
          public void starting(PreforkServer server) {
            throw new IllegalStateException("not with this server");
          }
        };
    PreforkServer.Builder builder = cleanup.builder(TestJob.class).listener(refuses);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> cleanup.start(builder));
    assertEquals("not with this server", e.getMessage());
    assertTrue(ShmSegment.stat(builder.build().shmKey()).isEmpty(), "no table");
  }
}
