package io.prefork.core.internal.child;

import io.prefork.core.ChildContext;
import io.prefork.core.ChildJob;
import io.prefork.core.internal.os.CpuBusy;
import io.prefork.core.internal.os.CpuTimes;
import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.Signals;
import io.prefork.core.internal.os.ThreadStates;
import io.prefork.core.internal.protocol.ChildArguments;
import io.prefork.core.internal.protocol.ExitStatus;
import io.prefork.shm.ChildTable;
import io.prefork.shm.WorkerSlot;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One child JVM, once {@link ChildStart} has made it: it opens the job and runs its worker threads
 * until it is asked to exit or the master is gone, and its watch thread follows the master, the
 * exit requests in the table and the read deadlines.
 *
 * <p>Never an orphan, in any state: {@code prctl(PR_SET_PDEATHSIG, SIGKILL)} is the first thing the
 * child does, so the kernel kills it the moment its master dies, whether it is opening its job,
 * accepting, or serving. A master that died before that call is caught by the check that follows it
 * ({@code getppid()} is no longer the master). The watch thread, started before the job's {@code
 * open()}, checks the parent every {@link #WATCH_MILLIS} as well, should the kernel refuse the
 * request.
 */
public final class ChildRuntime implements ChildContext {
  /** How often the child checks that its master is alive and whether it was asked to exit. */
  static final long WATCH_MILLIS = 100;

  /** How long in-flight connections may finish once the master is gone. */
  static final long ORPHAN_GRACE_MILLIS = 600;

  /** Busy workers whose thread state is read on a tick when all accepting ones are busy. */
  static final int STATES_SAMPLED = 16;

  private final ChildArguments args;
  private final AcceptChannels acceptChannels;
  private final ChildTable table;
  private final List<Worker> workers = new CopyOnWriteArrayList<>();

  /** The warm-up's workers (no slots); the watch thread keeps their deadlines too. */
  private final List<Worker> warmUpWorkers = new CopyOnWriteArrayList<>();

  /** The child's slots in the table, one per worker, made once. */
  private final List<WorkerSlot> slots = new ArrayList<>();

  /** Ends the watch thread: the child's workers are done. */
  private final CountDownLatch finished = new CountDownLatch(1);

  private volatile boolean stopping;

  /** How many workers accept; the others park. Changed by the watch thread only. */
  private final AcceptingThreads acceptingThreads;

  /** Null when every worker always accepts. */
  private final CpuBusy cpu;

  /** Workers with an index below this accept; parked ones wait on {@link #turns} for it. */
  private volatile int accepting;

  private final Object turns = new Object();

  /** The workers' threads, started as they are first needed; guarded by {@link #turns}. */
  private final List<Thread> threads = new ArrayList<>();

  /** The most threads this child could start (lowered once the system refused one). */
  private int threadCap = Integer.MAX_VALUE;

  private long callsLastTick = -1;

  ChildRuntime(ChildArguments args, ServerSocketChannel server, ChildTable table) {
    this.args = args;
    this.acceptChannels = new AcceptChannels(server);
    this.table = table;
    for (int w = 0; w < args.workers(); w++) {
      slots.add(table.worker(w));
    }
    int min = Math.max(1, Math.min(args.minAcceptingWorkers(), args.workers()));
    long slowStart = TimeUnit.MILLISECONDS.toNanos(args.slowStartMillis());
    this.acceptingThreads = new AcceptingThreads(min, args.workers(), slowStart, System::nanoTime);
    this.accepting = acceptingThreads.accepting();
    this.cpu =
        min < args.workers() || slowStart > 0
            ? new CpuBusy(CpuTimes::machine, System::nanoTime)
            : null;
  }

  /** Opens the job and serves until the child stops; {@return the child's exit status} */
  int serve() {
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
    warmUp(job);
    List<Worker> made = new ArrayList<>();
    for (WorkerSlot slot : slots) {
      if (slot.exitRequested()) {
        stop(); // asked to exit before it even started
      }
      made.add(
          new Worker(
              this,
              made.size(),
              acceptChannels,
              slot,
              job,
              args.readTimeoutMillis(),
              args.writeTimeoutMillis()));
    }
    synchronized (turns) {
      for (int w = accepting; w < made.size(); w++) {
        made.get(w).slot().markParked(System.currentTimeMillis()); // no thread yet
      }
    }
    workers.addAll(made); // at once: the watch thread sees none or all
    synchronized (turns) {
      if (stopping) {
        for (Worker w : made) {
          w.neverStarted(); // stopped before any thread: its slot says so
        }
      }
    }
    acceptingThreads.workersStarted();
    startWorkers();
    // A thread ends only once the child stops, and none starts after that: every thread started
    // before is in the list by the time its predecessors are joined.
    for (int i = 0; ; i++) {
      Thread t;
      synchronized (turns) {
        if (i >= threads.size()) {
          break;
        }
        t = threads.get(i);
      }
      joinUninterruptibly(t);
    }
    try {
      job.close();
    } catch (Throwable t) {
      System.err.println("prefork child " + args.childIndex() + ": job close() failed: " + t);
    }
    return 0;
  }

  /** The workers are done: the watch thread ends. */
  void finished() {
    finished.countDown();
  }

  /**
   * The watch thread, from before the job's {@code open()} until the workers are done: notices a
   * vanished master (within {@link #WATCH_MILLIS}; the kernel's parent-death signal normally comes
   * first), exit requests whose signal was lost, and reads and writes past their deadline.
   */
  void watch() {
    while (!awaitFinished(WATCH_MILLIS)) {
      if (!masterIsParent(args.masterPid())) {
        orphaned();
      }
      long now = System.nanoTime();
      for (Worker w : workers) {
        w.expireIfOverdue(now); // reads and writes block without a timeout: see ReadDeadline
      }
      for (Worker w : warmUpWorkers) {
        w.expireIfOverdue(now);
      }
      for (WorkerSlot slot : slots) {
        if (slot.exitRequested()) {
          stop();
        }
      }
      if (cpu != null && !workers.isEmpty() && !stopping) {
        adjustAccepting();
      }
    }
  }

  /**
   * Serves the job's warm-up request before the first accept ({@link WarmUp}), when the job has
   * one, the master asked for a warm-up, and no connection waits. Only a failure is reported: the
   * child then accepts cold.
   */
  private void warmUp(ChildJob job) {
    if (stopping) {
      return;
    }
    String problem = WarmUp.ofChild(this, args, job, warmUpWorkers, () -> table.listenQueue() > 0);
    if (problem != null && !stopping) {
      fail("child " + args.childIndex() + ": " + problem);
    }
  }

  /** One tick of the child's own pool: accept on more threads, or park some (AcceptingThreads). */
  private void adjustAccepting() {
    int busy = 0;
    long calls = 0;
    for (Worker w : workers) {
      if (w.serving()) {
        busy++;
      }
      calls += w.slot().publishedCalls();
    }
    long accepted = callsLastTick < 0 ? 1 : calls - callsLastTick;
    callsLastTick = calls;
    int sampled = 0;
    int blocked = 0;
    if (busy >= accepting && accepting < Math.min(threadCap, workers.size())) {
      // Every accepting thread is busy: do they wait or compute? (Read only then: a /proc read
      // per thread sampled.)
      for (int i = 0; i < workers.size() && sampled < STATES_SAMPLED; i++) {
        char state = workers.get(i).busyThreadState();
        if (state != ThreadStates.UNKNOWN) {
          sampled++;
          blocked += ThreadStates.runnable(state) ? 0 : 1;
        }
      }
    }
    int next =
        Math.min(
            threadCap,
            acceptingThreads.decide(
                new AcceptingThreads.Sample(
                    busy, accepted, table.listenQueue(), cpu.fraction(), sampled, blocked)));
    if (next != accepting) {
      synchronized (turns) {
        accepting = next;
        turns.notifyAll();
      }
      startWorkers();
    }
  }

  /**
   * Starts the threads of the workers that accept now and have none yet; the others' slots read
   * PARKED until then. A thread costs its stack and TLAB: an idle child keeps only its minimum.
   */
  private void startWorkers() {
    synchronized (turns) {
      while (!stopping
          && threads.size() < Math.min(Math.min(accepting, workers.size()), threadCap)) {
        Worker w = workers.get(threads.size());
        Thread t = new Thread(w, "prefork-worker-" + threads.size());
        try {
          t.start();
        } catch (OutOfMemoryError e) {
          // No native thread (a pids or TasksMax limit): serve on the threads there are; the
          // others stay parked, and the master sees them as spare no more than a busy one.
          threadCap = threads.size();
          accepting = threadCap;
          System.err.println(
              "prefork child "
                  + args.childIndex()
                  + ": cannot start worker thread "
                  + threads.size()
                  + " ("
                  + e.getMessage()
                  + "): accepting on "
                  + threads.size());
          return;
        }
        w.started();
        threads.add(t);
      }
    }
  }

  /** {@return whether the worker of this index accepts now, rather than parks} */
  boolean mayAccept(int workerIndex) {
    return workerIndex < accepting;
  }

  /** Parks the worker of this index until it may accept or the child stops. */
  void awaitTurn(int workerIndex) {
    synchronized (turns) {
      while (workerIndex >= accepting && !stopping) {
        try {
          turns.wait(1_000); // woken by adjustAccepting and stop(); the timeout is a backstop
        } catch (InterruptedException e) {
          // nobody interrupts a worker; the loop rechecks
        }
      }
    }
  }

  /** The master is gone: finish what is in flight, briefly, then halt. Never returns. */
  private void orphaned() {
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
    long deadline = System.nanoTime() + ORPHAN_GRACE_MILLIS * 1_000_000;
    while (!workersDone() && System.nanoTime() - deadline < 0) {
      sleep(10);
    }
    // Never an orphan: whatever is still running goes with us.
    Runtime.getRuntime().halt(0);
  }

  /** Waits at most {@code millis} for the workers to be done; true once they are. */
  private boolean awaitFinished(long millis) {
    try {
      return finished.await(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      return false; // nobody interrupts this thread; keep watching
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
    synchronized (turns) {
      stopping = true;
      turns.notifyAll(); // parked workers leave
      for (int w = threads.size(); w < workers.size(); w++) {
        workers.get(w).neverStarted(); // no thread will write its slot now
      }
    }
    for (Worker w : workers) {
      w.cutIfIdle();
    }
    // Closes only this process's descriptors: the socket stays open in the master and siblings.
    // A worker blocked in accept() wakes with AsynchronousCloseException.
    acceptChannels.closeAll();
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
    return Libc.getppid() == masterPid;
  }

  /** One line on standard error, which the master quotes when the child fails. */
  static void fail(String why) {
    System.err.println("prefork child: " + why);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Joins a worker thread, which finishes its connection, or the watch thread, which ends within
   * {@link #WATCH_MILLIS} of the workers.
   */
  static void joinUninterruptibly(Thread t) {
    while (true) {
      try {
        t.join();
        return;
      } catch (InterruptedException e) {
        // keep waiting
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
