// Boost.Asio with C++20 coroutines: the classic co_spawn echo server (Asio's own
// examples/cpp20/coroutines/echo_server.cpp), one io_context run on one thread.
//
//   g++ -std=c++20 -O2 -o asio_echo bench/peers/asio/asio_echo.cpp      (Debian: libboost-dev)
//   asio_echo PORT [BUFFER=16384]      listens on 127.0.0.1:PORT until SIGINT/SIGTERM
//
// Departures from the example, both to match bench/peers/c/epoll_echo.c: it binds to loopback, sets
// TCP_NODELAY on each accepted socket, and reads into a 16 KiB buffer (the example's is 1 KiB, which
// would turn each 4 KiB echo into four reads and four writes).
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it (GCC 12)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

using boost::asio::awaitable;
using boost::asio::co_spawn;
using boost::asio::detached;
using boost::asio::use_awaitable;
using boost::asio::ip::tcp;
namespace this_coro = boost::asio::this_coro;

static std::size_t buffer_size = 16384;

awaitable<void> echo(tcp::socket socket) {
  try {
    std::unique_ptr<char[]> data(new char[buffer_size]);
    for (;;) {
      std::size_t n = co_await socket.async_read_some(boost::asio::buffer(data.get(), buffer_size), use_awaitable);
      co_await boost::asio::async_write(socket, boost::asio::buffer(data.get(), n), use_awaitable);
    }
  } catch (const std::exception&) {
    // EOF or reset: the coroutine ends, the socket closes.
  }
}

awaitable<void> listener(unsigned short port) {
  auto executor = co_await this_coro::executor;
  tcp::acceptor acceptor(executor, {boost::asio::ip::make_address("127.0.0.1"), port});
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    co_spawn(executor, echo(std::move(socket)), detached);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [BUFFER]\n", argv[0]);
    return 2;
  }
  int port = std::atoi(argv[1]);
  if (argc > 2) buffer_size = static_cast<std::size_t>(std::atol(argv[2]));
  if (port <= 0 || port > 65535 || buffer_size == 0) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  try {
    boost::asio::io_context io_context(1);
    boost::asio::signal_set signals(io_context, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { io_context.stop(); });
    co_spawn(io_context, listener(static_cast<unsigned short>(port)), detached);
    std::fprintf(stderr, "asio_echo: listening on 127.0.0.1:%d\n", port);
    io_context.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
