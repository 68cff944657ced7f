package io.prefork.core;

/**
 * The application's work, run in each child JVM. The child creates one instance through the public
 * no-argument constructor, then:
 *
 * <ol>
 *   <li>{@link #open(ChildContext)} once, before the first accept: open resources here;
 *   <li>{@link #handle(Connection)} once per accepted connection, one connection at a time per
 *       worker thread; the child closes the connection when it returns;
 *   <li>{@link #close()} once, when the child exits normally.
 * </ol>
 *
 * <p>An exception from {@code handle} is logged and that connection closed; the child lives on. An
 * exception from {@code open} stops the child with exit status 78, and the master does not retry a
 * job that cannot even start. The worker threads of a child ({@value
 * PreforkServer#DEFAULT_THREADS_PER_CHILD} by default, {@link
 * PreforkServer.Builder#threadsPerChild}) share the one instance, so {@code handle} must be
 * thread-safe; {@code threadsPerChild(1)} gives one connection per child JVM, as in httpd's
 * prefork.
 *
 * <p>A job that returns a {@link #warmUpRequest()} is warmed up: between {@code open} and its first
 * accept, each child serves that request over private loopback connections ({@link
 * PreforkServer.Builder#warmUp}), so the JIT has compiled the job's path and prefork's before real
 * clients arrive.
 */
public interface ChildJob {

  /**
   * Called once per child before it accepts its first connection.
   *
   * @param context what the job may know about this child
   * @throws Exception to refuse to start; the child exits and the failure is reported
   */
  default void open(ChildContext context) throws Exception {}

  /**
   * Serves one connection: read the request, write the response, return. The connection may be held
   * for a whole conversation (keep-alive, a line protocol); the worker serves no other connection
   * meanwhile.
   *
   * @param connection the accepted connection; closed by prefork when this returns
   * @throws Exception for any failure; it is logged and the connection closed
   */
  void handle(Connection connection) throws Exception;

  /**
   * A request this job may serve any number of times with no effect beyond this child (a health
   * check, a static page): the bytes a client sends first. Called once after {@link #open}. When it
   * is not null, each child serves it through {@link #handle} on private loopback connections
   * before it accepts any real one: each warm-up connection sends these bytes, half-closes, and
   * reads the response to its end. The warm-up stops at the first failure (the child then accepts
   * cold) and is not counted in the table's calls. Default null: no warm-up.
   *
   * @return the request, or null for no warm-up
   */
  default byte[] warmUpRequest() {
    return null;
  }

  /**
   * Called once when the child exits after serving; release what {@link #open} acquired.
   *
   * @throws Exception anything: it is logged, and the child exits all the same
   */
  default void close() throws Exception {}
}
