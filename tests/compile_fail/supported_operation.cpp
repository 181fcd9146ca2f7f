// The control case: the same program with an operation the policy provides compiles.
#include "unit/core/toy_policy.hpp"

int main() {
    auto conn = toy::connection::open("toy:///");
    conn.lookup_domain_by_name("a").suspend();
}
