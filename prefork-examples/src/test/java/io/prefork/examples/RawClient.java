package io.prefork.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A plain TCP client on 127.0.0.1 that writes bytes exactly as told, one write per call. */
final class RawClient implements AutoCloseable {
  private final Socket socket = new Socket();
  private final InputStream in;
  private final OutputStream out;

  RawClient(int port) throws IOException {
    socket.setTcpNoDelay(true); // each write its own segment, so split requests really are split
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(20_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /** Sends the text (US-ASCII) in one write. */
  RawClient send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return this;
  }

  /** Ends our half of the conversation (FIN); the server still can answer. */
  RawClient halfClose() throws IOException {
    socket.shutdownOutput();
    return this;
  }

  /** Everything the server sends until it closes. */
  byte[] readToEnd() throws IOException {
    return in.readAllBytes();
  }

  /** One line without its line feed, or null at the end. */
  String readLine() throws IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      line.append((char) b);
    }
    return b < 0 && line.length() == 0 ? null : line.toString();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
