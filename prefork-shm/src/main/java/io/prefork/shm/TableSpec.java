package io.prefork.shm;

import java.net.InetAddress;

/**
 * What a master writes into a new table's header once, at creation.
 *
 * @param maxChildren the pool's upper bound
 * @param minChildren the pool's lower bound
 * @param workersPerChild worker threads per child; the table has {@code maxChildren *
 *     workersPerChild} slots
 * @param listenAddress the address the server listens on
 * @param listenPort the port it listens on
 * @param listenBacklog the accept queue's limit
 */
public record TableSpec(
    int maxChildren,
    int minChildren,
    int workersPerChild,
    InetAddress listenAddress,
    int listenPort,
    int listenBacklog) {

  /**
   * Checks the bounds a table can hold.
   *
   * @param maxChildren the pool's upper bound, at least 1
   * @param minChildren the pool's lower bound, 0 to {@code maxChildren}
   * @param workersPerChild worker threads per child, at least 1; {@code maxChildren *
   *     workersPerChild} may be at most {@link SharedStatusTable#MAX_SLOTS}
   * @param listenAddress the address the server listens on, or null to publish none
   * @param listenPort the port it listens on
   * @param listenBacklog the accept queue's limit
   * @throws IllegalArgumentException if a bound is out of these ranges
   */
  public TableSpec {
    if (minChildren < 0 || maxChildren < 1 || minChildren > maxChildren) {
      throw new IllegalArgumentException(
          "need 0 <= minChildren (" + minChildren + ") <= maxChildren (" + maxChildren + ")");
    }
    if (workersPerChild < 1) {
      throw new IllegalArgumentException("workersPerChild (" + workersPerChild + ") must be >= 1");
    }
    if ((long) maxChildren * workersPerChild > SharedStatusTable.MAX_SLOTS) {
      throw new IllegalArgumentException(
          "maxChildren * workersPerChild ("
              + (long) maxChildren * workersPerChild
              + ") exceeds the table's limit of "
              + SharedStatusTable.MAX_SLOTS
              + " slots");
    }
  }

  /**
   * The number of slots: one per worker.
   *
   * @return {@code maxChildren * workersPerChild}
   */
  public int slotCount() {
    return maxChildren * workersPerChild;
  }
}
