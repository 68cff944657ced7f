package io.prefork.core.internal.child;

import io.prefork.core.ChildContext;
import io.prefork.core.ChildJob;
import io.prefork.core.internal.os.Signals;
import io.prefork.core.internal.protocol.ChildArguments;
import io.prefork.core.internal.protocol.ExitStatus;
import io.prefork.shm.ChildTable;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.WorkerSlot;
import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One child JVM: it takes the listening socket from its standard input, attaches its slots in the
 * table, opens the job, and runs its worker threads until it is asked to exit or the master is
 * gone. Its start path is kept short (no logging set-up, no jnr-posix): a child is started often.
 */
public final class ChildRuntime implements ChildContext {
  /** How often the child checks that its master is alive and whether it was asked to exit. */
  static final long WATCH_MILLIS = 100;

  /** How long in-flight connections may finish once the master is gone. */
  static final long ORPHAN_GRACE_MILLIS = 600;

  private final ChildArguments args;
  private final ServerSocketChannel server;
  private final ChildTable table;
  private final List<Worker> workers = new CopyOnWriteArrayList<>();

  /** Counts down as workers finish, so the child exits the moment its last worker is done. */
  private volatile CountDownLatch running;

  private volatile boolean stopping;

  private ChildRuntime(ChildArguments args, ServerSocketChannel server, ChildTable table) {
    this.args = args;
    this.server = server;
    this.table = table;
  }

  /** Runs the child and returns its exit status. */
  public static int run(String[] rawArgs) {
    ChildArguments args;
    ServerSocketChannel server;
    try {
      args = ChildArguments.parse(rawArgs);
      Channel inherited = System.inheritedChannel();
      if (!(inherited instanceof ServerSocketChannel)) {
        fail("standard input is not a listening socket (" + inherited + ")");
        return ExitStatus.CHILD_FAILED;
      }
      server = (ServerSocketChannel) inherited;
    } catch (IOException | RuntimeException e) {
      fail(e.toString());
      return ExitStatus.CHILD_FAILED;
    }
    if (!masterIsParent(args.masterPid())) {
      fail("master pid " + args.masterPid() + " is not this process's parent: it is gone");
      return ExitStatus.CHILD_FAILED;
    }
    ChildTable table;
    try {
      table = ChildTable.attach(args.shmKey(), args.firstSlot(), args.workers());
    } catch (RuntimeException e) {
      fail(
          "cannot attach the status table at shm key "
              + ShmKeys.toHex(args.shmKey())
              + ": "
              + e.getMessage());
      return ExitStatus.CHILD_FAILED;
    }
    ChildRuntime child = new ChildRuntime(args, server, table);
    try {
      return child.serve();
    } finally {
      table.close();
    }
  }

  private int serve() {
    ChildJob job;
    try {
      job = (ChildJob) Class.forName(args.jobClassName()).getDeclaredConstructor().newInstance();
      job.open(this);
    } catch (Throwable t) {
      System.err.println(
          "prefork child "
              + args.childIndex()
              + ": job "
              + args.jobClassName()
              + " failed to start:");
      t.printStackTrace();
      // Last, so the master quotes it as the reason (ChildOutput.lastWords).
      System.err.println(
          "prefork child " + args.childIndex() + ": job failed to start: " + rootCause(t));
      return ExitStatus.JOB_FAILED;
    }
    installSignals();
    for (int w = 0; w < args.workers(); w++) {
      WorkerSlot slot = table.worker(w);
      if (slot.exitRequested()) {
        stop(); // asked to exit before it even started
      }
      workers.add(new Worker(this, server, slot, job, args.readTimeoutMillis()));
    }
    running = new CountDownLatch(workers.size());
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < workers.size(); w++) {
      Thread t = new Thread(workers.get(w), "prefork-worker-" + w);
      threads.add(t);
      t.start();
    }
    watch();
    for (Thread t : threads) {
      joinUninterruptibly(t);
    }
    try {
      job.close();
    } catch (Throwable t) {
      System.err.println("prefork child " + args.childIndex() + ": job close() failed: " + t);
    }
    return 0;
  }

  /**
   * Runs on the main thread until the workers are done: notices a vanished master (within {@link
   * #WATCH_MILLIS}), exit requests whose signal was lost, and reads past their deadline.
   */
  private void watch() {
    while (!awaitWorkers(WATCH_MILLIS)) {
      if (!masterIsParent(args.masterPid())) {
        // Never an orphan: the halt is armed before anything that could block (closing the
        // listening channel waits for the accepting thread).
        Thread halt =
            new Thread(
                () -> {
                  sleep(ORPHAN_GRACE_MILLIS);
                  Runtime.getRuntime().halt(0);
                },
                "prefork-orphan-halt");
        halt.setDaemon(true);
        halt.start();
        stop();
        long deadline = System.currentTimeMillis() + ORPHAN_GRACE_MILLIS;
        while (!workersDone() && System.currentTimeMillis() < deadline) {
          sleep(10);
        }
        // Never an orphan: whatever is still running goes with us.
        Runtime.getRuntime().halt(0);
      }
      long now = System.nanoTime();
      for (Worker w : workers) {
        w.expireIfOverdue(now); // reads block without a socket timeout: see ReadDeadline
        if (w.slot().exitRequested()) {
          stop();
        }
      }
    }
  }

  /** Called by each worker as it finishes. */
  void workerDone() {
    running.countDown();
  }

  /** Waits at most {@code millis} for every worker to finish; true if they have. */
  private boolean awaitWorkers(long millis) {
    try {
      return running.await(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return workersDone();
    }
  }

  private static String rootCause(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == t ? t.toString() : t + " (caused by " + root + ")";
  }

  private boolean workersDone() {
    for (Worker w : workers) {
      if (!w.done()) {
        return false;
      }
    }
    return true;
  }

  /** Stops accepting; workers finish the connection in hand. Idempotent, any thread. */
  void stop() {
    if (stopping) {
      return;
    }
    stopping = true;
    for (Worker w : workers) {
      w.cutIfIdle();
    }
    try {
      // Closes only this process's descriptor: the socket stays open in the master and siblings.
      // A worker blocked in accept() wakes with AsynchronousCloseException.
      server.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }

  boolean stopping() {
    return stopping;
  }

  private void installSignals() {
    // TERM: the master asks for a graceful exit. INT and HUP from a terminal are the master's.
    Signals.handle("TERM", this::stop);
    Signals.ignore("INT");
    Signals.ignore("HUP");
  }

  static boolean masterIsParent(long masterPid) {
    Optional<ProcessHandle> parent = ProcessHandle.current().parent();
    return parent.isPresent() && parent.get().pid() == masterPid;
  }

  private static void fail(String why) {
    System.err.println("prefork child: " + why);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void joinUninterruptibly(Thread t) {
    while (true) {
      try {
        t.join();
        return;
      } catch (InterruptedException e) {
        // keep waiting: the worker finishes its connection
      }
    }
  }

  @Override
  public int childIndex() {
    return args.childIndex();
  }

  @Override
  public long generation() {
    return args.generation();
  }

  @Override
  public int workerThreads() {
    return args.workers();
  }

  @Override
  public long masterPid() {
    return args.masterPid();
  }

  @Override
  public int shmKey() {
    return args.shmKey();
  }
}
