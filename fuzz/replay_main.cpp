// Replays a fuzz target's seed corpus without libFuzzer, so that every
// build (g++ included) runs each parser over its corpus in `meson test`.
// Usage: replay_<name> DIR_OR_FILE...
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

int replay(const std::filesystem::path &file) {
	std::ifstream in(file, std::ios::binary);
	std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(buf.data()), buf.size());
	return 1;
}

} // namespace

int main(int argc, char **argv) {
	int count = 0;
	for (int i = 1; i < argc; ++i) {
		std::filesystem::path p(argv[i]);
		if (std::filesystem::is_directory(p)) {
			for (const auto &e : std::filesystem::recursive_directory_iterator(p))
				if (e.is_regular_file())
					count += replay(e.path());
		} else {
			count += replay(p);
		}
	}
	std::printf("replayed %d inputs\n", count);
	// An empty corpus is a mistake in the tree, not a pass.
	return count > 0 ? 0 : 1;
}
