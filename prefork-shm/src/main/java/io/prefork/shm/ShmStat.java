package io.prefork.shm;

/**
 * What the kernel says about a System V segment ({@code shmctl(IPC_STAT)}).
 *
 * @param key the key the segment was created with (0 once it was removed while still attached)
 * @param id the segment's id
 * @param ownerUid the owner's user id
 * @param mode the permission bits (e.g. {@code 0600})
 * @param size the size in bytes
 * @param attachCount how many attachments exist now, over all processes
 * @param creatorPid the pid of the process that created it
 * @param lastPid the pid of the last process that attached or detached it
 * @param markedForRemoval true when IPC_RMID was called and the segment lives on only until the
 *     last process detaches
 * @param changeTimeSeconds when the segment was created, or its permissions last changed ({@code
 *     shm_ctime}, epoch seconds)
 */
public record ShmStat(
    int key,
    int id,
    int ownerUid,
    int mode,
    long size,
    long attachCount,
    int creatorPid,
    int lastPid,
    boolean markedForRemoval,
    long changeTimeSeconds) {

  /**
   * The permission bits as an octal string, e.g. {@code "0600"}.
   *
   * @return {@link #mode()} in octal after a leading {@code 0}
   */
  public String modeOctal() {
    return String.format("0%o", mode);
  }
}
