package io.prefork.core.internal.ops;

import io.prefork.core.ServerStatus;
import io.prefork.shm.SlotState;
import java.util.ArrayList;
import java.util.List;

/**
 * The last minutes of a server, one sample a second, for the status page's sparklines: calls per
 * second (from the table's call total), and the busiest the workers were during that second (from
 * the master's ticks, every 50 ms, so a short burst between two samples still shows).
 */
public final class StatusHistory {
  /**
   * One second.
   *
   * @param atMillis when it was taken (epoch ms)
   * @param callsPerSecond calls accepted per second since the sample before
   * @param busyPeak the most workers busy at one tick during that second
   * @param workers worker slots in use at the sample
   * @param listenQueue connections waiting in the accept queue at the sample
   */
  public record Sample(
      long atMillis, double callsPerSecond, int busyPeak, int workers, int listenQueue) {}

  private final int capacity;
  private final Sample[] ring;
  private int next; // guarded by this
  private int size; // guarded by this
  private long lastCalls = -1; // guarded by this
  private long lastAtMillis; // guarded by this
  private int busyPeak; // guarded by this: the most busy workers seen at a tick since the sample

  public StatusHistory(int capacity) {
    this.capacity = capacity;
    this.ring = new Sample[capacity];
  }

  /** The master's tick saw this many busy workers. */
  public synchronized void tick(int busyWorkers) {
    busyPeak = Math.max(busyPeak, busyWorkers);
  }

  /** Takes one sample from the status now. */
  public synchronized void sample(ServerStatus s) {
    long at = s.takenAtMillis();
    long busy = s.count(SlotState.BUSY);
    double rate;
    if (lastCalls < 0 || at <= lastAtMillis) {
      rate = s.callsPerSecond();
    } else {
      rate = Math.max(0, s.totalCalls() - lastCalls) * 1000.0 / (at - lastAtMillis);
    }
    lastCalls = s.totalCalls();
    lastAtMillis = at;
    int peak = (int) Math.max(busyPeak, busy);
    busyPeak = 0;
    ring[next] = new Sample(at, rate, peak, s.workers().size(), s.listenQueue());
    next = (next + 1) % capacity;
    size = Math.min(size + 1, capacity);
  }

  /** The samples, oldest first. */
  public synchronized List<Sample> samples() {
    List<Sample> out = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      out.add(ring[(next - size + i + capacity) % capacity]);
    }
    return out;
  }

  /** How many samples it keeps at most. */
  public int capacity() {
    return capacity;
  }
}
