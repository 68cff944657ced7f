package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

import java.io.File;

/**
 * The checks a segment passes before anything in it is trusted, shared by every process that
 * attaches a table and by a master deciding whether a table left on its key is a stale one of its
 * own kind. Every value read from the segment is checked against the segment's real size (from the
 * kernel) and against what a master writes, before it is used as a size, a count or an offset. Each
 * failure names the value found and what to do.
 */
final class TableCheck {
  /**
   * How long a table may stay unfinished (layout version 0) while its creator runs: a master writes
   * its header right after creating the segment, within milliseconds.
   */
  static final long NOT_READY_GRACE_SECONDS = 5;

  /** The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit systems). */
  static final int PID_MAX = 4_194_304;

  private TableCheck() {}

  /**
   * Owner uid and mode: the segment must be this process's user's, mode 0600, as a master makes it.
   */
  static void checkOwnership(int key, ShmStat stat) {
    int uid = Native.libc().geteuid();
    if (stat.ownerUid() != uid) {
      throw new StatusTableException(
          StatusTableException.Reason.NOT_OURS,
          key,
          "the segment belongs to uid "
              + stat.ownerUid()
              + ", not to this process's uid "
              + uid
              + ": permission denied; run as the server's user, or choose another shmKey");
    }
    if (stat.mode() != 0600) {
      throw new StatusTableException(
          StatusTableException.Reason.NOT_OURS,
          key,
          "the segment's mode is "
              + stat.modeOctal()
              + ", not 0600: prefork did not create it; choose another shmKey");
    }
  }

  /** At least a header long: refused before any byte of it is read. */
  static void checkHeaderFits(int key, ShmStat stat, SegmentView view) {
    if (stat.size() < HEADER_SIZE || view.size() < HEADER_SIZE) {
      throw new StatusTableException(
          StatusTableException.Reason.FOREIGN,
          key,
          "the segment has "
              + Math.min(stat.size(), view.size())
              + " bytes, fewer than a prefork table's header ("
              + HEADER_SIZE
              + "): it is not a prefork status table; choose another shmKey");
    }
  }

  /**
   * Everything a reader checks, in order: owner and mode; a header's size; the layout version (read
   * first, with acquire), the magic, the version's value; then {@link #checkLayout}. Returns the
   * slot count.
   */
  static int validate(int key, ShmStat stat, SegmentView view) {
    checkOwnership(key, stat);
    checkHeaderFits(key, stat, view);
    int version = view.getIntAcquire(LAYOUT_VERSION_OFFSET);
    long magic = view.getLong(MAGIC_OFFSET);
    if (version == 0 && (magic == 0 || magic == MAGIC)) {
      throw unfinished(key, stat);
    }
    if (magic != MAGIC) {
      throw new StatusTableException(
          StatusTableException.Reason.FOREIGN,
          key,
          String.format(
              "magic is 0x%016x, not prefork's 0x%016x: the segment belongs to another program;"
                  + " choose another shmKey",
              magic, MAGIC));
    }
    if (version != LAYOUT_VERSION) {
      throw new StatusTableException(
          StatusTableException.Reason.VERSION_MISMATCH,
          key,
          "layout version is "
              + version
              + " but this prefork reads version "
              + LAYOUT_VERSION
              + ": use the same prefork version for the server and its tools (if this is not your"
              + " server's table, choose another shmKey)");
    }
    return checkLayout(key, stat, view);
  }

  /**
   * A table whose layout version is still 0: one its master is writing right now (retry), or one
   * that nothing will ever finish (its creator is gone, or has had it for longer than a master
   * needs).
   */
  static StatusTableException unfinished(int key, ShmStat stat) {
    int creator = stat.creatorPid();
    if (!processAlive(creator)) {
      // Never finished and its creator gone: nothing will ever make it ready.
      return new StatusTableException(
          StatusTableException.Reason.FOREIGN,
          key,
          "the segment holds no finished prefork table and its creator (pid "
              + creator
              + ") is gone: it is a leftover, or another program's; if nothing uses it, remove"
              + " it (ipcrm -M "
              + ShmKeys.toHex(key)
              + ") or choose another shmKey");
    }
    long age = ageSeconds(stat);
    if (age > NOT_READY_GRACE_SECONDS) {
      return new StatusTableException(
          StatusTableException.Reason.FOREIGN,
          key,
          "the segment holds no finished prefork table although its creator (pid "
              + creator
              + ", still running) made it "
              + age
              + " s ago, and a master writes its table at once: it is another program's"
              + " segment (or a hung master's); choose another shmKey, or if nothing uses it"
              + " remove it (ipcrm -M "
              + ShmKeys.toHex(key)
              + ")");
    }
    return new StatusTableException(
        StatusTableException.Reason.NOT_READY,
        key,
        "the table is not ready yet: its creator, pid "
            + creator
            + ", made the segment "
            + age
            + " s ago and has not finished its header; if that is a prefork master starting,"
            + " retry in a moment, otherwise choose another shmKey");
  }

  /**
   * True if a process with this pid exists (any user's, a zombie included), by the pid alone: its
   * directory in /proc, where ProcessHandle looks too (without starting ProcessHandle's machinery,
   * a thread pool among it, in a short-lived tool).
   */
  static boolean processAlive(int pid) {
    return pid > 0 && new File("/proc", Integer.toString(pid)).isDirectory();
  }

  /** Seconds since the kernel's change time of the segment (its creation), at least 0. */
  static long ageSeconds(ShmStat stat) {
    return Math.max(0, System.currentTimeMillis() / 1000 - stat.changeTimeSeconds());
  }

  /**
   * The header's creation-time fields against the segment and each other, as {@link MasterTable}
   * writes them: slot size 128; a slot count of 1 to {@link SharedStatusTable#MAX_SLOTS} whose
   * table is exactly the segment's size; {@code maxChildren × workersPerChild} slots with {@code 0
   * <= minChildren <= maxChildren}; a master pid that can be a process; start and heartbeat times
   * after 1970; a listen address of 0, 4 or 16 bytes and a port of 16 bits. Returns the slot count.
   */
  static int checkLayout(int key, ShmStat stat, SegmentView view) {
    long size = Math.min(stat.size(), view.size());
    int slotSize = view.getInt(SLOT_SIZE_OFFSET);
    if (slotSize != SLOT_SIZE) {
      throw new StatusTableException(
          StatusTableException.Reason.SIZE_MISMATCH,
          key,
          "slot size is "
              + slotSize
              + " bytes, the layout says "
              + SLOT_SIZE
              + ": "
              + corrupt(key));
    }
    int slots = view.getInt(SLOT_COUNT_OFFSET);
    if (slots < 1 || slots > MAX_SLOTS) {
      throw new StatusTableException(
          StatusTableException.Reason.SIZE_MISMATCH,
          key,
          "the header claims " + slots + " slots, outside 1.." + MAX_SLOTS + ": " + corrupt(key));
    }
    long needed = segmentSize(slots);
    if (needed != size) {
      throw new StatusTableException(
          StatusTableException.Reason.SIZE_MISMATCH,
          key,
          "the header claims "
              + slots
              + " slots ("
              + needed
              + " bytes) but the segment has "
              + size
              + " bytes"
              + (needed < size ? " (a master makes it exactly the table's size)" : "")
              + ": "
              + corrupt(key));
    }
    int workers = view.getInt(WORKERS_PER_CHILD_OFFSET);
    int min = view.getInt(MIN_CHILDREN_OFFSET);
    int max = view.getInt(MAX_CHILDREN_OFFSET);
    if (workers < 1 || max < 1 || min < 0 || min > max || (long) max * workers != slots) {
      throw new StatusTableException(
          StatusTableException.Reason.SIZE_MISMATCH,
          key,
          "the header's pool (minChildren "
              + min
              + ", maxChildren "
              + max
              + ", workersPerChild "
              + workers
              + ") does not fit its "
              + slots
              + " slots (a master writes maxChildren x workersPerChild slots and 0 <= minChildren"
              + " <= maxChildren): "
              + corrupt(key));
    }
    int pid = view.getInt(MASTER_PID_OFFSET);
    if (pid < 1 || pid > PID_MAX) {
      throw corruptValue(key, "masterPid is " + pid + ", not a process id (1.." + PID_MAX + ")");
    }
    long start = view.getLong(MASTER_START_OFFSET);
    if (start <= 0) {
      throw corruptValue(key, "masterStartMillis is " + start + ", not a time after 1970");
    }
    long heartbeat = view.getLongAcquire(HEARTBEAT_OFFSET);
    if (heartbeat <= 0) {
      throw corruptValue(key, "heartbeatMillis is " + heartbeat + ", not a time after 1970");
    }
    int addressLength = view.getInt(LISTEN_ADDRESS_LENGTH_OFFSET);
    if (addressLength != 0 && addressLength != 4 && addressLength != 16) {
      throw corruptValue(
          key, "listenAddressLength is " + addressLength + ", not 0, 4 (IPv4) or 16 (IPv6)");
    }
    int port = view.getInt(LISTEN_PORT_OFFSET);
    if (port < 0 || port > 0xFFFF) {
      throw corruptValue(key, "listenPort is " + port + ", outside 0..65535");
    }
    return slots;
  }

  private static StatusTableException corruptValue(int key, String what) {
    return new StatusTableException(
        StatusTableException.Reason.CORRUPT, key, what + ": " + corrupt(key));
  }

  /** What to do about a prefork table with a value no master writes. */
  static String corrupt(int key) {
    return "a corrupt table; if no server runs on this key, remove it (ipcrm -M "
        + ShmKeys.toHex(key)
        + "), or choose another shmKey";
  }
}
