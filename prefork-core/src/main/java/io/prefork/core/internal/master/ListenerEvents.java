package io.prefork.core.internal.master;

import io.prefork.core.ServerListener;
import io.prefork.core.internal.protocol.ExitStatus;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's events as one public {@link ServerListener} hears them: plain values instead of the
 * master's own types, every call guarded (an exception is logged and dropped), and a slow call
 * logged once (not the first of each event, which may load classes).
 */
public final class ListenerEvents implements ServerEvents {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** A call longer than this is logged (once per listener). */
  static final long SLOW_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final ServerListener listener;
  private boolean slowLogged;

  /** Events heard once: a first call may load the listener's classes, so it is not timed. */
  private final java.util.Set<String> heard = new java.util.HashSet<>();

  public ListenerEvents(ServerListener listener) {
    this.listener = listener;
  }

  @Override
  public void ready(ServerView view) {
    call("ready", ServerListener::ready);
  }

  @Override
  public void spawned(ChildProcess child) {
    call("childSpawned", l -> l.childSpawned(child.pid, child.index, child.generation));
  }

  @Override
  public void childReady(ChildProcess child, long startupNanos) {
    Duration startup = Duration.ofNanos(startupNanos);
    call("childReady", l -> l.childReady(child.pid, child.index, child.generation, startup));
  }

  @Override
  public void exited(ChildProcess child, ExitStatus status, ExitCause cause) {
    ServerListener.ExitCause publicCause = cause(cause);
    call(
        "childExited",
        l ->
            l.childExited(
                child.pid,
                child.index,
                child.generation,
                publicCause,
                status.exitCode(),
                status.signal()));
  }

  @Override
  public void restarting(boolean begins) {
    if (begins) {
      call("restartBegan", ServerListener::restartBegan);
    } else {
      call("restartEnded", ServerListener::restartEnded);
    }
  }

  @Override
  public void stopping() {
    call("stopping", ServerListener::stopping);
  }

  @Override
  public void stopped() {
    call("stopped", ServerListener::stopped);
  }

  /** The public cause of an exit: the same constants, by name. */
  static ServerListener.ExitCause cause(ExitCause cause) {
    return ServerListener.ExitCause.valueOf(cause.name());
  }

  private void call(String event, Consumer<ServerListener> call) {
    long start = System.nanoTime();
    try {
      call.accept(listener);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable t) {
      log.warn("listener {} threw from {}; ignored", listener, event, t);
    }
    long took = System.nanoTime() - start;
    boolean first = heard.add(event);
    if (took > SLOW_NANOS && !first && !slowLogged) {
      slowLogged = true;
      log.warn(
          "listener {} took {} ms in {} on the master thread: listeners must return quickly (this"
              + " is logged once)",
          listener,
          TimeUnit.NANOSECONDS.toMillis(took),
          event);
    }
  }
}
