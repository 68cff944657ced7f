package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

import net.openhft.chronicle.bytes.BytesStore;

/**
 * One worker's own slot, written only by that worker's thread. The transitions are ordered stores
 * that allocate nothing; the slot's state is stored last so readers see the count and time with it.
 *
 * <p>Not thread-safe: one worker thread owns it. Use it only while its {@link ChildTable} is open.
 */
public final class WorkerSlot {
  private final ChildTable table;
  private final BytesStore<?, ?> store;
  private final int slot;
  private final long base;
  private long calls;

  WorkerSlot(ChildTable table, int slot) {
    this.table = table;
    this.store = table.store;
    this.slot = slot;
    this.base = slotOffset(slot);
    this.calls = store.readVolatileLong(base + CALLS_OFFSET);
  }

  /** The slot's index in the table. */
  public int slot() {
    return slot;
  }

  /** Connections this worker accepted. */
  public long calls() {
    return calls;
  }

  /** Waiting in accept. */
  public void markIdle(long nowMillis) {
    table.checkAttached();
    store.writeOrderedLong(base + STATE_SINCE_OFFSET, nowMillis);
    store.writeOrderedInt(base + STATE_OFFSET, SlotState.IDLE.code());
  }

  /** Accepted a connection: counts it and marks the slot busy. */
  public void markBusy(long nowMillis) {
    table.checkAttached();
    store.writeOrderedLong(base + CALLS_OFFSET, ++calls);
    store.writeOrderedLong(base + STATE_SINCE_OFFSET, nowMillis);
    store.writeOrderedInt(base + STATE_OFFSET, SlotState.BUSY.code());
  }

  /** Accepts no more connections and is about to exit. */
  public void markExiting(long nowMillis) {
    table.checkAttached();
    store.writeOrderedLong(base + STATE_SINCE_OFFSET, nowMillis);
    store.writeOrderedInt(base + STATE_OFFSET, SlotState.EXITING.code());
  }

  /** True once the master asked this worker to exit after the connection in hand. */
  public boolean exitRequested() {
    table.checkAttached();
    return store.readVolatileInt(base + EXIT_REQUEST_OFFSET) != ExitRequest.NONE.code();
  }

  /** Why the master asked this worker to exit, or NONE. */
  public ExitRequest exitRequest() {
    table.checkAttached();
    return ExitRequest.ofCode(store.readVolatileInt(base + EXIT_REQUEST_OFFSET));
  }
}
