package io.prefork.bench.load;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A loopback server inside the load client's own JVM that answers every request at once, so the
 * client can warm its own code (JIT) before it loads the server under test. Without it a timeline
 * that starts from a cold client shows the client's warm-up as well as the server's: at 200
 * connections of the wait job the client spends more CPU than the server does (1.35 cores against
 * 1.1 for prefork's two children, measured on 2 cores), so its climb dominates the server's.
 */
final class ClientWarmUp implements AutoCloseable {
  private static final byte[] RESPONSE =
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
          .getBytes(StandardCharsets.US_ASCII);

  private final ServerSocket listener;
  private final ExecutorService workers;
  private final Thread acceptor;

  private ClientWarmUp(ServerSocket listener, int threads) {
    this.listener = listener;
    this.workers = Executors.newFixedThreadPool(threads, r -> daemon(r, "warm-up-worker"));
    this.acceptor = daemon(this::acceptLoop, "warm-up-acceptor");
    acceptor.start();
  }

  /** A warm-up server on an ephemeral loopback port with {@code threads} answering threads. */
  static ClientWarmUp start(int threads) throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    return new ClientWarmUp(listener, threads);
  }

  InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket s = listener.accept();
        workers.execute(() -> answer(s));
      } catch (IOException | RuntimeException e) {
        return; // closed
      }
    }
  }

  /** Reads up to the end of the request head, answers, closes. */
  private static void answer(Socket s) {
    try (s) {
      s.setSoTimeout(5_000);
      InputStream in = s.getInputStream();
      byte[] buffer = new byte[1024];
      int have = 0;
      int n;
      while (have < buffer.length && (n = in.read(buffer, have, buffer.length - have)) > 0) {
        have += n;
        if (endsHead(buffer, have)) {
          OutputStream out = s.getOutputStream();
          out.write(RESPONSE);
          out.flush();
          return;
        }
      }
    } catch (IOException e) {
      // the client gave up: nothing to do in a warm-up
    }
  }

  private static boolean endsHead(byte[] b, int n) {
    return n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n';
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  public void close() throws IOException {
    listener.close();
    workers.shutdownNow();
    try {
      acceptor.join(2_000);
      workers.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
