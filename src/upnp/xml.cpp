#include "upnp/xml.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace plum::upnp::xml {

namespace {

bool is_space(char c) noexcept {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A DOCTYPE may only appear in the prolog, but looking everywhere is cheap
// and cannot be fooled by a prolog we misread. A false positive (the word
// in a comment) only refuses a document no router sends.
bool has_doctype(std::string_view s) noexcept {
	constexpr std::string_view kDoctype = "<!doctype";
	for (size_t i = s.find("<!"); i != std::string_view::npos; i = s.find("<!", i + 2))
		if (iequals(s.substr(i, kDoctype.size()), kDoctype))
			return true;
	return false;
}

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept { return plum::iequals(a, b); }

std::string_view trim(std::string_view s) noexcept {
	while (!s.empty() && is_space(s.front()))
		s.remove_prefix(1);
	while (!s.empty() && is_space(s.back()))
		s.remove_suffix(1);
	return s;
}

Result<void> load(pugi::xml_document &doc, std::string_view text) {
	if (text.size() > kMaxXmlSize)
		return Error(Errc::too_large, "XML over 64 KiB");
	if (has_doctype(text))
		return Error(Errc::malformed, "XML with a DOCTYPE refused");
	// parse_default minus nothing, plus nothing: CDATA, the predefined and
	// numeric references, EOL normalisation. No parse_doctype, no PIs kept.
	// encoding_auto honours a BOM or an encoding="ISO-8859-1" declaration.
	const pugi::xml_parse_result r =
	    doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_auto);
	if (!r)
		return Error(Errc::malformed, std::string("XML: ") + r.description() + " at offset " +
		                                  std::to_string(r.offset));
	return {};
}

std::string_view local_name(const pugi::xml_node &node) noexcept {
	std::string_view n = node.name();
	if (auto colon = n.rfind(':'); colon != std::string_view::npos)
		n.remove_prefix(colon + 1);
	return n;
}

bool is(const pugi::xml_node &node, std::string_view name) noexcept {
	return node.type() == pugi::node_element && iequals(local_name(node), name);
}

pugi::xml_node child(const pugi::xml_node &node, std::string_view name) noexcept {
	for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling())
		if (is(c, name))
			return c;
	return {};
}

std::string text(const pugi::xml_node &node) {
	std::string out;
	for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling())
		if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata)
			out += c.value();
	return std::string(trim(out));
}

std::string escape(std::string_view s) {
	std::string out;
	out.reserve(s.size());
	for (char c : s) {
		switch (c) {
		case '&': out += "&amp;"; break;
		case '<': out += "&lt;"; break;
		case '>': out += "&gt;"; break;
		case '"': out += "&quot;"; break;
		case '\'': out += "&apos;"; break;
		default:
			if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
				out += "&#";
				out += std::to_string(static_cast<unsigned char>(c));
				out += ';';
			} else {
				out += c;
			}
		}
	}
	return out;
}

} // namespace plum::upnp::xml
