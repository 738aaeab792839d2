package bench.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;

/**
 * The benchmark's Netty peer: the classic EchoServer on the native epoll transport.
 *
 * <p>Usage: {@code java -jar netty-echo.jar PORT [THREADS]}. One event loop group of THREADS
 * (default 1) both accepts and serves, the same shape as coecho's {@code --threads N}. Runs until
 * killed (SIGTERM).
 */
public final class EchoServer {
    private EchoServer() {}

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        if (!Epoll.isAvailable()) {
            System.err.println("netty-echo: native epoll is not available: " + Epoll.unavailabilityCause());
            System.exit(2);
        }
        EchoServerHandler handler = new EchoServerHandler();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        public void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(handler);
                        }
                    });
            ChannelFuture f = b.bind("127.0.0.1", port).sync();
            System.err.println("netty-echo: listening on 127.0.0.1:" + port + " with " + threads + " epoll loop(s)");
            f.channel().closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }
}
