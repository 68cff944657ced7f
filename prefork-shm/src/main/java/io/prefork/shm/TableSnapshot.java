package io.prefork.shm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The whole table at one moment (each field read once; the fields of different slots are not read
 * atomically together).
 *
 * @param key the segment's key
 * @param takenAtMillis when the snapshot was read (epoch milliseconds)
 * @param masterPid the master's pid
 * @param masterState what the master is doing
 * @param masterStartMillis when the master created the table
 * @param heartbeatMillis when the master last refreshed its heartbeat
 * @param generation the current generation (incremented by each restart)
 * @param minChildren the pool's lower bound
 * @param maxChildren the pool's upper bound
 * @param workersPerChild worker threads (slots) per child
 * @param spawns children spawned so far
 * @param crashes children that died without being asked to
 * @param restarts restarts completed
 * @param listenQueue connections waiting in the accept queue, as the kernel reported it last
 * @param listenBacklog the accept queue's limit
 * @param listenPort the listening port
 * @param listenAddress the listening address as text ({@code 127.0.0.1}, {@code ::}), or "?"
 * @param spawnBackoffUntilMillis no respawn before this time (crash-loop backoff), 0 if none
 * @param retiredCalls calls of children that have exited (add {@link #totalCalls()} for all)
 * @param callsPerSecond calls per second over the master's last rate interval
 * @param rateIntervalMillis that interval (0 before the first)
 * @param pendingCommands commands posted but not yet taken by the master
 * @param poolDecision the pool's last change of size and why ({@link PoolDecision#NONE} if none)
 * @param masterRssBytes the master's resident memory as it last published it, 0 if unknown
 * @param childrenRssBytes its live children's resident memory summed, likewise
 * @param slots every slot of the table, used or not
 */
public record TableSnapshot(
    int key,
    long takenAtMillis,
    int masterPid,
    MasterState masterState,
    long masterStartMillis,
    long heartbeatMillis,
    long generation,
    int minChildren,
    int maxChildren,
    int workersPerChild,
    long spawns,
    long crashes,
    long restarts,
    int listenQueue,
    int listenBacklog,
    int listenPort,
    String listenAddress,
    long spawnBackoffUntilMillis,
    long retiredCalls,
    double callsPerSecond,
    int rateIntervalMillis,
    long pendingCommands,
    PoolDecision poolDecision,
    long masterRssBytes,
    long childrenRssBytes,
    List<SlotSnapshot> slots) {

  /**
   * Milliseconds since the master's last heartbeat, at the time of the snapshot.
   *
   * @return {@code takenAtMillis - heartbeatMillis}, at least 0
   */
  public long heartbeatAgeMillis() {
    return Math.max(0, takenAtMillis - heartbeatMillis);
  }

  /**
   * The slots in use (not {@link SlotState#UNUSED}).
   *
   * @return those slots in table order, unmodifiable; empty when no slot is in use
   */
  public List<SlotSnapshot> usedSlots() {
    // A loop, not a stream: a stream's first use costs a short-lived tool (ctl) milliseconds.
    List<SlotSnapshot> used = new ArrayList<>();
    for (SlotSnapshot s : slots) {
      if (s.inUse()) {
        used.add(s);
      }
    }
    return Collections.unmodifiableList(used);
  }

  /**
   * How many slots are in this state.
   *
   * @param state the state to count
   * @return the number of slots in it, 0 to {@code slots().size()}
   */
  public int count(SlotState state) {
    int n = 0;
    for (SlotSnapshot s : slots) {
      if (s.state() == state) {
        n++;
      }
    }
    return n;
  }

  /**
   * The sum of the call counts of the slots in use now (children alive).
   *
   * @return the sum of {@link SlotSnapshot#calls()} over {@link #usedSlots()}
   */
  public long totalCalls() {
    long sum = 0;
    for (SlotSnapshot s : slots) {
      if (s.inUse()) {
        sum += s.calls();
      }
    }
    return sum;
  }

  /**
   * Every call the server accepted since it started: alive children's and exited ones'.
   *
   * @return {@link #retiredCalls()} plus {@link #totalCalls()}
   */
  public long allCalls() {
    return retiredCalls + totalCalls();
  }
}
