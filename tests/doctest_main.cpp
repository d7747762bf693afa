#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

int main(int argc, char **argv) {
	// Unbuffered: a test killed by its timeout still shows how far it got
	// (stdout to a pipe is otherwise flushed only at exit, and Wine's C
	// runtime buffers even stderr's neighbour std::cout that way).
	std::setvbuf(stdout, nullptr, _IONBF, 0);
	return doctest::Context(argc, argv).run();
}
