package io.prefork.examples;

import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A job that computes: reads one HTTP request, then does ordinary Java work, about 0.2 ms of CPU
 * with the full JIT on the 2-core VM of docs/performance.md (about 0.35 ms with C1 only): it sorts
 * {@value #NUMBERS} pseudo-random ints, counts {@value #WORDS} generated words in a {@link HashMap}
 * and builds a text from the counts with a {@link StringBuilder}, allocating about 140 KB. It
 * answers a short digest of the result, e.g. {@code cpu 63a3190 754\n}. Each request gets another
 * seed, so nothing can be cached or folded away. For the workload suite (docs/performance.md,
 * "Workload suite"). {@code serve --job cpu}.
 */
public final class CpuJob implements ChildJob {
  /** Made by each child through the public no-argument constructor (the ChildJob contract). */
  public CpuJob() {}

  /** Ints sorted per request. */
  public static final int NUMBERS = 3_000;

  /** Words counted per request. */
  public static final int WORDS = 800;

  private static final AtomicLong SEEDS = new AtomicLong(0x9E3779B97F4A7C15L);

  @Override
  public void handle(Connection connection) throws IOException {
    try {
      HttpRequests.readRequest(connection.input());
    } catch (SocketTimeoutException e) {
      return; // no complete request within the read timeout: just close
    }
    connection.output().write(HttpRequests.response(work(SEEDS.getAndIncrement())));
  }

  /**
   * The work of one request.
   *
   * @param seed any number; the same seed gives the same answer
   * @return the response body, {@code "cpu <hash> <distinct words>\n"}
   */
  public static String work(long seed) {
    long x = seed * 0x9E3779B97F4A7C15L + 1;
    int[] numbers = new int[NUMBERS];
    for (int i = 0; i < numbers.length; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      numbers[i] = (int) x;
    }
    Arrays.sort(numbers);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < WORDS; i++) {
      int v = numbers[(i * 7919) % NUMBERS];
      String word = "w" + Integer.toHexString((v >>> 20) & 0x1ff) + (char) ('a' + (v & 15));
      counts.merge(word, 1, Integer::sum);
    }
    StringBuilder text = new StringBuilder(counts.size() * 12);
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      text.append(e.getKey()).append('=').append(e.getValue()).append(';');
    }
    return "cpu "
        + Integer.toHexString(text.toString().hashCode() ^ numbers[NUMBERS / 2])
        + " "
        + counts.size()
        + "\n";
  }

  /** {@return a GET of /: served with no effect, so each child warms up on it (ChildJob)} */
  @Override
  public byte[] warmUpRequest() {
    return HttpRequests.warmUpRequest();
  }
}
