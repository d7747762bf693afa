// asio's one way to raise an error it has no error_code for. A lean build
// compiles plum with ASIO_NO_EXCEPTIONS (most of it without C++ exceptions:
// see the top meson.build), and asio then leaves this hook to us. It throws,
// as asio would: this file is built with exceptions, so what asio raises
// still reaches a caller that catches, wherever exceptions can pass.
#include <asio/detail/config.hpp>

#if defined(ASIO_NO_EXCEPTIONS)

#include <asio/error.hpp>
#include <asio/execution/bad_executor.hpp>
#include <asio/execution_context.hpp>
#include <asio/ip/bad_address_cast.hpp>

#include <new>
#include <stdexcept>
#include <system_error>

namespace asio::detail {

template <typename Exception> void throw_exception(const Exception &e) { throw e; }

// The exceptions that asio can raise in plum, its tools and its tests (the
// link, with --no-undefined, names any new one).
template void throw_exception(const std::system_error &);
template void throw_exception(const std::logic_error &);
template void throw_exception(const std::out_of_range &);
template void throw_exception(const std::length_error &);
template void throw_exception(const std::bad_alloc &);
template void throw_exception(const asio::invalid_service_owner &);
template void throw_exception(const asio::service_already_exists &);
template void throw_exception(const asio::ip::bad_address_cast &);
template void throw_exception(const asio::execution::bad_executor &);

} // namespace asio::detail

#endif
