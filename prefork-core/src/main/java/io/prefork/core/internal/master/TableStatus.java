package io.prefork.core.internal.master;

import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import io.prefork.shm.TableSnapshot;
import java.util.ArrayList;
import java.util.List;

/**
 * A table snapshot as the public {@link ServerStatus}: one mapping for the master and controllers.
 */
public final class TableStatus {
  private TableStatus() {}

  /**
   * The status a snapshot shows.
   *
   * @param s a snapshot of the table
   * @return the same figures as a {@link ServerStatus}
   */
  public static ServerStatus of(TableSnapshot s) {
    long now = s.takenAtMillis();
    List<WorkerStatus> workers = new ArrayList<>();
    for (var slot : s.usedSlots()) {
      workers.add(
          new WorkerStatus(
              slot.slot(),
              slot.pid(),
              slot.workerIndex(),
              slot.state(),
              slot.calls(),
              slot.generation(),
              slot.millisInState(now),
              Math.max(0, now - slot.startedAtMillis()),
              slot.exitRequest()));
    }
    return new ServerStatus(
        s.key(),
        s.masterPid(),
        s.masterState(),
        s.generation(),
        Math.max(0, now - s.masterStartMillis()),
        s.heartbeatAgeMillis(),
        s.listenAddress(),
        s.listenPort(),
        s.listenQueue(),
        s.listenBacklog(),
        s.minChildren(),
        s.maxChildren(),
        s.workersPerChild(),
        s.spawns(),
        s.crashes(),
        s.restarts(),
        s.spawnBackoffUntilMillis(),
        s.allCalls(),
        s.callsPerSecond(),
        s.rateIntervalMillis(),
        s.poolDecision(),
        s.masterRssBytes(),
        s.childrenRssBytes(),
        List.copyOf(workers),
        now);
  }
}
