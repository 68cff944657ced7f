package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

/**
 * One worker's own slot, written only by that worker's thread. The transitions are ordered stores
 * that allocate nothing; the slot's state is stored last so readers see the count and time with it.
 *
 * <p>The hot path makes ordered stores at the slot's absolute address ({@link RawMemory}, {@code
 * sun.misc.Unsafe}) rather than through the table's {@code BytesStore}: the JIT can't hoist the
 * store's non-final fields past a release store, and reloading them cost 2.3 ns of a 5 ns cycle;
 * and a child never loads chronicle-bytes at all, which saves it start-up time and memory (see
 * docs/performance.md).
 *
 * <p>Not thread-safe: one worker thread owns it. Use it only while its {@link ChildTable} is open.
 */
public final class WorkerSlot {
  private static final int IDLE = SlotState.IDLE.code();
  private static final int BUSY = SlotState.BUSY.code();
  private static final int EXITING = SlotState.EXITING.code();
  private static final int PARKED = SlotState.PARKED.code();

  private final ShmSegment segment;
  private final int slot;
  private final long address;
  private long calls;

  WorkerSlot(ChildTable table, int slot) {
    this.segment = table.segment;
    this.slot = slot;
    this.address = segment.address() + slotOffset(slot);
    this.calls = RawMemory.readVolatileLong(address + CALLS_OFFSET);
  }

  /**
   * The slot's index in the table.
   *
   * @return the index, 0 to the table's slot count - 1
   */
  public int slot() {
    return slot;
  }

  /**
   * Connections this worker accepted.
   *
   * @return the slot's count when this object was made, plus one per {@link #markBusy}
   */
  public long calls() {
    return calls;
  }

  /**
   * Connections this worker accepted, as published in the table: readable from any thread.
   *
   * @return the count last stored by {@link #markBusy}
   */
  public long publishedCalls() {
    checkAttached();
    return RawMemory.readVolatileLong(address + CALLS_OFFSET);
  }

  /**
   * Waiting in accept.
   *
   * @param nowMillis the time of the change (epoch milliseconds), published as the state's start
   */
  public void markIdle(long nowMillis) {
    checkAttached();
    RawMemory.writeOrderedLong(address + STATE_SINCE_OFFSET, nowMillis);
    RawMemory.writeOrderedInt(address + STATE_OFFSET, IDLE);
  }

  /**
   * Accepted a connection: counts it and marks the slot busy.
   *
   * @param nowMillis the time of the change (epoch milliseconds), published as the state's start
   */
  public void markBusy(long nowMillis) {
    checkAttached();
    RawMemory.writeOrderedLong(address + CALLS_OFFSET, ++calls);
    RawMemory.writeOrderedLong(address + STATE_SINCE_OFFSET, nowMillis);
    RawMemory.writeOrderedInt(address + STATE_OFFSET, BUSY);
  }

  /**
   * Parked: a spare thread that does not accept until the child needs it.
   *
   * @param nowMillis the time of the change (epoch milliseconds), published as the state's start
   */
  public void markParked(long nowMillis) {
    checkAttached();
    RawMemory.writeOrderedLong(address + STATE_SINCE_OFFSET, nowMillis);
    RawMemory.writeOrderedInt(address + STATE_OFFSET, PARKED);
  }

  /**
   * Accepts no more connections and is about to exit.
   *
   * @param nowMillis the time of the change (epoch milliseconds), published as the state's start
   */
  public void markExiting(long nowMillis) {
    checkAttached();
    RawMemory.writeOrderedLong(address + STATE_SINCE_OFFSET, nowMillis);
    RawMemory.writeOrderedInt(address + STATE_OFFSET, EXITING);
  }

  /**
   * True once the master asked this worker to exit after the connection in hand.
   *
   * @return true if the slot's exit request is anything but {@link ExitRequest#NONE}
   */
  public boolean exitRequested() {
    checkAttached();
    return RawMemory.readVolatileInt(address + EXIT_REQUEST_OFFSET) != ExitRequest.NONE.code();
  }

  /**
   * Why the master asked this worker to exit, or NONE.
   *
   * @return the request, never null
   */
  public ExitRequest exitRequest() {
    checkAttached();
    return ExitRequest.ofCode(RawMemory.readVolatileInt(address + EXIT_REQUEST_OFFSET));
  }

  /** Touching the memory after detach would crash the JVM: fail with an exception instead. */
  private void checkAttached() {
    if (!segment.isAttached()) {
      throw new IllegalStateException(
          "the table at shm key " + ShmKeys.toHex(segment.key()) + " was closed (detached)");
    }
  }
}
