#include "fixture.hpp"
#include "upnp/soap.hpp"
#include "upnp/upnp_errors.hpp"
#include "upnp/xml.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace plum;
using namespace plum::upnp;
using plum::test::read_fixture;

namespace {

const std::string kIp1 = "urn:schemas-upnp-org:service:WANIPConnection:1";
const std::string kIp2 = "urn:schemas-upnp-org:service:WANIPConnection:2";

// The fixed frame every request shares; the tests spell out the middle.
std::string framed(std::string_view inner) {
	return "<?xml version=\"1.0\"?>\r\n"
	       "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	       "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>" +
	       std::string(inner) + "</s:Body></s:Envelope>\r\n";
}

Result<SoapResponse> parse_fixture(const std::string &name, std::string_view action,
                                   int status = 200) {
	return parse_soap_response(read_fixture("quirks/" + name), action, status);
}

} // namespace

TEST_CASE("UPnP error category names codes") {
	CHECK(std::string(upnp_category().name()) == "UPnP");
	CHECK(upnp_category().message(718) == "ConflictInMappingEntry");
	CHECK(upnp_category().message(725) == "OnlyPermanentLeasesSupported");
	CHECK(upnp_category().message(713) == "SpecifiedArrayIndexInvalid");
	CHECK(upnp_category().message(402) == "InvalidArgs");
	CHECK(upnp_category().message(799) == "error 799");
	const std::error_code ec = UpnpError::ConflictInMappingEntry;
	CHECK(ec.value() == 718);
	CHECK(&ec.category() == &upnp_category());
	CHECK(Error(UpnpError::NoPortMapsAvailable).message() == "UPnP: NoPortMapsAvailable");
}

TEST_CASE("GetExternalIPAddress and GetStatusInfo requests, byte for byte") {
	const SoapRequest ip = build_get_external_ip(kIp1);
	CHECK(ip.soap_action ==
	      "\"urn:schemas-upnp-org:service:WANIPConnection:1#GetExternalIPAddress\"");
	CHECK(ip.body ==
	      "<?xml version=\"1.0\"?>\r\n"
	      "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	      "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
	      "<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
	      "</u:GetExternalIPAddress></s:Body></s:Envelope>\r\n");

	const SoapRequest st = build_get_status_info(kIp2);
	CHECK(st.soap_action == "\"urn:schemas-upnp-org:service:WANIPConnection:2#GetStatusInfo\"");
	CHECK(st.body == framed("<u:GetStatusInfo "
	                        "xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
	                        "</u:GetStatusInfo>"));
}

TEST_CASE("AddPortMapping and AddAnyPortMapping requests, byte for byte") {
	PortMappingArgs a;
	a.external_port = 40000;
	a.protocol = "UDP";
	a.internal_port = 5000;
	a.internal_client = "192.168.1.20";
	a.lease_duration = 3600;
	const SoapRequest add = build_add_port_mapping(kIp1, a);
	CHECK(add.soap_action == "\"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"");
	CHECK(add.body ==
	      framed("<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
	             "<NewRemoteHost></NewRemoteHost><NewExternalPort>40000</NewExternalPort>"
	             "<NewProtocol>UDP</NewProtocol><NewInternalPort>5000</NewInternalPort>"
	             "<NewInternalClient>192.168.1.20</NewInternalClient><NewEnabled>1</NewEnabled>"
	             "<NewPortMappingDescription>plum</NewPortMappingDescription>"
	             "<NewLeaseDuration>3600</NewLeaseDuration></u:AddPortMapping>"));

	a.remote_host = "198.51.100.1";
	a.protocol = "TCP";
	a.enabled = false;
	a.description = "game <\"x\"> & 'y'\tz\x01";
	a.lease_duration = 0;
	a.external_port = 0;
	const SoapRequest any = build_add_any_port_mapping(kIp2, a);
	CHECK(any.soap_action ==
	      "\"urn:schemas-upnp-org:service:WANIPConnection:2#AddAnyPortMapping\"");
	CHECK(any.body ==
	      framed("<u:AddAnyPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
	             "<NewRemoteHost>198.51.100.1</NewRemoteHost><NewExternalPort>0</NewExternalPort>"
	             "<NewProtocol>TCP</NewProtocol><NewInternalPort>5000</NewInternalPort>"
	             "<NewInternalClient>192.168.1.20</NewInternalClient><NewEnabled>0</NewEnabled>"
	             "<NewPortMappingDescription>game &lt;&quot;x&quot;&gt; &amp; &apos;y&apos; z "
	             "</NewPortMappingDescription>"
	             "<NewLeaseDuration>0</NewLeaseDuration></u:AddAnyPortMapping>"));
}

TEST_CASE("DeletePortMapping and GetSpecificPortMappingEntry requests, byte for byte") {
	const SoapRequest del = build_delete_port_mapping(kIp1, "", 40000, "TCP");
	CHECK(del.soap_action ==
	      "\"urn:schemas-upnp-org:service:WANIPConnection:1#DeletePortMapping\"");
	CHECK(del.body ==
	      framed("<u:DeletePortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
	             "<NewRemoteHost></NewRemoteHost><NewExternalPort>40000</NewExternalPort>"
	             "<NewProtocol>TCP</NewProtocol></u:DeletePortMapping>"));

	const SoapRequest get = build_get_specific_port_mapping_entry(
	    "urn:schemas-upnp-org:service:WANPPPConnection:1", "", 65535, "UDP");
	CHECK(get.soap_action ==
	      "\"urn:schemas-upnp-org:service:WANPPPConnection:1#GetSpecificPortMappingEntry\"");
	CHECK(get.body == framed("<u:GetSpecificPortMappingEntry "
	                         "xmlns:u=\"urn:schemas-upnp-org:service:WANPPPConnection:1\">"
	                         "<NewRemoteHost></NewRemoteHost><NewExternalPort>65535"
	                         "</NewExternalPort><NewProtocol>UDP</NewProtocol>"
	                         "</u:GetSpecificPortMappingEntry>"));
}

TEST_CASE("A hostile service type cannot break the SOAPAction header or the XML") {
	const SoapRequest r = build_get_external_ip("urn:x\"\r\nHost: evil\r\n<a>");
	CHECK(r.soap_action == "\"urn:xHost: evil<a>#GetExternalIPAddress\"");
	CHECK(r.body.find("xmlns:u=\"urn:x&quot;&#13;&#10;Host: evil&#13;&#10;&lt;a&gt;\"") !=
	      std::string::npos);
}

TEST_CASE("Response and fault envelopes for the mock router, byte for byte") {
	CHECK(build_response_envelope(kIp2, "AddAnyPortMapping", {{"NewReservedPort", "40123"}}) ==
	      framed("<u:AddAnyPortMappingResponse "
	             "xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
	             "<NewReservedPort>40123</NewReservedPort></u:AddAnyPortMappingResponse>"));
	CHECK(build_fault_envelope(718, "Conflict <in> mapping") ==
	      framed("<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
	             "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">"
	             "<errorCode>718</errorCode><errorDescription>Conflict &lt;in&gt; mapping"
	             "</errorDescription></UPnPError></detail></s:Fault>"));
}

TEST_CASE("Escaping round trip through a response envelope") {
	const std::string nasty = "a&b<c>d\"e'f \t g\r\nh &amp; &#60; ]]> \xE2\x98\xBA \x01\x1f";
	const std::string env = build_response_envelope(
	    kIp1, "GetSpecificPortMappingEntry",
	    {{"NewPortMappingDescription", nasty}, {"NewInternalClient", "10.0.0.2"}});
	CHECK(env.find("&amp;amp;") != std::string::npos);
	auto r = parse_soap_response(env, "GetSpecificPortMappingEntry", 200);
	REQUIRE(r.ok());
	REQUIRE(r->args.size() == 2);
	CHECK(r->args[0].first == "NewPortMappingDescription");
	CHECK(r->args[0].second == nasty);
	CHECK(*r->arg("newinternalclient") == "10.0.0.2");
	CHECK(xml::escape("<&>\"'") == "&lt;&amp;&gt;&quot;&apos;");
}

TEST_CASE("GetExternalIPAddress responses: u: prefix, no prefix, uppercase") {
	struct Case {
		const char *file;
		const char *ip;
	};
	for (const Case c : {Case{"soap_get_external_ip_u_prefix.xml", "203.0.113.45"},
	                     Case{"soap_get_external_ip_no_prefix.xml", "198.51.100.23"},
	                     Case{"soap_get_external_ip_uppercase.xml", "192.0.2.77"}}) {
		CAPTURE(c.file);
		auto r = parse_fixture(c.file, "GetExternalIPAddress");
		REQUIRE(r.ok());
		REQUIRE(r->args.size() == 1);
		CHECK(r->args[0].second == c.ip);
		auto ip = external_ip_from(*r);
		REQUIRE(ip.ok());
		CHECK(ip->to_string() == c.ip);
	}
}

TEST_CASE("External address refused when empty, 0.0.0.0 or garbage") {
	auto empty = parse_fixture("soap_get_external_ip_empty.xml", "GetExternalIPAddress");
	REQUIRE(empty.ok());
	CHECK(external_ip_from(*empty).error() == Errc::failed);
	auto zero = parse_fixture("soap_get_external_ip_zero.xml", "GetExternalIPAddress");
	REQUIRE(zero.ok());
	CHECK(external_ip_from(*zero).error() == Errc::failed);
	auto garbage = parse_fixture("soap_get_external_ip_garbage.xml", "GetExternalIPAddress");
	REQUIRE(garbage.ok());
	CHECK(external_ip_from(*garbage).error() == Errc::malformed);
	for (const char *bad : {"224.0.0.1", "255.255.255.255", "1.2.3", "01.2.3.4", " "}) {
		CAPTURE(bad);
		SoapResponse r{{{"NewExternalIPAddress", bad}}};
		CHECK_FALSE(external_ip_from(r).ok());
	}
	CHECK(external_ip_from(SoapResponse{}).error() == Errc::malformed);
}

TEST_CASE("AddPortMapping / AddAnyPortMapping success") {
	auto add = parse_fixture("soap_add_port_mapping_ok.xml", "AddPortMapping");
	REQUIRE(add.ok());
	CHECK(add->args.empty());
	auto any = parse_fixture("soap_add_any_port_mapping_ok.xml", "AddAnyPortMapping");
	REQUIRE(any.ok());
	auto port = reserved_port_from(*any);
	REQUIRE(port.ok());
	CHECK(*port == 40123);
	for (const char *bad : {"0", "65536", "-1", "12a", ""}) {
		CAPTURE(bad);
		CHECK(reserved_port_from(SoapResponse{{{"NewReservedPort", bad}}}).error() ==
		      Errc::malformed);
	}
	CHECK(*reserved_port_from(SoapResponse{{{"NEWRESERVEDPORT", "65535"}}}) == 65535);
}

TEST_CASE("GetStatusInfo and GetSpecificPortMappingEntry decoders") {
	auto st = parse_fixture("soap_get_status_info.xml", "GetStatusInfo");
	REQUIRE(st.ok());
	auto info = status_info_from(*st);
	REQUIRE(info.ok());
	CHECK(info->connection_status == "Connected");
	CHECK(info->last_error == "ERROR_NONE");
	CHECK(info->uptime == 86412);
	CHECK(status_info_from(SoapResponse{}).error() == Errc::malformed);
	auto lenient = status_info_from(
	    SoapResponse{{{"NewConnectionStatus", "Disconnected"}, {"NewUptime", "-5"}}});
	REQUIRE(lenient.ok());
	CHECK(lenient->uptime == 0);

	auto entry = parse_fixture("soap_get_specific_entry.xml", "GetSpecificPortMappingEntry");
	REQUIRE(entry.ok());
	auto e = port_mapping_entry_from(*entry);
	REQUIRE(e.ok());
	CHECK(e->internal_port == 8080);
	CHECK(e->internal_client == "192.168.1.20");
	CHECK(e->enabled);
	CHECK(e->description == "plum & <friends> \xE2\x98\xBA");
	CHECK(e->lease_duration == 3600);
}

TEST_CASE("SOAP faults become UPnP errors with their description") {
	struct Case {
		const char *file;
		UpnpError code;
		const char *desc;
	};
	for (const Case c :
	     {Case{"soap_fault_718.xml", UpnpError::ConflictInMappingEntry, "ConflictInMappingEntry"},
	      Case{"soap_fault_725.xml", UpnpError::OnlyPermanentLeasesSupported,
	           "OnlyPermanentLeasesSupported"},
	      Case{"soap_fault_402.xml", UpnpError::InvalidArgs, "Invalid Args"},
	      Case{"soap_fault_501.xml", UpnpError::ActionFailed, "Action Failed"},
	      Case{"soap_fault_606.xml", UpnpError::ActionNotAuthorized, "Action not authorized"},
	      Case{"soap_fault_714.xml", UpnpError::NoSuchEntryInArray, "NoSuchEntryInArray"}}) {
		CAPTURE(c.file);
		auto r = parse_fixture(c.file, "AddPortMapping", 500);
		REQUIRE_FALSE(r.ok());
		CHECK(r.error() == make_error_code(c.code));
		CHECK(r.error().context() == c.desc);
	}
	auto e = parse_fixture("soap_fault_718.xml", "AddPortMapping", 500);
	CHECK(e.error().message() == "UPnP: ConflictInMappingEntry: ConflictInMappingEntry");
}

TEST_CASE("A fault sent with HTTP 200 is still a fault") {
	auto r = parse_fixture("soap_fault_718_http200.xml", "AddPortMapping", 200);
	REQUIRE_FALSE(r.ok());
	CHECK(r.error() == make_error_code(UpnpError::ConflictInMappingEntry));
	CHECK(r.error().context() == "Conflict In Mapping Entry");
}

TEST_CASE("Faults and statuses without a UPnP error") {
	auto r = parse_fixture("soap_fault_without_upnperror.xml", "AddPortMapping", 500);
	REQUIRE_FALSE(r.ok());
	CHECK(r.error() == Errc::failed);
	CHECK(r.error().context() == "SOAP fault without a UPnP error code: Internal Error");

	auto ok_body_bad_status = parse_fixture("soap_add_port_mapping_ok.xml", "AddPortMapping", 500);
	REQUIRE_FALSE(ok_body_bad_status.ok());
	CHECK(ok_body_bad_status.error().context() == "HTTP 500, no SOAP fault");

	auto html = parse_soap_response("<html>Not Found</html>", "AddPortMapping", 404);
	REQUIRE_FALSE(html.ok());
	CHECK(html.error() == Errc::failed);
	CHECK(html.error().context() == "HTTP 404, body is not a SOAP envelope");
	CHECK(parse_soap_response("", "AddPortMapping", 401).error().context() ==
	      "HTTP 401, body is not XML");
}

TEST_CASE("Response for another action, or no envelope: malformed") {
	auto r = parse_fixture("soap_wrong_action.xml", "AddPortMapping");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error() == Errc::malformed);
	CHECK(r.error().context() == "expected AddPortMappingResponse, got DeletePortMappingResponse");
	CHECK(parse_soap_response("<a/>", "AddPortMapping", 200).error() == Errc::malformed);
	CHECK(parse_soap_response("<Envelope/>", "AddPortMapping", 200).error() == Errc::malformed);
	CHECK(parse_soap_response("<Envelope><Body/></Envelope>", "X", 200).error() == Errc::malformed);
	CHECK(parse_soap_response("not xml", "X", 200).error() == Errc::malformed);
}

TEST_CASE("DOCTYPE and oversized responses are refused") {
	auto r = parse_fixture("soap_doctype.xml", "AddPortMapping");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error() == Errc::malformed);
	const std::string big =
	    framed("<u:XResponse xmlns:u=\"x\"><A>" + std::string(70000, 'a') + "</A></u:XResponse>");
	CHECK(parse_soap_response(big, "X", 200).error() == Errc::too_large);
	CHECK(parse_soap_response(big, "X", 500).error() == Errc::too_large);
}

TEST_CASE("Argument lookup is case-insensitive; first of duplicates wins; odd names skipped") {
	auto r = parse_soap_response(
	    framed("<u:XResponse xmlns:u=\"x\"><NewA> 1 </NewA><newa>2</newa><m:NewB>3</m:NewB>"
	           "<C><D>4</D></C><p:1bad>5</p:1bad><!-- c --><NewE><![CDATA[<e>]]></NewE>"
	           "</u:XResponse>"),
	    "x", 200);
	REQUIRE(r.ok());
	CHECK(*r->arg("NEWA") == "1");
	CHECK(*r->arg("newb") == "3");
	CHECK(r->arg("C").has_value());
	CHECK(r->arg("C")->empty());
	CHECK_FALSE(r->arg("D").has_value());
	CHECK_FALSE(r->arg("1bad").has_value());
	CHECK(*r->arg("NewE") == "<e>");
	CHECK_FALSE(r->arg("missing").has_value());
	CHECK(r->args.size() == 5);
}

TEST_CASE("Captured miniupnpd 2.3.1 SOAP replies (lab fixtures, when present)") {
	namespace fs = std::filesystem;
	const fs::path dir = fs::path(PLUM_FIXTURES_DIR) / "miniupnpd-2.3.1";
	if (!fs::is_directory(dir))
		return;
	int parsed = 0;
	for (const auto &e : fs::directory_iterator(dir)) {
		// <igdN>-soap-<Action>[-<what>].http: a whole HTTP response.
		const std::string name = e.path().filename().string();
		const size_t at = name.find("-soap-");
		if (at == std::string::npos || e.path().extension() != ".http")
			continue;
		CAPTURE(name);
		const std::string stem = name.substr(at + 6, name.size() - at - 6 - 5);
		const std::string action = stem.substr(0, stem.find('-'));
		const std::string what =
		    stem.find('-') == std::string::npos ? std::string() : stem.substr(stem.find('-') + 1);
		const std::string raw = read_fixture("miniupnpd-2.3.1/" + name);
		const size_t head_end = raw.find("\r\n\r\n");
		REQUIRE(head_end != std::string::npos);
		REQUIRE(raw.rfind("HTTP/1.1 ", 0) == 0);
		const int status = std::stoi(raw.substr(9, 3));
		auto r = parse_soap_response(std::string_view(raw).substr(head_end + 4), action, status);
		const int expected_error = what.size() == 3 && what[0] >= '4' ? std::stoi(what) : 0;
		if (expected_error != 0) {
			REQUIRE_FALSE(r.ok());
			CHECK(r.error().code() == std::error_code(expected_error, upnp_category()));
		} else {
			REQUIRE(r.ok());
			CHECK(status == 200);
			if (action == "GetExternalIPAddress")
				CHECK(external_ip_from(*r)->to_string() == "1.2.3.4");
			if (action == "AddAnyPortMapping")
				CHECK(reserved_port_from(*r).ok());
			if (action == "GetStatusInfo")
				CHECK(status_info_from(*r)->connection_status == "Connected");
			if (action == "GetSpecificPortMappingEntry") {
				auto entry = port_mapping_entry_from(*r);
				REQUIRE(entry.ok());
				CHECK(entry->internal_port == 9000);
				CHECK(entry->internal_client == "192.168.77.2");
			}
		}
		++parsed;
	}
	MESSAGE("miniupnpd SOAP replies parsed: " << parsed);
}
