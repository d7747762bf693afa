// Whether the tests run under Wine rather than Windows. Wine lacks a few
// things Windows does (it reports no ICMP port unreachable to a UDP
// socket); a test that depends on one of them says which and skips there,
// and runs on Windows itself.
#pragma once

#if defined(_WIN32)
#include <winsock2.h>

#include <windows.h>
#endif

namespace plum::test {

inline bool under_wine() {
#if defined(_WIN32)
	const HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
	return ntdll && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
	return false;
#endif
}

} // namespace plum::test
