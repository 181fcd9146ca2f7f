// basic_network lives with basic_connection: a network handle keeps its connection alive.
#pragma once
#include <virtpp/connection.hpp>
