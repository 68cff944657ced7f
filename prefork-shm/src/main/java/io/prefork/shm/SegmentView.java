package io.prefork.shm;

import com.kenai.jffi.MemoryIO;
import java.lang.invoke.VarHandle;

/**
 * Reads of an attached segment, each checked to lie inside it before the memory is touched: a
 * corrupt or hostile table can make a reader compute any offset, and a read outside the mapping
 * would crash the JVM instead of failing with an exception.
 *
 * <p>Plain loads through jffi's {@link MemoryIO} (sun.misc.Unsafe underneath); an acquire load is a
 * plain load followed by {@link VarHandle#acquireFence()}. Nothing here loads chronicle-bytes or
 * spins method handles, so a {@code ctl} or a child pays nothing at start-up for its reads.
 */
final class SegmentView {
  private static final MemoryIO MEMORY = MemoryIO.getInstance();

  private final ShmSegment segment;
  private final long base;
  private final long size;

  SegmentView(ShmSegment segment) {
    this.segment = segment;
    this.base = segment.address();
    this.size = segment.size();
  }

  /** The segment's size in bytes: reads must end at or before it. */
  long size() {
    return size;
  }

  byte getByte(long offset) {
    check(offset, 1);
    return MEMORY.getByte(base + offset);
  }

  int getInt(long offset) {
    check(offset, SharedStatusTable.SIZE_OF_INT);
    return MEMORY.getInt(base + offset);
  }

  long getLong(long offset) {
    check(offset, SharedStatusTable.SIZE_OF_LONG);
    return MEMORY.getLong(base + offset);
  }

  /** A load with acquire semantics: later reads see what the writer stored before its release. */
  int getIntAcquire(long offset) {
    int v = getInt(offset);
    VarHandle.acquireFence();
    return v;
  }

  /** A load with acquire semantics: later reads see what the writer stored before its release. */
  long getLongAcquire(long offset) {
    long v = getLong(offset);
    VarHandle.acquireFence();
    return v;
  }

  private void check(long offset, int length) {
    if (!segment.isAttached()) {
      throw new IllegalStateException(
          "the table at shm key " + ShmKeys.toHex(segment.key()) + " was closed (detached)");
    }
    if (offset < 0 || offset > size - length) {
      throw new IndexOutOfBoundsException(
          "a read of "
              + length
              + " bytes at offset "
              + offset
              + " lies outside the segment's "
              + size
              + " bytes (shm key "
              + ShmKeys.toHex(segment.key())
              + ")");
    }
  }
}
