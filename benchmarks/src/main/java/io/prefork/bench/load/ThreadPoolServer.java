package io.prefork.bench.load;

import io.prefork.core.ChildContext;
import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A load peer: the plain JDK way, one {@link ServerSocket}, one accepting thread, and each
 * connection handed to the same {@link ChildJob} prefork's children run, with the same 10 s read
 * timeout. The job is any {@code ChildJob} by class name or by the short names of {@code serve
 * --job} ({@code --job hello|hello-ka|wait|cpu|CLASS}; default {@code hello}, or {@code hello-ka}
 * with {@code --keepalive}); it is opened once with a {@link ChildContext} of this process, as a
 * child would, and closed at exit.
 *
 * <p>The workers are a fixed pool of {@code --threads} platform threads, or with {@code --virtual}
 * one virtual thread per connection ({@code Executors.newVirtualThreadPerTaskExecutor}, looked up
 * at run time: the class is compiled for Java 17, so this needs a JDK 21 or later to run). Runs
 * until killed.
 *
 * <pre>
 * java -cp benchmarks.jar io.prefork.bench.load.ThreadPoolServer --port 19102 --threads 16
 * java -cp benchmarks.jar io.prefork.bench.load.ThreadPoolServer --port 19102 --threads 200 --job wait
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -cp benchmarks.jar \
 *     io.prefork.bench.load.ThreadPoolServer --port 19105 --threads 1 --job cpu --virtual
 * </pre>
 */
public final class ThreadPoolServer {
  private ThreadPoolServer() {}

  public static void main(String[] args) throws Exception {
    PeerArgs a = PeerArgs.parse(args, 16);
    ChildJob job = Class.forName(a.job()).asSubclass(ChildJob.class).getConstructor().newInstance();
    ExecutorService pool =
        a.virtual() ? virtualThreadPerTaskExecutor() : Executors.newFixedThreadPool(a.threads());
    int workers = a.virtual() ? Integer.MAX_VALUE : a.threads();
    job.open(new ProcessContext(workers));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    job.close();
                  } catch (Exception e) {
                    // exiting anyway
                  }
                }));
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(a.port()), 511);
    System.out.println(
        "thread-pool server on port "
            + a.port()
            + ", "
            + (a.virtual() ? "a virtual thread per connection" : a.threads() + " threads")
            + ", job "
            + a.job()
            + ", java "
            + Runtime.version());
    while (true) {
      Socket s = server.accept();
      pool.execute(() -> serve(job, s));
    }
  }

  /** {@code Executors.newVirtualThreadPerTaskExecutor()} of JDK 21+, called without linking it. */
  static ExecutorService virtualThreadPerTaskExecutor() {
    try {
      return (ExecutorService)
          MethodHandles.publicLookup()
              .findStatic(
                  Executors.class,
                  "newVirtualThreadPerTaskExecutor",
                  MethodType.methodType(ExecutorService.class))
              .invoke();
    } catch (NoSuchMethodException | IllegalAccessException e) {
      throw new UnsupportedOperationException(
          "--virtual needs a JDK with virtual threads (21 or later); this is " + Runtime.version(),
          e);
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }

  private static void serve(ChildJob job, Socket socket) {
    try (socket) {
      socket.setSoTimeout(10_000);
      job.handle(new SocketConnection(socket));
    } catch (Exception e) {
      // the client went away: nothing to do
    }
  }

  /** What a job may know about this process, as if it were prefork's only child. */
  private record ProcessContext(int workerThreads) implements ChildContext {
    @Override
    public int childIndex() {
      return 0;
    }

    @Override
    public long generation() {
      return 1;
    }

    @Override
    public long masterPid() {
      return ProcessHandle.current().pid();
    }

    @Override
    public int shmKey() {
      return 0;
    }
  }

  /** A {@link Connection} over a plain socket's streams. */
  private static final class SocketConnection implements Connection {
    private final Socket socket;

    SocketConnection(Socket socket) {
      this.socket = socket;
    }

    @Override
    public InputStream input() {
      try {
        return socket.getInputStream();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public OutputStream output() {
      try {
        return socket.getOutputStream();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public SocketChannel channel() {
      return socket.getChannel(); // null: a plain socket has none
    }

    @Override
    public InetSocketAddress remoteAddress() {
      return (InetSocketAddress) socket.getRemoteSocketAddress();
    }

    @Override
    public InetSocketAddress localAddress() {
      return (InetSocketAddress) socket.getLocalSocketAddress();
    }
  }
}
