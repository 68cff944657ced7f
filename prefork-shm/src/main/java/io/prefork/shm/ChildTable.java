package io.prefork.shm;

/**
 * A child's attachment of the status table: it reads the header and hands out {@link WorkerSlot}s
 * for its own slots only, one per worker thread.
 */
public final class ChildTable extends AttachedTable {
  private final int firstSlot;
  private final int workers;

  private ChildTable(ShmSegment segment, int slotCount, int firstSlot, int workers) {
    super(segment, slotCount);
    this.firstSlot = firstSlot;
    this.workers = workers;
  }

  /**
   * Attaches the table at {@code key} read-write for the child that owns slots {@code firstSlot ..
   * firstSlot + workers - 1}.
   *
   * @throws StatusTableException if the table fails validation or the slots are outside it
   * @throws ShmException if there is no such segment or it can't be attached
   */
  public static ChildTable attach(int key, int firstSlot, int workers) {
    if (workers < 1) {
      throw new IllegalArgumentException("workers (" + workers + ") must be >= 1");
    }
    return attachValidated(
        key,
        false,
        (segment, slots) -> {
          ChildTable table = new ChildTable(segment, slots, firstSlot, workers);
          table.checkSlot(firstSlot);
          table.checkSlot(firstSlot + workers - 1);
          return table;
        });
  }

  /** The slot of this child's worker {@code workerIndex} (0-based). */
  public WorkerSlot worker(int workerIndex) {
    if (workerIndex < 0 || workerIndex >= workers) {
      throw new IllegalArgumentException(
          "worker index " + workerIndex + " is outside this child's " + workers + " workers");
    }
    checkAttached();
    return new WorkerSlot(this, firstSlot + workerIndex);
  }
}
