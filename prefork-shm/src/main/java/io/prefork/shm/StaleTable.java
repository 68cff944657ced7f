package io.prefork.shm;

import static io.prefork.shm.SharedStatusTable.*;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A segment a starting master finds at its key: refused with the reason, or, when it is provably
 * the table of a master that died, taken over (removed by the id that was checked).
 */
final class StaleTable {
  private static final Logger log = LoggerFactory.getLogger(MasterTable.class);

  private StaleTable() {}

  /**
   * Decides about a segment found at our key: refuse (throw), or remove it as the stale table of a
   * dead master. Only a segment that passes every check a reader makes (owner, mode, magic, layout
   * version, every creation-time field against the segment's real size) is ever removed, and only
   * the very segment that was checked: it stays attached from the check to the removal, so its id
   * can't be reused meanwhile, and the removal names that id (IPC_RMID), not the key, which another
   * process could have given to a new segment since.
   */
  static void removeIfStale(int key) {
    Optional<ShmStat> found = ShmSegment.stat(key);
    if (found.isEmpty()) {
      return; // gone meanwhile: just retry
    }
    TableCheck.checkOwnership(key, found.get());
    ShmSegment probe;
    try {
      probe = ShmSegment.attach(key, true);
    } catch (ShmException e) {
      if (e.errno() == Errnos.ENOENT || e.errno() == Errnos.EIDRM || e.errno() == Errnos.EINVAL) {
        return; // removed between the two calls: retry
      }
      throw e;
    }
    try {
      removeIfStale(key, probe);
    } finally {
      probe.detach();
    }
  }

  private static void removeIfStale(int key, ShmSegment probe) {
    // From here on everything is about this segment (its id), whatever happens to the key.
    ShmStat stat = probe.stat();
    TableCheck.checkOwnership(key, stat);
    SegmentView view = new SegmentView(probe);
    if (stat.size() < HEADER_SIZE || view.size() < HEADER_SIZE) {
      throw foreign(
          key,
          stat,
          " exists here and is not a prefork status table (fewer bytes than a table's header, "
              + HEADER_SIZE
              + "): choose another shmKey");
    }
    int version = view.getIntAcquire(LAYOUT_VERSION_OFFSET);
    long magic = view.getLong(MAGIC_OFFSET);
    if (magic != MAGIC && !(magic == 0 && version == 0)) {
      throw foreign(
          key,
          stat,
          String.format(
              " exists here and is not a prefork status table (magic 0x%016x, not prefork's"
                  + " 0x%016x): choose another shmKey",
              magic, MAGIC));
    }
    long heartbeatAge;
    int masterPid;
    if (version == 0) {
      if (processAlive(stat.creatorPid())) {
        if (TableCheck.ageSeconds(stat) <= TableCheck.NOT_READY_GRACE_SECONDS) {
          throw new StatusTableException(
              StatusTableException.Reason.LIVE_OWNER,
              key,
              "pid "
                  + stat.creatorPid()
                  + " is creating a prefork table on this key right now; stop it first or choose"
                  + " another shmKey");
        }
        throw TableCheck.unfinished(key, stat);
      }
      if (magic == 0) {
        // All zeros and its creator gone: another program's segment (ipcmk) far likelier than a
        // master that died in the microseconds before writing the magic. Never remove what may
        // not be ours.
        throw foreign(
            key,
            stat,
            " (gone) exists here and holds no prefork table; if nothing uses it, remove it (ipcrm"
                + " -M "
                + ShmKeys.toHex(key)
                + ") or choose another shmKey");
      }
      // Our magic, never published: its master died while creating it. Removed only if the rest
      // of the header is what a master writes before the version.
      TableCheck.checkLayout(key, stat, view);
      masterPid = stat.creatorPid();
      heartbeatAge = Long.MAX_VALUE;
    } else {
      if (version != LAYOUT_VERSION) {
        // Another layout: its liveness can't be read, so it is never judged stale.
        throw new StatusTableException(
            StatusTableException.Reason.VERSION_MISMATCH,
            key,
            "a prefork table of layout version "
                + version
                + " (this prefork writes version "
                + LAYOUT_VERSION
                + ") is on this key, made by pid "
                + stat.creatorPid()
                + ": a server of another prefork version, running or not; stop it, or remove its"
                + " table if it is gone (ipcrm -M "
                + ShmKeys.toHex(key)
                + "), or choose another shmKey");
      }
      TableCheck.checkLayout(key, stat, view);
      masterPid = view.getInt(MASTER_PID_OFFSET);
      heartbeatAge = millisSince(view.getLongAcquire(HEARTBEAT_OFFSET));
    }
    if (processAlive(masterPid) && heartbeatAge < MasterTable.STALE_AFTER_MILLIS) {
      throw new StatusTableException(
          StatusTableException.Reason.LIVE_OWNER,
          key,
          "a prefork master (pid "
              + masterPid
              + ") is running on this key, heartbeat "
              + (heartbeatAge >= 0
                  ? heartbeatAge + " ms ago"
                  : -heartbeatAge + " ms in the future (a clock stepped back)")
              + "; stop it first (ControlHandle.waitDown()) or choose another shmKey");
    }
    // Our own probe is one of the attachments.
    long deadline = System.nanoTime() + MasterTable.DETACH_GRACE_MILLIS * 1_000_000;
    while (stat.attachCount() > 1 && System.nanoTime() - deadline < 0) {
      // Children of a killed master notice within a second and detach as they exit.
      sleep(50);
      stat = probe.stat();
    }
    if (stat.markedForRemoval()) {
      return; // someone else removed it meanwhile: the key is free, retry
    }
    if (stat.attachCount() > 1) {
      throw new StatusTableException(
          StatusTableException.Reason.STALE_ATTACHED,
          key,
          "the master (pid "
              + masterPid
              + ") is gone but "
              + (stat.attachCount() - 1)
              + " process(es) are still attached (last pid "
              + stat.lastPid()
              + "): stop them (see ps), then start again");
    }
    log.warn(
        "shm key {}: removing the stale status table of master pid {} (gone, heartbeat {} s old,"
            + " nothing attached; shmid {})",
        ShmKeys.toHex(key),
        masterPid,
        heartbeatAge == Long.MAX_VALUE ? "never written" : heartbeatAge / 1000,
        probe.id());
    probe.remove();
  }

  /** Milliseconds from {@code millis} to now, saturated instead of overflowing. */
  private static long millisSince(long millis) {
    long now = System.currentTimeMillis();
    long age = now - millis;
    // Overflow only when the signs of now and millis differ and the result's differs from now's.
    if (((now ^ millis) & (now ^ age)) < 0) {
      return millis < 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
    return age;
  }

  /** "a segment of N bytes created by pid P" and what follows. */
  private static StatusTableException foreign(int key, ShmStat stat, String rest) {
    return new StatusTableException(
        StatusTableException.Reason.FOREIGN,
        key,
        "a segment of " + stat.size() + " bytes created by pid " + stat.creatorPid() + rest);
  }

  static boolean processAlive(int pid) {
    return TableCheck.processAlive(pid);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a stale segment", e);
    }
  }
}
