package io.prefork.bench.load;

import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import io.prefork.examples.HelloHttpJob;
import io.prefork.examples.HelloKeepAliveJob;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A load peer: the plain JDK way, one {@link ServerSocket}, one accepting thread, a fixed pool of
 * worker threads, each connection handed to the same {@link ChildJob} prefork's children run
 * ({@link HelloHttpJob}, or {@link HelloKeepAliveJob} with {@code --keepalive}), with the same 10 s
 * read timeout. Runs until killed.
 *
 * <pre>java -cp benchmarks.jar io.prefork.bench.load.ThreadPoolServer --port 19102 --threads 16
 * </pre>
 */
public final class ThreadPoolServer {
  private ThreadPoolServer() {}

  public static void main(String[] args) throws IOException {
    PeerArgs a = PeerArgs.parse(args, 16);
    ChildJob job = a.keepAlive() ? new HelloKeepAliveJob() : new HelloHttpJob();
    ExecutorService pool = Executors.newFixedThreadPool(a.threads());
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(a.port()), 511);
    System.out.println("thread-pool server on port " + a.port() + ", " + a.threads() + " threads");
    while (true) {
      Socket s = server.accept();
      pool.execute(() -> serve(job, s));
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
