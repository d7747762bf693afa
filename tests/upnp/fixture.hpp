// Reads a file under tests/fixtures/ for the IGD XML tests.
#pragma once

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace plum::test {

inline std::string read_fixture(const std::string &relative) {
	const std::string path = std::string(PLUM_FIXTURES_DIR) + "/" + relative;
	std::ifstream in(path, std::ios::binary);
	if (!in)
		throw std::runtime_error("missing fixture " + path);
	return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace plum::test
