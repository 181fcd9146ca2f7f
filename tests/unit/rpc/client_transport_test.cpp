// How each transport of a remote URI is opened: the ssh command line (libvirt 9.0's exact argv),
// unix socket paths, and libvirt's connection error texts.
#include "rpc/client_detail.hpp"

#include <virtpp/transport/remote.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

using namespace virtpp;
using namespace virtpp::rpc;

const std::string netcat_proxy =
    "sh -c 'if 'nc' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'nc' $ARG -U "
    "/var/run/libvirt/libvirt-sock'";

TEST(client_transport, ssh_argv_defaults) {
    auto argv = ssh_argv(uri::parse("qemu+ssh://host/system"), 0);
    std::vector<std::string> expected = {
        "ssh", "-T", "-e", "none", "--", "host",
        "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     virt-ssh-helper 'qemu:///system'; "
        "else    if 'nc' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'nc' $ARG -U "
        "/var/run/libvirt/libvirt-sock; fi'"};
    EXPECT_EQ(argv, expected);
}

TEST(client_transport, ssh_argv_with_every_option) {
    auto argv = ssh_argv(uri::parse("test+ssh://root@h.example:2222/default?command=/opt/ssh&keyfile=/k&no_tty=1&no_verify=1&netcat=nc"), 0);
    std::vector<std::string> expected = {"/opt/ssh", "-p", "2222", "-l", "root", "-i", "/k", "-T", "-e", "none",
                                         "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "--", "h.example",
                                         netcat_proxy};
    EXPECT_EQ(argv, expected);
}

TEST(client_transport, ssh_socket_param_means_netcat_and_read_only_socket) {
    auto argv = ssh_argv(uri::parse("test+ssh://h/default?socket=/run/x/sock"), 0);
    EXPECT_EQ(argv.back(),
              "sh -c 'if 'nc' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'nc' "
              "$ARG -U /run/x/sock'");
    auto ro = ssh_argv(uri::parse("test+ssh://h/default?proxy=netcat"), open_flags::read_only);
    EXPECT_NE(ro.back().find("-U /var/run/libvirt/libvirt-sock-ro'"), std::string::npos) << ro.back();
    auto native = ssh_argv(uri::parse("test+ssh://h/default?proxy=native"), open_flags::read_only);
    EXPECT_EQ(native.back(), "sh -c 'virt-ssh-helper -r 'test:///default''");
}

TEST(client_transport, ssh_shell_escaping_is_doubled) {
    // a netcat path with a blank is quoted twice: once for ssh's shell, once for sh -c
    auto cmd = ssh_remote_command("netcat", std::string("/opt/my nc"), "/s", "test:///default", false);
    EXPECT_EQ(cmd,
              "sh -c 'if '''\\''/opt/my nc'\\'''' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then "
              "ARG=-q0;else ARG=;fi;'''\\''/opt/my nc'\\'''' $ARG -U /s'");
}

TEST(client_transport, ssh_proxy_errors) {
    set_error_handler([](const error_info&) {});
    EXPECT_THROW((void)ssh_remote_command("native", std::string("nc"), "/s", "x:///", false), virtpp::error);
    try {
        (void)ssh_remote_command("bogus", std::nullopt, "/s", "x:///", false);
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::invalid_arg);
        EXPECT_EQ(e.info().message, "invalid argument: Unnkown proxy type 'bogus'");
    }
    set_error_handler({});
}

TEST(client_transport, unix_socket_paths) {
    EXPECT_EQ(unix_socket_path(uri::parse("test+unix:///default"), 0), "/var/run/libvirt/libvirt-sock");
    EXPECT_EQ(unix_socket_path(uri::parse("test+unix:///default"), open_flags::read_only), "/var/run/libvirt/libvirt-sock-ro");
    EXPECT_EQ(unix_socket_path(uri::parse("test+unix:///default?socket=/tmp/s"), open_flags::read_only), "/tmp/s");
}

TEST(client_transport, connection_failures_use_libvirts_messages) {
    set_error_handler([](const error_info&) {});
    try {
        (void)client_session::open(uri::parse("test+unix:///default?socket=/nonexistent/virtpp-sock"), 0);
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_EQ(e.domain(), error_domain::rpc);
        EXPECT_EQ(e.info().message, "Failed to connect socket to '/nonexistent/virtpp-sock': No such file or directory");
    }
    try {
        // port 1 on loopback: nothing listens there
        (void)client_session::open(uri::parse("test+tcp://127.0.0.1:1/default"), 0);
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_EQ(e.info().message, "unable to connect to server at '127.0.0.1:1': Connection refused");
    }
    try {
        (void)client_session::open(uri::parse("test+tls://127.0.0.1:1/default?pkipath=/nonexistent/pki"), 0);
        FAIL();
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_EQ(e.info().message, "Cannot read CA certificate '/nonexistent/pki/cacert.pem': No such file or directory");
    }
    try {
        (void)client_session::open(uri::parse("test+ext:///default?command=/nonexistent/cmd"), 0);
        FAIL();
    } catch (const virtpp::error& e) {
        // libvirt 9.0 (virsh) says one of these, depending on when the command is gone: the reset
        // with what it wrote on stderr, the write into the dead socket, or the closed socket
        if (e.code() == error_code::system_error)
            EXPECT_TRUE(e.info().message == "Cannot recv data: libvirt:  error : cannot execute binary /nonexistent/cmd: No such "
                                            "file or directory: Connection reset by peer" ||
                        e.info().message == "Cannot write data: Broken pipe")
                << e.info().message;
        else
            EXPECT_EQ(e.info().message, "internal error: client socket is closed");
    }
    set_error_handler({});
}

TEST(client_transport, command_that_exits_unread_is_a_reset_with_its_stderr) {
    // ssh refusing the host key or the login: it writes why on stderr and exits without reading
    // the AUTH_LIST call, so the socketpair is reset; libvirt reports the recv error with stderr
    auto script = std::filesystem::temp_directory_path() / ("virtpp-refusing-ssh-" + std::to_string(::getpid()));
    {
        std::ofstream out(script);
        out << "#!/bin/sh\necho 'Host key verification failed.' >&2\nsleep 0.3\nexit 255\n";
    }
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    set_error_handler([](const error_info&) {});
    try {
        (void)client_session::open(uri::parse("test+ext:///default?command=" + script.string()), 0);
        ADD_FAILURE() << "the connection opened";
    } catch (const virtpp::error& e) {
        EXPECT_EQ(e.code(), error_code::system_error);
        EXPECT_EQ(e.domain(), error_domain::rpc);
        EXPECT_EQ(e.info().message, "Cannot recv data: Host key verification failed.: Connection reset by peer");
    }
    set_error_handler({});
    std::filesystem::remove(script);
}

}  // namespace
