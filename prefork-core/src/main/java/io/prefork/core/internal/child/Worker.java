package io.prefork.core.internal.child;

import io.prefork.core.ChildJob;
import io.prefork.core.internal.os.ThreadStates;
import io.prefork.core.internal.protocol.ExitStatus;
import io.prefork.shm.WorkerSlot;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker thread of a child: accept, mark busy and count, run the job, close, mark idle; until
 * the child stops accepting. A worker beyond the child's accepting threads parks instead, until the
 * child accepts on more. A connection accepted is always served, even if the child is asked to exit
 * meanwhile: that is what keeps restarts from dropping connections.
 */
public final class Worker implements Runnable {
  private final ChildRuntime child;
  private final int index;
  private final AcceptChannels accept; // null for a warm-up worker, which never accepts
  private final WorkerSlot slot;
  private final ChildJob job;
  private final long readTimeoutMillis;
  private final long writeTimeoutMillis;
  private volatile boolean started;
  private volatile boolean done;
  private volatile AcceptedConnection current;

  /** Its thread's kernel id, once it runs: the watch thread reads the thread's state by it. */
  private volatile int tid = -1;

  Worker(
      ChildRuntime child,
      int index,
      AcceptChannels accept,
      WorkerSlot slot,
      ChildJob job,
      long readTimeoutMillis,
      long writeTimeoutMillis) {
    this.child = child;
    this.index = index;
    this.accept = accept;
    this.slot = slot;
    this.job = job;
    this.readTimeoutMillis = readTimeoutMillis;
    this.writeTimeoutMillis = writeTimeoutMillis;
  }

  WorkerSlot slot() {
    return slot;
  }

  /** {@return whether this worker's thread is done, or it never had one} */
  boolean done() {
    return done || !started;
  }

  /** Its thread is about to start. */
  void started() {
    started = true;
  }

  /** The child stops before this worker's thread started: its slot says so instead. */
  void neverStarted() {
    slot.markExiting(System.currentTimeMillis());
  }

  /**
   * {@return its thread's scheduler state while it serves a connection, else (or if unknown) {@link
   * ThreadStates#UNKNOWN}}
   */
  char busyThreadState() {
    return serving() ? ThreadStates.state(tid) : ThreadStates.UNKNOWN;
  }

  /** {@return whether this worker serves a connection now} */
  boolean serving() {
    return current != null;
  }

  @Override
  public void run() {
    tid = ThreadStates.currentTid();
    ServerSocketChannel server = accept.forWorker();
    try {
      while (!child.stopping()) {
        if (!child.mayAccept(index)) {
          // A spare: parked until the child needs it (AcceptingThreads) or stops.
          slot.markParked(System.currentTimeMillis());
          child.awaitTurn(index);
          continue;
        }
        slot.markIdle(System.currentTimeMillis());
        SocketChannel connection;
        try {
          connection = server.accept();
        } catch (ClosedChannelException e) {
          break; // the child stopped accepting (AsynchronousCloseException is one of these)
        } catch (IOException e) {
          if (child.stopping()) {
            break;
          }
          // EMFILE, ENOBUFS...: transient; do not spin.
          Log.get().warn("accept failed: {}", e.toString());
          pause();
          continue;
        }
        slot.markBusy(System.currentTimeMillis());
        serve(connection);
        if (slot.exitRequested()) {
          child.stop();
        }
      }
    } finally {
      slot.markExiting(System.currentTimeMillis());
      done = true;
    }
  }

  /** From the child's watch thread: ends this worker's read or write past its deadline. */
  void expireIfOverdue(long nowNanos) {
    AcceptedConnection c = current;
    if (c != null) {
      c.expireIfOverdue(nowNanos);
    }
  }

  /** The child is stopping: end this worker's conversation if it waits between requests. */
  void cutIfIdle() {
    AcceptedConnection c = current;
    if (c != null) {
      c.cutIfIdle();
    }
  }

  private void serve(SocketChannel channel) {
    Throwable failed = serveOne(channel);
    if (failed == null) {
      return;
    }
    if (ClientGone.causedBy(failed)) {
      Log.get().debug("the client went away; closed the connection: {}", failed.toString());
    } else {
      Log.get()
          .warn(
              "{} failed on a connection; closed it: {}",
              job.getClass().getName(),
              failed.toString());
    }
  }

  /**
   * A warm-up connection ({@link WarmUp}): served through the same code as a real one, but no slot
   * is written and nothing is logged.
   *
   * @return the job's failure, or null
   */
  Throwable serveWarmUp(SocketChannel channel) {
    return serveOne(channel);
  }

  /** Runs the job on one connection and closes it; {@return the job's failure, or null} */
  private Throwable serveOne(SocketChannel channel) {
    AcceptedConnection connection =
        new AcceptedConnection(channel, readTimeoutMillis, writeTimeoutMillis, child::stopping);
    current = connection;
    try (connection) {
      job.handle(connection);
      return null;
    } catch (Exception | StackOverflowError e) {
      return e;
    } catch (Throwable t) {
      // An Error (out of memory, linkage): this JVM can't be trusted any more. The master
      // replaces the child.
      Log.get().error("{} hit a fatal error; the child exits", job.getClass().getName(), t);
      Runtime.getRuntime().halt(ExitStatus.JOB_ERROR);
      return t;
    } finally {
      current = null;
    }
  }

  private static void pause() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The logger, created on first use: a child that logs nothing never initialises logging. */
  private static final class Log {
    private static final Logger LOGGER = LoggerFactory.getLogger("io.prefork.child");

    static Logger get() {
      return LOGGER;
    }
  }
}
