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
   * @param key the table's System V key
   * @param firstSlot the index of the child's first slot
   * @param workers the child's number of worker threads (and slots), at least 1
   * @return the attached table; {@link #close()} detaches it
   * @throws StatusTableException if the table fails validation or the slots are outside it
   * @throws ShmException if there is no such segment or it can't be attached
   * @throws IllegalArgumentException if {@code workers} is less than 1
   */
  public static ChildTable attach(int key, int firstSlot, int workers) {
    if (workers < 1) {
      throw new IllegalArgumentException("workers (" + workers + ") must be >= 1");
    }
    Attached attached = attachValidated(key, false);
    try {
      ChildTable table =
          new ChildTable(attached.segment(), attached.slotCount(), firstSlot, workers);
      table.checkSlot(firstSlot);
      table.checkSlot(firstSlot + workers - 1);
      return table;
    } catch (RuntimeException e) {
      attached.segment().detach();
      throw e;
    }
  }

  /**
   * The slot of this child's worker {@code workerIndex} (0-based).
   *
   * @param workerIndex the worker's index in this child, 0 to {@code workers - 1}
   * @return a new {@link WorkerSlot} on slot {@code firstSlot + workerIndex}
   * @throws IllegalArgumentException if {@code workerIndex} is outside the child's workers
   */
  public WorkerSlot worker(int workerIndex) {
    if (workerIndex < 0 || workerIndex >= workers) {
      throw new IllegalArgumentException(
          "worker index " + workerIndex + " is outside this child's " + workers + " workers");
    }
    checkAttached();
    return new WorkerSlot(this, firstSlot + workerIndex);
  }
}
