package io.prefork.shm;

/**
 * One slot of the table at one moment. Values are validated on reading: an out-of-range state reads
 * as {@link SlotState#UNKNOWN}, negative numbers as 0.
 *
 * @param slot the slot's index in the table
 * @param state the worker's state
 * @param pid the child's pid (0 before the master recorded it)
 * @param workerIndex the worker thread's index within its child
 * @param generation the generation the worker was started in
 * @param calls connections the worker accepted
 * @param stateSinceMillis when the state last changed (epoch milliseconds)
 * @param startedAtMillis when the master spawned the worker's child (epoch milliseconds)
 * @param exitRequest why the master asked the worker to exit, or NONE
 */
public record SlotSnapshot(
    int slot,
    SlotState state,
    int pid,
    int workerIndex,
    long generation,
    long calls,
    long stateSinceMillis,
    long startedAtMillis,
    ExitRequest exitRequest) {

  /**
   * How long the worker has been in its state, as seen at {@code nowMillis}.
   *
   * @param nowMillis the time to measure at (epoch milliseconds)
   * @return milliseconds since {@link #stateSinceMillis()}, 0 if that is later than {@code
   *     nowMillis}
   */
  public long millisInState(long nowMillis) {
    return Math.max(0, nowMillis - stateSinceMillis);
  }

  /**
   * True unless the slot is free.
   *
   * @return false only for {@link SlotState#UNUSED}
   */
  public boolean inUse() {
    return state != SlotState.UNUSED;
  }
}
