package io.prefork.shm;

/**
 * The master's last change to the pool's size and why, as the table shows it: "grew by 2: 0 idle,
 * queue 137" or "retired 1: 256 idle for 10 s".
 *
 * @param kind what the pool did
 * @param children children spawned, or retired
 * @param idleWorkers idle workers when it decided
 * @param queued connections waiting in the accept queue when it decided
 * @param surplusMillis for a retirement: how long the surplus had lasted
 * @param atMillis when (epoch milliseconds); 0 if the pool never changed
 */
public record PoolDecision(
    Kind kind, int children, int idleWorkers, int queued, long surplusMillis, long atMillis) {

  /** What the pool did. */
  public enum Kind {
    /** Nothing yet. */
    NONE,
    /** It spawned children: too few idle workers. */
    GREW,
    /** It retired a child: surplus for the idle timeout. */
    RETIRED;

    static Kind ofCode(int code) {
      return code == 1 ? GREW : code == 2 ? RETIRED : NONE;
    }

    int code() {
      return ordinal();
    }
  }

  /** No decision yet. */
  public static final PoolDecision NONE = new PoolDecision(Kind.NONE, 0, 0, 0, 0, 0);

  /** {@return the decision in a few words, "" for none} */
  public String describe() {
    return switch (kind) {
      case NONE -> "";
      case GREW -> "grew by " + children + ": " + idleWorkers + " idle, queue " + queued;
      case RETIRED ->
          "retired " + children + ": " + idleWorkers + " idle for " + surplusMillis / 1000 + " s";
    };
  }
}
