package io.prefork.core;

import io.prefork.core.internal.ops.StatusJson;
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
 * @param masterRssBytes the master's resident memory (RSS, as {@code ps} shows it), refreshed once
 *     a second; 0 if unknown
 * @param childrenRssBytes the live children's resident memory summed, likewise (shared pages, such
 *     as a class-data archive's, count once per child, as in {@code ps})
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
    long masterRssBytes,
    long childrenRssBytes,
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

  /**
   * This status as one JSON object on one line: what {@code ctl status --json} prints and the HTTP
   * endpoint's {@code /status.json} serves. Fields and their order are stable; new fields are only
   * ever appended.
   *
   * <pre>{@code
   * {"masterPid":12345,"generation":1,"state":"RUNNING","listen":"127.0.0.1:6905",
   *  "uptimeMillis":83000,"heartbeatAgeMillis":12,
   *  "workers":{"idle":3,"busy":1,"parked":0,"starting":0,"exiting":0,"total":4},
   *  "childCount":4,"minChildren":4,"maxChildren":16,"threadsPerChild":1,
   *  "totalCalls":1234,"callsPerSecond":56.000,"rateIntervalMillis":1000,
   *  "spawns":5,"crashes":1,"restarts":0,"spawnBackoffUntilMillis":0,
   *  "listenQueue":0,"listenBacklog":511,"poolDecision":"grew by 2: 0 idle, queue 0",
   *  "poolDecisionAtMillis":1764614300000,"masterRssBytes":64884736,"childrenRssBytes":109051904,
   *  "children":[{"slot":0,"pid":12346,"state":"IDLE","calls":3,"generation":1,
   *               "millisInState":1200,"ageMillis":83000,"workerIndex":0,"exitRequest":"NONE"},
   *              ...]}
   * }</pre>
   *
   * <p>{@code state} is the master's ({@link MasterState}); {@code listen} is {@code address:port},
   * an IPv6 address in brackets; {@code workers} counts the slots in use by state; {@code
   * childCount} is {@link #children()}; {@code callsPerSecond} has three decimals; {@code children}
   * has one entry per worker slot in use ({@link #workers()}), whose {@code state} is STARTING,
   * IDLE, BUSY, PARKED or EXITING and {@code exitRequest} NONE, STOP, RESTART, RETIRE or RECYCLE.
   *
   * @return the JSON object, without a line feed
   */
  public String toJson() {
    return StatusJson.of(this);
  }
}
