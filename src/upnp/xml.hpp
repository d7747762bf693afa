// Safe, forgiving XML reading for UPnP descriptions and SOAP bodies.
//
// What routers send is "XML-ish": element names in any case, with or
// without namespace prefixes (<s:Body>, <ns0:root>, <CONTROLURL>), values
// padded with whitespace. What they must not get from us is a way to make
// the parser do unbounded work, so:
//   - input is capped (kMaxXmlSize) before parsing;
//   - a document with a DOCTYPE is refused outright: no DTD, so no entity
//     declarations and nothing to expand ("billion laughs"); SOAP 1.1 §3
//     forbids a DTD in a message and no IGD description needs one;
//   - only the five predefined entities and numeric character references
//     are decoded (pugixml never expands anything else);
//   - every walk over the tree is bounded in depth by its caller.
#pragma once

#include "plum/result.hpp"

#include <pugixml.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace plum::upnp::xml {

inline constexpr size_t kMaxXmlSize = 64 * 1024;

// Parses text into doc. Errors: Errc::too_large (over kMaxXmlSize),
// Errc::malformed (a DOCTYPE, or not well-formed XML).
Result<void> load(pugi::xml_document &doc, std::string_view text);

// ASCII case-insensitive comparison.
bool iequals(std::string_view a, std::string_view b) noexcept;

// Strips ASCII whitespace (space, tab, CR, LF) at both ends.
std::string_view trim(std::string_view s) noexcept;

// The element name without its namespace prefix ("s:Body" -> "Body").
std::string_view local_name(const pugi::xml_node &node) noexcept;

// True for an element whose local name equals name, ignoring case.
bool is(const pugi::xml_node &node, std::string_view name) noexcept;

// The first child element named name (local name, any case); empty if none.
pugi::xml_node child(const pugi::xml_node &node, std::string_view name) noexcept;

// The concatenated text (PCDATA and CDATA) directly inside node, trimmed.
std::string text(const pugi::xml_node &node);

// Escapes text for element content or a double-quoted attribute: the five
// predefined entities, and tab/CR/LF and other control bytes as numeric
// character references, so that a value survives a parser's end-of-line
// normalisation unchanged.
std::string escape(std::string_view s);

} // namespace plum::upnp::xml
