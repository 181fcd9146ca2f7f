// Uses an installed virtpp: parses a UUID and shows libvirt's error model.
#include <virtpp/error.hpp>
#include <virtpp/uuid.hpp>

#include <iostream>

int main() {
    auto id = virtpp::uuid::parse("4dea22b31d52d8f32516782e98ab3fa0");
    if (!id) return 1;
    std::cout << id->str() << '\n';
    virtpp::set_error_handler([](const virtpp::error_info&) {});  // asynchronous style
    try {
        (void)virtpp::uuid::from_string("not-a-uuid");
    } catch (const virtpp::error& e) {
        std::cout << "error " << static_cast<int>(e.code()) << ": " << e.what() << '\n';
    }
    return 0;
}
