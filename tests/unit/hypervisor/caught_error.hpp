// Test helper: the virtpp::error a statement raises, as its code, domain and message.
#pragma once

#include <virtpp/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace virtpp_test {

struct caught {
    virtpp::error_code code = virtpp::error_code::ok;
    virtpp::error_domain domain = virtpp::error_domain::none;
    std::string message;
};

/// Runs f and returns the error it raised; a test failure when it raised none.
template <class F>
caught catch_error(F&& f) {
    try {
        f();
    } catch (const virtpp::error& e) {
        return {e.code(), e.domain(), e.what()};
    }
    ADD_FAILURE() << "expected a virtpp::error";
    return {};
}

}  // namespace virtpp_test
