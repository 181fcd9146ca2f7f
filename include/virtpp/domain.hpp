// basic_domain lives with basic_connection: a domain handle keeps its connection alive.
#pragma once
#include <virtpp/connection.hpp>
