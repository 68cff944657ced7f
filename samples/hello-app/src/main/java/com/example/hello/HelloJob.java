package com.example.hello;

import io.prefork.core.ChildContext;
import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * The job every child runs: reads one HTTP request up to its blank line, answers {@code hello from
 * child N} and returns; the child then closes the connection.
 *
 * <p>A job is a public class with a public no-argument constructor: each child JVM makes one.
 */
public final class HelloJob implements ChildJob {
  private static final int MAX_REQUEST = 8192;

  private byte[] response; // made in open(), before any worker thread starts

  /** Called by each child through reflection. */
  public HelloJob() {}

  @Override
  public void open(ChildContext child) {
    String body = "hello from child " + child.childIndex() + "\n";
    response =
        ("HTTP/1.0 200 OK\r\n"
                + "Content-Type: text/plain\r\n"
                + "Content-Length: "
                + body.length()
                + "\r\n"
                + "Connection: close\r\n"
                + "\r\n"
                + body)
            .getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public void handle(Connection connection) throws IOException {
    try {
      readHeaders(connection.input());
    } catch (SocketTimeoutException e) {
      return; // no complete request within readTimeout: close without an answer
    }
    connection.output().write(response);
  }

  /** Reads until the blank line that ends the headers, the end of input, or MAX_REQUEST bytes. */
  private static void readHeaders(InputStream in) throws IOException {
    int total = 0;
    int lineFeeds = 0;
    int b;
    while (total < MAX_REQUEST && (b = in.read()) >= 0) {
      total++;
      if (b == '\n') {
        if (++lineFeeds == 2) {
          return;
        }
      } else if (b != '\r') {
        lineFeeds = 0;
      }
    }
  }
}
