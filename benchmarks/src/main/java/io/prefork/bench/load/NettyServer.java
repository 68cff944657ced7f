package io.prefork.bench.load;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.prefork.examples.HelloHttpJob;
import io.prefork.examples.HelloKeepAliveJob;

/**
 * A load peer: Netty (epoll when available, else NIO) doing what {@link HelloHttpJob} does, on
 * {@code --threads} event loops: read until the blank line ending the headers, write the same
 * response bytes, close; with {@code --keepalive} what {@link HelloKeepAliveJob} does (the same
 * keep-alive rule and bytes). Same 10 s read timeout. Runs until killed.
 *
 * <pre>java -cp benchmarks.jar io.prefork.bench.load.NettyServer --port 19103 --threads 2</pre>
 */
public final class NettyServer {
  private static final byte[] CLOSE_RESPONSE = HelloHttpJob.response();
  private static final byte[] KA_KEEP = HelloKeepAliveJob.keepAliveResponse();
  private static final byte[] KA_CLOSE = HelloKeepAliveJob.closeResponse();

  private NettyServer() {}

  public static void main(String[] args) throws InterruptedException {
    PeerArgs a = PeerArgs.parse(args, Runtime.getRuntime().availableProcessors());
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> type =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, io);
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(a.threads(), io);
    Channel server =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(type)
            .option(ChannelOption.SO_BACKLOG, 511)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new ReadTimeoutHandler(10), new Hello(a.keepAlive()));
                  }
                })
            .bind(a.port())
            .sync()
            .channel();
    System.out.println(
        "netty server on port "
            + a.port()
            + ", "
            + a.threads()
            + " event loops, "
            + (epoll ? "epoll" : "nio"));
    server.closeFuture().sync();
  }

  /** Per connection: the request bytes so far (headers at most 4 KiB), then the answer. */
  private static final class Hello extends ChannelInboundHandlerAdapter {
    private final boolean keepAlive;
    private final byte[] buf = new byte[HelloKeepAliveJob.MAX_REQUEST];
    private int have;

    Hello(boolean keepAlive) {
      this.keepAlive = keepAlive;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      try {
        while (in.isReadable()) {
          int n = Math.min(in.readableBytes(), buf.length - have);
          int from = Math.max(0, have - 3);
          in.readBytes(buf, have, n);
          have += n;
          int end = headerEnd(from);
          if (end < 0 && have < buf.length) {
            continue;
          }
          if (!keepAlive) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(CLOSE_RESPONSE))
                .addListener(ChannelFutureListener.CLOSE);
            have = buf.length; // ignore anything more
            return;
          }
          boolean keep = end >= 0 && keepAlive(end);
          ctx.write(Unpooled.wrappedBuffer(keep ? KA_KEEP : KA_CLOSE));
          if (!keep) {
            ctx.flush();
            ctx.close();
            return;
          }
          System.arraycopy(buf, end, buf, 0, have - end);
          have -= end;
          while ((end = headerEnd(0)) >= 0) { // pipelined requests already here
            if (!keepAlive(end)) {
              ctx.write(Unpooled.wrappedBuffer(KA_CLOSE));
              ctx.flush();
              ctx.close();
              return;
            }
            ctx.write(Unpooled.wrappedBuffer(KA_KEEP));
            System.arraycopy(buf, end, buf, 0, have - end);
            have -= end;
          }
        }
      } finally {
        in.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    private int headerEnd(int from) {
      return HelloKeepAliveJob.headerEnd(buf, from, have);
    }

    private boolean keepAlive(int end) {
      return HelloKeepAliveJob.keepAlive(buf, end);
    }
  }
}
