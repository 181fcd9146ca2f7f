// virtpp's async API (docs/async.md): one connection to a daemon, a coroutine that lists the
// domains, then the lookup and info of every domain pipelined on that connection at once, each
// with its own deadline.
//
//   virtpp_example_async 'test+unix:///default?socket=/run/libvirt/libvirt-sock'
#include <virtpp/async.hpp>
#include <virtpp/hypervisor/remote.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using remote_connection = virtpp::basic_connection<virtpp::hypervisor::remote, virtpp::transport::remote>;
using async_connection = virtpp::basic_async_connection<virtpp::hypervisor::remote, virtpp::transport::remote>;

namespace {

std::string describe(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const virtpp::error& err) {
        return err.info().message;
    }
}

asio::awaitable<int> run(async_connection& conn) {
    // one call at a time, each awaited
    virtpp::op::connect_list_all_domains::args every{};
    auto domains = co_await conn.async_call<virtpp::op::connect_list_all_domains>(every, 2s, asio::use_awaitable);

    // then all the info calls in flight together: each completion lands in `infos`
    std::map<std::string, std::string> infos;
    std::size_t pending = domains.size();
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
    for (const auto& d : domains)
        conn.async_call<virtpp::op::domain_get_info>({d}, 500ms, [&, name = d.name](std::exception_ptr e, virtpp::domain_info info) {
            infos[name] = e ? "error: " + describe(e)
                            : std::to_string(info.vcpus) + " vCPU, " + std::to_string(info.memory_kib) + " KiB, state " +
                                  std::to_string(static_cast<int>(info.state));
            if (--pending == 0) all_done.cancel();
        });
    if (pending > 0) {
        boost::system::error_code ec;
        co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    for (const auto& [name, text] : infos) std::printf("%s: %s\n", name.c_str(), text.c_str());
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s URI\n", argv[0]);
        return 2;
    }
    virtpp::set_error_handler([](const virtpp::error_info&) {});
    try {
        asio::io_context io;
        async_connection conn(io.get_executor(), remote_connection::open(argv[1]));
        int status = 1;
        asio::co_spawn(io, run(conn), [&](std::exception_ptr e, int rc) {
            if (e) std::fprintf(stderr, "error: %s\n", describe(e).c_str());
            else status = rc;
        });
        io.run();
        return status;
    } catch (const virtpp::error& e) {
        std::fprintf(stderr, "error: %s\n", e.info().message.c_str());
        return 1;
    }
}
