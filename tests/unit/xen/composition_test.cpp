// first_of: an operation goes to the first part that supports it; an absent part or a part that
// declines hands the call to the next; what no part supports does not compile (supports<> is
// false) and, when every part declines at run time, the error names each part's reason.
#include <virtpp/hypervisor/first_of.hpp>
#include <virtpp/hypervisor/xen.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace virtpp {
namespace {

struct toy_context {
    static constexpr error_domain errors = error_domain::xen;
    std::vector<std::string> calls;
    bool open_c = false;
};

/// Suspends running domains only; knows every domain's info.
struct part_a {
    static constexpr std::string_view name = "a";
    struct state {
        toy_context& ctx;
        void perform(op::domain_suspend, const op::domain_suspend::args& a) {
            if (a.dom.id < 0) throw hypervisor::part_declined("'" + a.dom.name + "' is not running");
            ctx.calls.push_back("a:suspend");
        }
        domain_info perform(op::domain_get_info, const op::domain_get_info::args&) {
            ctx.calls.push_back("a:info");
            return {};
        }
    };
    static std::shared_ptr<state> open(toy_context& ctx) { return std::make_shared<state>(state{ctx}); }
};

/// Suspends anything; resumes.
struct part_b {
    static constexpr std::string_view name = "b";
    struct state {
        toy_context& ctx;
        void perform(op::domain_suspend, const op::domain_suspend::args&) { ctx.calls.push_back("b:suspend"); }
        void perform(op::domain_resume, const op::domain_resume::args& a) {
            if (a.dom.name == "stuck") throw hypervisor::part_declined("b cannot resume stuck");
            ctx.calls.push_back("b:resume");
        }
    };
    static std::shared_ptr<state> open(toy_context& ctx) { return std::make_shared<state>(state{ctx}); }
};

/// Resumes; opens only when asked to.
struct part_c {
    static constexpr std::string_view name = "c";
    struct state {
        toy_context& ctx;
        void perform(op::domain_resume, const op::domain_resume::args& a) {
            if (a.dom.name == "stuck") throw hypervisor::part_declined("c cannot resume stuck either");
            ctx.calls.push_back("c:resume");
        }
    };
    static std::shared_ptr<state> open(toy_context& ctx) {
        if (!ctx.open_c) raise(error_code::no_connect, error_domain::xen, "c is not here");
        return std::make_shared<state>(state{ctx});
    }
};

/// Its suspend fails for real: the error is the answer, not a reason to try the next part.
struct part_failing {
    static constexpr std::string_view name = "f";
    struct state {
        void perform(op::domain_suspend, const op::domain_suspend::args&) {
            raise(error_code::no_domain, error_domain::xen, "gone");
        }
    };
    static std::shared_ptr<state> open(toy_context&) { return std::make_shared<state>(); }
};

using abc = hypervisor::first_of<toy_context, part_a, part_b, part_c>;
using a_only = hypervisor::first_of<toy_context, part_a>;

// What compiles is decided by the parts: the union of what they support, and nothing else.
static_assert(supports<abc, op::domain_suspend>);
static_assert(supports<abc, op::domain_resume>);
static_assert(!supports<abc, op::domain_destroy>);
static_assert(!supports<a_only, op::domain_resume>);
static_assert(abc::provides<op::domain_get_info> && !abc::provides<op::domain_destroy>);

// The real Xen driver: the full composition has the hypercalls' vcpu list; xend alone does not,
// xm files alone cannot suspend, and every composition converts formats.
static_assert(supports<hypervisor::xen, op::domain_get_vcpus>);
static_assert(!supports<hypervisor::xen_of<xen::xend>, op::domain_get_vcpus>);
static_assert(supports<hypervisor::xen_of<xen::xend>, op::domain_suspend>);
static_assert(!supports<hypervisor::xen_of<xen::xm_files>, op::domain_suspend>);
static_assert(supports<hypervisor::xen_of<xen::xm_files>, op::connect_domain_xml_from_native>);
static_assert(hypervisor_policy<hypervisor::xen>);

const domain_ref running{"r", {}, 3};
const domain_ref inactive{"i", {}, -1};

TEST(FirstOf, FirstSupportingPartServes) {
    auto ctx = std::make_shared<toy_context>();
    abc::state s(ctx);
    s.perform(op::domain_suspend{}, {running});
    (void)s.perform(op::domain_get_info{}, {running});
    s.perform(op::domain_resume{}, {running});
    EXPECT_EQ(ctx->calls, (std::vector<std::string>{"a:suspend", "a:info", "b:resume"}));
}

TEST(FirstOf, DeclinedCallFallsToTheNextPart) {
    auto ctx = std::make_shared<toy_context>();
    abc::state s(ctx);
    s.perform(op::domain_suspend{}, {inactive});
    EXPECT_EQ(ctx->calls, (std::vector<std::string>{"b:suspend"}));
}

TEST(FirstOf, AbsentPartIsSkippedAndExplained) {
    auto ctx = std::make_shared<toy_context>();
    abc::state s(ctx);
    EXPECT_EQ(s.part<part_c>(), nullptr);
    EXPECT_NE(s.why_absent<part_c>().find("c is not here"), std::string::npos);
    try {
        s.perform(op::domain_resume{}, {domain_ref{"stuck", {}, 1}});
        FAIL() << "every part declined or was absent";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::no_support);
        const auto& m = e.info().message;
        EXPECT_NE(m.find("virDomainResume"), std::string::npos) << m;
        EXPECT_NE(m.find("b: b cannot resume stuck"), std::string::npos) << m;
        EXPECT_NE(m.find("c is not here"), std::string::npos) << m;
    }
    EXPECT_THROW(s.rethrow_absence<part_c>(), error);
    EXPECT_NO_THROW(s.rethrow_absence<part_a>());
}

TEST(FirstOf, LaterPartServesWhenEarlierDeclines) {
    auto ctx = std::make_shared<toy_context>();
    ctx->open_c = true;
    abc::state s(ctx);
    ASSERT_NE(s.part<part_c>(), nullptr);
    s.perform(op::domain_resume{}, {running});
    EXPECT_EQ(ctx->calls, (std::vector<std::string>{"b:resume"}));
}

TEST(FirstOf, ErrorsOtherThanDeclineAreTheAnswer) {
    auto ctx = std::make_shared<toy_context>();
    hypervisor::first_of<toy_context, part_failing, part_b>::state s(ctx);
    try {
        s.perform(op::domain_suspend{}, {running});
        FAIL();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), error_code::no_domain);
    }
    EXPECT_TRUE(ctx->calls.empty()) << "a real error is not a decline: b must not run";
}

TEST(XenDriver, UrisAndOpeningWithoutXen) {
    EXPECT_TRUE(hypervisor::xen::accepts(uri::parse("xen:///")));
    EXPECT_TRUE(hypervisor::xen::accepts(uri::parse("xen")));
    EXPECT_TRUE(hypervisor::xen::accepts(uri::parse("http://127.0.0.1:8000/")));
    EXPECT_TRUE(hypervisor::xen::accepts(uri::parse("/var/lib/xend/xend-socket")));
    EXPECT_FALSE(hypervisor::xen::accepts(uri::parse("xen+tcp://host/")));  // the remote driver's
    EXPECT_FALSE(hypervisor::xen::accepts(uri::parse("qemu:///system")));
    // xen:/// on a host without Xen opens (the format conversions need nothing), and every
    // other call explains which parts were missing and why
    ::setenv("VIRTPP_XEND", "/nonexistent/xend-socket", 1);
    ::setenv("XENSTORED_PATH", "/nonexistent/xenstored", 1);
    ::setenv("VIRTPP_XEN_PRIVCMD", "/nonexistent/privcmd", 1);
    ::setenv("VIRTPP_XM_CONFIG_DIR", "/nonexistent/xen", 1);
    auto s = hypervisor::xen::open(uri::parse("xen:///"), 0);
    EXPECT_EQ(s->perform(op::connect_get_type{}, {}), "Xen");
    try {
        (void)s->perform(op::connect_list_domains{}, {});
        FAIL();
    } catch (const error& e) {
        const auto& m = e.info().message;
        EXPECT_EQ(e.code(), error_code::no_support);
        EXPECT_NE(m.find("hypercalls: no privcmd (/nonexistent/privcmd"), std::string::npos) << m;
        EXPECT_NE(m.find("xend: "), std::string::npos) << m;
        EXPECT_NE(m.find("/nonexistent/xend-socket"), std::string::npos) << m;
        EXPECT_NE(m.find("xenstore: "), std::string::npos) << m;
    }
    // a URI naming xend fails to open when xend does not answer
    EXPECT_THROW(hypervisor::xen::open(uri::parse("/nonexistent/xend-socket"), 0), error);
    for (const char* v : {"VIRTPP_XEND", "XENSTORED_PATH", "VIRTPP_XEN_PRIVCMD", "VIRTPP_XM_CONFIG_DIR"}) ::unsetenv(v);
}

}  // namespace
}  // namespace virtpp
