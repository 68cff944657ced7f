package io.prefork.core.internal.child;

import io.prefork.core.ChildJob;
import io.prefork.core.internal.protocol.ChildArguments;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * A child's warm-up, before it accepts on the shared socket: its job's warm-up request served over
 * private loopback connections, through the same code as real ones (the accepted channel, the
 * streams on its descriptor, the job), so the JIT compiles that path while no client waits. A child
 * that accepts cold under load serves at about 80 % while C2 compiles on the busy cores for several
 * seconds; warmed, it serves at full speed from its first connection.
 *
 * <p>Each of a few server threads owns a warm-up {@link Worker} (one with no slot: the table never
 * sees the warm-up) and accepts on a listener bound to an ephemeral loopback port; as many client
 * threads connect, send the request, half-close, and read the response to its end. It ends after
 * the given number of connections, at its deadline, when the child stops, at the first failure, or
 * as soon as connections wait in the listening socket's queue, whichever comes first: a warm-up
 * uses cores nobody else needs, and never keeps a child from serving. (Under load, a replacement or
 * a child the pool grows by accepts at once, cold, as it would without a warm-up: warming there
 * would take the cores from the siblings that serve, and the new child would come later.)
 */
final class WarmUp {
  /** The most connections in flight: enough to keep the cores busy with a job that waits. */
  static final int MAX_THREADS = 32;

  /** A warm-up connection's connect and each of its reads, at most. */
  static final int CONNECTION_TIMEOUT_MILLIS = 2_000;

  /**
   * What came of it: connections served, and the failure that ended it (null: none; the deadline,
   * clients waiting and the child stopping are no failure).
   */
  record Outcome(int served, String failure) {}

  private final byte[] request;
  private final BooleanSupplier stopping;
  private final BooleanSupplier clientsWaiting;
  private final long deadlineNanos;
  private final AtomicInteger tickets;
  private final AtomicInteger served = new AtomicInteger();
  private final AtomicReference<String> failure = new AtomicReference<>();

  private WarmUp(
      byte[] request,
      int connections,
      long deadlineNanos,
      BooleanSupplier stopping,
      BooleanSupplier clientsWaiting) {
    this.request = request;
    this.tickets = new AtomicInteger(connections);
    this.deadlineNanos = deadlineNanos;
    this.stopping = stopping;
    this.clientsWaiting = clientsWaiting;
  }

  /**
   * A child's warm-up before its first accept, when the master asked for one and its job has a
   * warm-up request: makes the warm-up workers (added to {@code workers}, whose deadlines the
   * child's watch thread keeps) and runs it.
   *
   * @return what to report (a failure), or null
   */
  static String ofChild(
      ChildRuntime child,
      ChildArguments args,
      ChildJob job,
      List<Worker> workers,
      BooleanSupplier clientsWaiting) {
    if (args.warmUpConnections() <= 0) {
      return null;
    }
    byte[] request;
    try {
      request = job.warmUpRequest();
    } catch (RuntimeException e) {
      return "no warm-up: the job's warmUpRequest() failed: " + e;
    }
    if (request == null) {
      return null;
    }
    for (int i = 0; i < Math.min(MAX_THREADS, args.workers()); i++) {
      workers.add(
          new Worker(
              child, i, null, null, job, args.readTimeoutMillis(), args.writeTimeoutMillis()));
    }
    Outcome o =
        run(
            workers,
            request.clone(),
            args.warmUpConnections(),
            args.warmUpMillis(),
            child::stopping,
            clientsWaiting);
    return o.failure() == null
        ? null
        : "warm-up stopped after "
            + o.served()
            + " of "
            + args.warmUpConnections()
            + " connections ("
            + o.failure()
            + "): accepting all the same";
  }

  /**
   * Runs a warm-up on these workers (one server thread each) and returns when it is over.
   *
   * @param workers warm-up workers, not the child's own: at most {@link #MAX_THREADS} are used
   * @param request what each connection sends
   * @param connections how many connections in all
   * @param timeoutMillis the longest the warm-up may take
   * @param stopping true once the child stops: the warm-up ends at once
   * @param clientsWaiting true while connections wait in the listening socket's queue: the warm-up
   *     ends at once
   */
  static Outcome run(
      List<Worker> workers,
      byte[] request,
      int connections,
      long timeoutMillis,
      BooleanSupplier stopping,
      BooleanSupplier clientsWaiting) {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
    WarmUp w = new WarmUp(request, connections, deadline, stopping, clientsWaiting);
    int threads = Math.min(Math.min(MAX_THREADS, workers.size()), connections);
    if (threads < 1) {
      return new Outcome(0, null);
    }
    try (ServerSocketChannel listener = ServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), threads * 2);
      return w.run(listener, workers.subList(0, threads));
    } catch (IOException | RuntimeException e) {
      return new Outcome(w.served.get(), "no loopback listener: " + e);
    }
  }

  private Outcome run(ServerSocketChannel listener, List<Worker> servers) throws IOException {
    SocketAddress address = listener.getLocalAddress();
    List<Thread> serving = new ArrayList<>();
    for (Worker worker : servers) {
      serving.add(start(() -> serve(listener, worker), "prefork-warm-up-server"));
    }
    List<Thread> clients = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      clients.add(start(() -> send(address), "prefork-warm-up-client"));
    }
    // Every client ends by the deadline plus one connection's timeout.
    long clientsEnd = deadlineNanos + CONNECTION_TIMEOUT_MILLIS * 2_000_000L;
    for (Thread t : clients) {
      joinUntil(t, clientsEnd);
    }
    listener.close(); // the server threads blocked in accept() wake up
    // A job still on a connection its client has closed reads the end of it or fails its write:
    // it returns within its own read or write timeout at worst. Daemon threads: never waited for
    // past this.
    for (Thread t : serving) {
      joinUntil(t, System.nanoTime() + CONNECTION_TIMEOUT_MILLIS * 1_000_000L);
    }
    return new Outcome(served.get(), failure.get());
  }

  /** A server thread: accepts warm-up connections and has its worker serve them. */
  private void serve(ServerSocketChannel listener, Worker worker) {
    while (true) {
      SocketChannel channel;
      try {
        channel = listener.accept();
      } catch (ClosedChannelException e) {
        return; // the warm-up is over
      } catch (IOException e) {
        fail("accept failed: " + e);
        return;
      }
      Throwable t = worker.serveWarmUp(channel);
      if (t != null) {
        fail("the job failed on it: " + t);
      }
    }
  }

  /** A client thread: one connection after another while there are tickets and time. */
  private void send(SocketAddress address) {
    byte[] buffer = new byte[8192];
    while (failure.get() == null
        && !stopping.getAsBoolean()
        && !clientsWaiting.getAsBoolean()
        && System.nanoTime() - deadlineNanos < 0
        && tickets.getAndDecrement() > 0) {
      try (Socket s = new Socket()) {
        s.connect(address, CONNECTION_TIMEOUT_MILLIS);
        s.setSoTimeout(CONNECTION_TIMEOUT_MILLIS);
        s.getOutputStream().write(request);
        s.shutdownOutput();
        InputStream in = s.getInputStream();
        while (in.read(buffer) >= 0) {
          // to the end of the response: the job has returned and its connection is closed
        }
        served.incrementAndGet();
      } catch (IOException e) {
        fail("a connection failed: " + e);
        return;
      }
    }
  }

  private void fail(String why) {
    failure.compareAndSet(null, why);
  }

  private static Thread start(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void joinUntil(Thread t, long deadlineNanos) {
    long left;
    while (t.isAlive() && (left = deadlineNanos - System.nanoTime()) > 0) {
      try {
        t.join(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        // nobody interrupts the child's main thread; the deadline still holds
      }
    }
  }
}
