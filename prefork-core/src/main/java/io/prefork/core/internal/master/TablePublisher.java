package io.prefork.core.internal.master;

import io.prefork.core.internal.os.ResidentMemory;
import io.prefork.shm.MasterTable;
import io.prefork.shm.SlotState;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the table's pool-wide figures fresh once per tick: the accept queue as the kernel reports
 * it; the call rate and the resident memory of the master and its children once a second; and tells
 * the observers (systemd, metrics) how the pool stands.
 */
final class TablePublisher {
  /** How often the call rate is computed. */
  static final long RATE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final long MASTER_PID = ProcessHandle.current().pid();

  private final MasterTable table;
  private final ListenSocket socket;
  private final ChildPool pool;
  private final ServerEvents events;
  private final MonotonicClock clock;
  private long rateSinceNanos;
  private long rateSinceCalls = -1;
  private int queued;

  TablePublisher(
      MasterTable table,
      ListenSocket socket,
      ChildPool pool,
      ServerEvents events,
      MonotonicClock clock) {
    this.table = table;
    this.socket = socket;
    this.pool = pool;
    this.events = events;
    this.clock = clock;
  }

  /** Reads the accept queue (the pool policy's input too) and writes it to the table. */
  int readQueue() {
    int[] queue = socket.acceptQueue();
    if (queue != null) {
      queued = queue[0];
      table.listenQueue(queue[0], queue[1]);
    }
    return queued;
  }

  void publish(long generation) {
    long now = clock.nanoTime();
    if (rateSinceCalls < 0 || now - rateSinceNanos >= RATE_INTERVAL_NANOS) {
      long total = pool.allCalls();
      if (rateSinceCalls >= 0) {
        long interval = now - rateSinceNanos;
        table.callRate(
            (total - rateSinceCalls) * 1e9 / interval, TimeUnit.NANOSECONDS.toMillis(interval));
      }
      rateSinceNanos = now;
      rateSinceCalls = total;
      publishMemory();
    }
    events.tick(view(generation));
  }

  /** A few /proc reads per second: cheap beside a tick, and what ps would show. */
  private void publishMemory() {
    long children = 0;
    for (ChildProcess c : pool.all()) {
      children += ResidentMemory.kib(c.pid);
    }
    table.residentMemory(ResidentMemory.kib(MASTER_PID), children);
  }

  ServerView view(long generation) {
    int idle = 0;
    int busy = 0;
    int starting = 0;
    for (ChildProcess c : pool.all()) {
      if (!c.ready) {
        starting++;
      }
      idle += pool.spare(c); // parked workers too: the child accepts on them when it needs them
      busy += pool.count(c, SlotState.BUSY);
    }
    return new ServerView(idle, busy, pool.size(), starting, generation);
  }
}
