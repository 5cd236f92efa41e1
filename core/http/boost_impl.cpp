// The one translation unit that compiles Boost.Asio, Asio SSL, Boost.Beast and Boost.JSON.
// BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are set project-wide; Debian
// ships Boost.JSON headers only, and its src.hpp is meant to be included in exactly one TU.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/json/src.hpp>
