// Whether the tests run under Wine rather than Windows. Wine lacks a few
// things Windows does (it reports no ICMP port unreachable to a UDP
// socket); a test that depends on one of them says which and skips there,
// and runs on Windows itself. (Defined in wine.cpp, the one test file that
// includes <windows.h>.)
#pragma once

namespace plum::test {

bool under_wine();

} // namespace plum::test
