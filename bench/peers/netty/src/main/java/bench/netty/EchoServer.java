package bench.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;

/**
 * The benchmark's Netty peer: the classic EchoServer on a native transport, epoll or io_uring.
 *
 * <p>Usage: {@code java -jar netty-echo.jar PORT [THREADS] [epoll|io_uring]}. One event loop group of
 * THREADS (default 1) both accepts and serves, the same shape as coecho's {@code --threads N}; the
 * transport defaults to epoll. io_uring is Netty 4.2's own transport ({@link IoUringIoHandler}) with
 * its defaults. Runs until killed (SIGTERM).
 */
public final class EchoServer {
    private EchoServer() {}

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        String transport = args.length > 2 ? args[2] : "epoll";
        IoHandlerFactory io;
        Class<? extends ServerChannel> channel;
        switch (transport) {
            case "epoll" -> {
                if (!Epoll.isAvailable()) {
                    unavailable(transport, Epoll.unavailabilityCause());
                }
                io = EpollIoHandler.newFactory();
                channel = EpollServerSocketChannel.class;
            }
            case "io_uring" -> {
                if (!IoUring.isAvailable()) {
                    unavailable(transport, IoUring.unavailabilityCause());
                }
                io = IoUringIoHandler.newFactory();
                channel = IoUringServerSocketChannel.class;
            }
            default -> {
                System.err.println("netty-echo: transport must be epoll or io_uring: " + transport);
                System.exit(2);
                return;
            }
        }
        EchoServerHandler handler = new EchoServerHandler();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, io);
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(channel)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        public void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(handler);
                        }
                    });
            ChannelFuture f = b.bind("127.0.0.1", port).sync();
            System.err.println("netty-echo: listening on 127.0.0.1:" + port + " with " + threads + " " + transport + " loop(s)");
            f.channel().closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }

    private static void unavailable(String transport, Throwable cause) {
        System.err.println("netty-echo: native " + transport + " is not available: " + cause);
        System.exit(2);
    }
}
