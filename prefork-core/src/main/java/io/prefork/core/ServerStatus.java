package io.prefork.core;

import io.prefork.shm.MasterState;
import io.prefork.shm.PoolDecision;
import io.prefork.shm.SlotState;
import java.util.List;

/**
 * A point-in-time view of a server, read from its shared status table.
 *
 * @param shmKey the table's key
 * @param masterPid the master's pid
 * @param masterState what the master is doing
 * @param generation the current generation
 * @param uptimeMillis how long the master has run
 * @param heartbeatAgeMillis how long ago the master last refreshed its heartbeat
 * @param listenAddress the listening address
 * @param listenPort the listening port
 * @param listenQueue connections waiting in the accept queue (from the kernel)
 * @param listenBacklog the accept queue's limit
 * @param minChildren the pool's lower bound
 * @param maxChildren the pool's upper bound
 * @param threadsPerChild worker threads per child
 * @param spawns children spawned so far
 * @param crashes children that died without being asked to
 * @param restarts restarts completed
 * @param spawnBackoffUntilMillis respawning held back until this time (crash loop), 0 if not
 * @param totalCalls connections accepted since the start, by children alive or gone
 * @param callsPerSecond connections accepted per second over the last interval
 * @param rateIntervalMillis that interval
 * @param lastPoolDecision the pool's last change of size and why ({@link PoolDecision#describe()}:
 *     "grew by 2: 0 idle, queue 137"), {@link PoolDecision#NONE} before the first
 * @param workers the workers in use (free slots are left out)
 * @param takenAtMillis when the table was read (epoch milliseconds)
 */
public record ServerStatus(
    int shmKey,
    int masterPid,
    MasterState masterState,
    long generation,
    long uptimeMillis,
    long heartbeatAgeMillis,
    String listenAddress,
    int listenPort,
    int listenQueue,
    int listenBacklog,
    int minChildren,
    int maxChildren,
    int threadsPerChild,
    long spawns,
    long crashes,
    long restarts,
    long spawnBackoffUntilMillis,
    long totalCalls,
    double callsPerSecond,
    int rateIntervalMillis,
    PoolDecision lastPoolDecision,
    List<WorkerStatus> workers,
    long takenAtMillis) {

  /**
   * Workers in this state.
   *
   * @param state the state to count
   * @return workers in this state
   */
  public long count(SlotState state) {
    return workers.stream().filter(w -> w.state() == state).count();
  }

  /** {@return child processes (distinct pids) in the pool} */
  public long children() {
    return workers.stream().mapToInt(WorkerStatus::pid).filter(p -> p > 0).distinct().count();
  }

  /** {@return connections accepted by the workers now in the pool} */
  public long poolCalls() {
    return workers.stream().mapToLong(WorkerStatus::calls).sum();
  }
}
