// Must NOT compile: the toy policy provides no domain_resume, so a statically typed handle cannot
// call it. The test checks that the diagnostic names the operation and the policy.
#include "unit/core/toy_policy.hpp"

int main() {
    auto conn = toy::connection::open("toy:///");
    conn.lookup_domain_by_name("a").resume();
}
