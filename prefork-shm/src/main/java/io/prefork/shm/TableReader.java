package io.prefork.shm;

/**
 * A read-only attachment of the status table for controllers and tools: the segment is attached
 * with SHM_RDONLY, so nothing here can change the server.
 */
public final class TableReader extends AttachedTable {
  private TableReader(ShmSegment segment, int slotCount) {
    super(segment, slotCount);
  }

  /**
   * Attaches the table at {@code key} read-only and validates it.
   *
   * @param key the table's System V key
   * @return the attached table; {@link #close()} detaches it
   * @throws ShmException when there is no segment at the key (ENOENT) or it is not accessible
   * @throws StatusTableException when the segment is not a valid prefork table of ours
   */
  public static TableReader attach(int key) {
    Attached attached = attachValidated(key, true);
    return new TableReader(attached.segment(), attached.slotCount());
  }
}
