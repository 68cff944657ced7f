package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

import java.time.Duration;

/**
 * Posts commands to a master through the table's command word, the one word other processes write.
 * Each post takes the next sequence number with compare-and-swap, so any number of controllers can
 * post at once; the master acknowledges the newest sequence it took.
 */
public final class ControlPort extends AttachedTable {
  /** How long a post waits for the master to take an earlier command before overwriting it. */
  static final long PENDING_WAIT_MILLIS = 1_000;

  private ControlPort(ShmSegment segment, int slotCount) {
    super(segment, slotCount);
  }

  /**
   * Attaches the table at {@code key} read-write and validates it.
   *
   * @param key the table's System V key
   * @return the attached table; {@link #close()} detaches it
   * @throws ShmException when there is no segment at the key (ENOENT) or it is not accessible
   * @throws StatusTableException when the segment is not a valid prefork table of ours
   */
  public static ControlPort attach(int key) {
    Attached attached = attachValidated(key, false);
    return new ControlPort(attached.segment(), attached.slotCount());
  }

  /**
   * Posts a command and returns its sequence number. If an earlier command is still untaken, waits
   * up to a second for the master to take it, so that commands from racing controllers are not
   * silently replaced.
   *
   * @param command the command to post, not {@link Command#NONE}
   * @return the command's sequence number (1 for the table's first), for {@link #awaitTaken}
   * @throws IllegalArgumentException if {@code command} is {@link Command#NONE}
   * @throws IllegalStateException if the table was closed, or the thread was interrupted while
   *     waiting (its interrupt status is set again)
   */
  public long post(Command command) {
    if (command == Command.NONE) {
      throw new IllegalArgumentException("post a command, not NONE");
    }
    checkAttached();
    long waitUntil = System.nanoTime() + PENDING_WAIT_MILLIS * 1_000_000;
    while (true) {
      long word = view.getLongAcquire(COMMAND_OFFSET);
      long sequence = commandSequence(word);
      if (sequence != acknowledged() && System.nanoTime() - waitUntil < 0) {
        Thread.onSpinWait();
        sleepBriefly();
        continue;
      }
      long next = sequence + 1;
      if (compareAndSetCommand(word, encodeCommand(next, command))) {
        return next;
      }
    }
  }

  /**
   * The newest command sequence the master has taken.
   *
   * @return the sequence number, 0 before the master took any command
   */
  public long acknowledged() {
    return view.getLongAcquire(COMMAND_ACK_OFFSET);
  }

  /**
   * Waits until the master took the command with this sequence (or a later one).
   *
   * @param sequence a sequence number returned by {@link #post}
   * @param timeout how long to wait at most
   * @return false if the timeout passed first
   * @throws IllegalStateException if the table was closed, or the thread was interrupted while
   *     waiting (its interrupt status is set again)
   */
  public boolean awaitTaken(long sequence, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (acknowledged() < sequence) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      sleepBriefly();
    }
    return true;
  }

  boolean compareAndSetCommand(long expected, long update) {
    checkAttached();
    if (segment.isReadOnly()) {
      throw new IllegalStateException("the table is attached read-only");
    }
    // COMMAND_OFFSET + 8 <= HEADER_SIZE <= the validated size: inside the segment.
    return RawMemory.compareAndSwapLong(segment.address() + COMMAND_OFFSET, expected, update);
  }

  long commandWord() {
    return view.getLongAcquire(COMMAND_OFFSET);
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while posting a command", e);
    }
  }
}
