#include "wine.hpp"

#if defined(_WIN32)
#include <winsock2.h>

#include <windows.h>
#endif

namespace plum::test {

bool under_wine() {
#if defined(_WIN32)
	const HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
	return ntdll && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
	return false;
#endif
}

} // namespace plum::test
