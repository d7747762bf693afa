// The fake IGD: one thread, one io_context, a mutex around everything the
// test thread can see or change. HTTP is one request per connection, as the
// client sends it (Connection: close), and as miniupnpd answers it.
#include "fake_igd.hpp"

#include "upnp/soap.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace plum::test {

namespace {

constexpr size_t kMaxRequest = 128 * 1024;
constexpr size_t kHugePadding = 70 * 1024;
constexpr uint16_t kFirstAnyPort = 20000;

char lower(char c) {
	return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}
char upper(char c) {
	return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
}
std::string to_upper(std::string_view s) {
	std::string out(s);
	std::transform(out.begin(), out.end(), out.begin(), upper);
	return out;
}
bool iequals(std::string_view a, std::string_view b) {
	return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
	                                          [](char x, char y) { return lower(x) == lower(y); });
}
std::string_view trim(std::string_view s) {
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
		s.remove_suffix(1);
	return s;
}
std::string_view local_name(std::string_view qname) {
	const auto colon = qname.find(':');
	return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}
std::string xml_escape(std::string_view s) {
	std::string out;
	for (char c : s) {
		switch (c) {
		case '&': out += "&amp;"; break;
		case '<': out += "&lt;"; break;
		case '>': out += "&gt;"; break;
		case '"': out += "&quot;"; break;
		default: out += c;
		}
	}
	return out;
}

// Element names in the chosen style: Plain as given, Uppercase, or with a
// prefix bound on the root (Prefixed).
struct Namer {
	FakeIgd::XmlStyle style;
	std::string prefix;
	std::string operator()(std::string_view name) const {
		switch (style) {
		case FakeIgd::XmlStyle::Plain: return std::string(name);
		case FakeIgd::XmlStyle::Uppercase: return to_upper(name);
		case FakeIgd::XmlStyle::Prefixed: return prefix + ":" + std::string(name);
		}
		return std::string(name);
	}
	std::string el(std::string_view name, std::string_view content) const {
		const std::string n = (*this)(name);
		return "<" + n + ">" + std::string(content) + "</" + n + ">";
	}
};

const char *kDeviceNs = "urn:schemas-upnp-org:device-1-0";
const char *kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
const char *kSoapEncoding = "http://schemas.xmlsoap.org/soap/encoding/";

} // namespace

std::string FakeIgd::Action::arg(std::string_view name) const {
	for (const auto &[n, v] : args)
		if (iequals(n, name))
			return v;
	return {};
}

// Handlers capture the Impl by pointer: it owns the io_context, whose
// destruction (after the thread is joined) destroys every pending handler
// and the sessions they hold.
struct FakeIgd::Impl {
	struct Session;

	asio::io_context io;
	asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
	asio::ip::udp::socket ssdp{io};
	asio::ip::udp::socket ssdp_alt{io};
	asio::ip::tcp::acceptor acceptor{io};
	asio::ip::tcp::acceptor trap{io};
	std::array<char, 2048> ssdp_buf{};
	asio::ip::udp::endpoint ssdp_sender;
	uint16_t ssdp_port = 0, http_port = 0;
	std::thread thread;

	mutable std::mutex m;
	// Knobs.
	int version = 2;
	uint32_t boot_id = 1700000000;
	Services services = Services::WanIp;
	bool wanip_connected = true;
	std::map<std::string, std::pair<int, int>> failures; // action -> (code, count)
	bool permanent_only = false;
	ReplyStyle description_style, soap_style;
	std::map<std::string, std::chrono::milliseconds> port_delays; // NewExternalPort -> delay
	XmlStyle xml_style = XmlStyle::Plain;
	ControlUrl control_url = ControlUrl::AbsolutePath;
	bool url_base = false;
	std::string location_host;
	bool ssdp_other_port = false, ssdp_silent = false;
	asio::ip::address_v4 external_ip = asio::ip::make_address_v4("203.0.113.7");
	std::string description_xml;
	// State.
	std::map<std::pair<uint16_t, std::string>, Mapping> table;
	std::vector<Action> actions;
	size_t ssdp_searches = 0, description_requests = 0;
	std::set<asio::ip::udp::endpoint> ssdp_sources;
	size_t connections = 0, open = 0, max_open = 0, trap_connections = 0;

	void start() {
		const auto lo = asio::ip::make_address_v4("127.0.0.1");
		ssdp.open(asio::ip::udp::v4());
		ssdp.bind({lo, 0});
		ssdp_alt.open(asio::ip::udp::v4());
		ssdp_alt.bind({lo, 0});
		acceptor.open(asio::ip::tcp::v4());
		acceptor.set_option(asio::socket_base::reuse_address(true));
		acceptor.bind({lo, 0});
		acceptor.listen();
		ssdp_port = ssdp.local_endpoint().port();
		http_port = acceptor.local_endpoint().port();
		// The trap: where a LOCATION on "another host" would lead. Best
		// effort; a test that needs it checks trap_connections().
		std::error_code ec;
		trap.open(asio::ip::tcp::v4(), ec);
		if (!ec)
			trap.bind({asio::ip::make_address_v4("127.0.0.2"), http_port}, ec);
		if (!ec)
			trap.listen(asio::socket_base::max_listen_connections, ec);
		if (!ec)
			accept_trap();
		receive_ssdp();
		accept();
		thread = std::thread([this] { io.run(); });
	}

	void stop() {
		asio::post(io, [self = this] {
			std::error_code ignored;
			self->ssdp.close(ignored);
			self->ssdp_alt.close(ignored);
			self->acceptor.close(ignored);
			self->trap.close(ignored);
			self->work.reset();
			self->io.stop();
		});
		if (thread.joinable())
			thread.join();
	}

	// --- SSDP ---

	void receive_ssdp() {
		ssdp.async_receive_from(asio::buffer(ssdp_buf), ssdp_sender,
		                        [self = this](std::error_code ec, size_t n) {
			                        if (ec == asio::error::operation_aborted)
				                        return;
			                        if (!ec)
				                        self->on_ssdp(std::string_view(self->ssdp_buf.data(), n));
			                        self->receive_ssdp();
		                        });
	}

	void on_ssdp(std::string_view datagram) {
		if (datagram.substr(0, 9) != "M-SEARCH ")
			return;
		std::string st;
		size_t pos = 0;
		while (pos < datagram.size()) {
			size_t end = datagram.find('\n', pos);
			if (end == std::string_view::npos)
				end = datagram.size();
			const std::string_view line = datagram.substr(pos, end - pos);
			pos = end + 1;
			const auto colon = line.find(':');
			if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "ST"))
				st = std::string(trim(line.substr(colon + 1)));
		}
		std::string reply;
		bool other_port = false;
		{
			std::lock_guard lock(m);
			++ssdp_searches;
			ssdp_sources.insert(ssdp_sender);
			if (ssdp_silent)
				return;
			// Like miniupnpd: answer the device type we are, not the others.
			const std::string device =
			    "urn:schemas-upnp-org:device:InternetGatewayDevice:" + std::to_string(version);
			if (st != device)
				return;
			other_port = ssdp_other_port;
			const std::string host = location_host.empty() ? "127.0.0.1" : location_host;
			reply = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: " + st +
			        "\r\nUSN: uuid:00000000-0000-0000-0000-00000000f00d::" + st +
			        "\r\nEXT:\r\nSERVER: plum-test/1 UPnP/1.1 FakeIgd/1\r\nLOCATION: http://" +
			        host + ":" + std::to_string(http_port) +
			        "/rootDesc.xml\r\nBOOTID.UPNP.ORG: " + std::to_string(boot_id) + "\r\n\r\n";
		}
		std::error_code ignored;
		(other_port ? ssdp_alt : ssdp).send_to(asio::buffer(reply), ssdp_sender, 0, ignored);
	}

	// --- HTTP ---

	void accept_trap() {
		trap.async_accept([self = this](std::error_code ec, asio::ip::tcp::socket s) {
			if (ec == asio::error::operation_aborted)
				return;
			if (!ec) {
				std::lock_guard lock(self->m);
				++self->trap_connections;
			}
			std::error_code ignored;
			s.close(ignored);
			self->accept_trap();
		});
	}

	void accept() {
		acceptor.async_accept([self = this](std::error_code ec, asio::ip::tcp::socket s) {
			if (ec == asio::error::operation_aborted)
				return;
			if (!ec) {
				{
					std::lock_guard lock(self->m);
					++self->connections;
					++self->open;
					self->max_open = std::max(self->max_open, self->open);
				}
				auto session = std::make_shared<Session>(self, std::move(s));
				session->read();
			}
			self->accept();
		});
	}

	struct Session : std::enable_shared_from_this<Session> {
		Session(Impl *owner_, asio::ip::tcp::socket s)
		    : owner(owner_), socket(std::move(s)), timer(owner->io) {}

		void read() {
			socket.async_read_some(asio::buffer(buf),
			                       [self = shared_from_this()](std::error_code ec, size_t n) {
				                       if (ec)
					                       return self->close();
				                       self->in.append(self->buf.data(), n);
				                       if (self->in.size() > kMaxRequest)
					                       return self->close();
				                       if (!self->try_handle())
					                       self->read();
			                       });
		}

		// True once a whole request is in (and is being answered).
		bool try_handle() {
			const auto head_end = in.find("\r\n\r\n");
			if (head_end == std::string::npos)
				return false;
			const std::string_view head(in.data(), head_end);
			size_t content_length = 0;
			std::string method, path, soap_action;
			size_t pos = 0;
			bool first = true;
			while (pos <= head.size()) {
				size_t end = head.find("\r\n", pos);
				if (end == std::string_view::npos)
					end = head.size();
				const std::string_view line = head.substr(pos, end - pos);
				pos = end + 2;
				if (first) {
					first = false;
					const auto sp1 = line.find(' ');
					const auto sp2 = line.find(' ', sp1 + 1);
					if (sp1 == std::string_view::npos || sp2 == std::string_view::npos)
						break;
					method = std::string(line.substr(0, sp1));
					path = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
					continue;
				}
				const auto colon = line.find(':');
				if (colon == std::string_view::npos)
					continue;
				const auto name = trim(line.substr(0, colon));
				const auto value = trim(line.substr(colon + 1));
				if (iequals(name, "Content-Length"))
					content_length = size_t(std::stoul(std::string(value)));
				else if (iequals(name, "SOAPAction"))
					soap_action = std::string(value);
			}
			const size_t body_start = head_end + 4;
			if (in.size() < body_start + content_length)
				return false;
			const std::string body = in.substr(body_start, content_length);
			owner->handle(shared_from_this(), method, path, soap_action, body);
			return true;
		}

		// Sends status + body in the given style, then closes.
		void reply(int status, std::string content_type, std::string body, ReplyStyle style) {
			if (style.huge)
				body += "<!--" + std::string(kHugePadding, 'x') + "-->";
			std::string head =
			    "HTTP/1.1 " + std::to_string(status) +
			    (status == 200   ? " OK"
			     : status == 404 ? " Not Found"
			                     : " Internal Server Error") +
			    "\r\nContent-Type: " + content_type +
			    "\r\nConnection: close\r\nServer: plum-test/1 UPnP/1.1 FakeIgd/1\r\n";
			if (style.chunked) {
				head += "Transfer-Encoding: chunked\r\n\r\n";
				// Small, odd-sized chunks, so a parser sees many boundaries.
				constexpr size_t kChunk = 77;
				for (size_t i = 0; i < body.size(); i += kChunk) {
					const size_t n = std::min(kChunk, body.size() - i);
					char size_line[16];
					std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
					head += size_line;
					head.append(body, i, n);
					head += "\r\n";
				}
				head += "0\r\n\r\n";
				out = std::move(head);
			} else {
				head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
				if (style.truncate)
					body.resize(body.size() / 2);
				out = std::move(head) + body;
			}
			if (style.delay.count() > 0) {
				timer.expires_after(style.delay);
				timer.async_wait([self = shared_from_this()](std::error_code ec) {
					if (ec)
						return self->close();
					self->write();
				});
			} else {
				write();
			}
		}

		void write() {
			asio::async_write(
			    socket, asio::buffer(out),
			    [self = shared_from_this()](std::error_code, size_t) { self->close(); });
		}

		void close() {
			if (closed)
				return;
			closed = true;
			std::error_code ignored;
			socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
			socket.close(ignored);
			std::lock_guard lock(owner->m);
			--owner->open;
		}

		Impl *owner;
		asio::ip::tcp::socket socket;
		asio::steady_timer timer;
		std::array<char, 4096> buf{};
		std::string in, out;
		bool closed = false;
	};

	// --- the device ---

	struct ServiceInfo {
		std::string type, path, id;
		bool connected = true;
	};

	// Under m.
	std::vector<ServiceInfo> service_list() const {
		const std::string wanip =
		    "urn:schemas-upnp-org:service:WANIPConnection:" + std::to_string(version);
		const std::string wanppp = "urn:schemas-upnp-org:service:WANPPPConnection:1";
		switch (services) {
		case Services::WanIp:
			return {{wanip, "/ctl/IPConn", "urn:upnp-org:serviceId:WANIPConn1", true}};
		case Services::WanPppOnly:
			return {{wanppp, "/ctl/PPPConn", "urn:upnp-org:serviceId:WANPPPConn1", true}};
		case Services::WanIpAndPpp:
			return {
			    {wanip, "/ctl/IPConn", "urn:upnp-org:serviceId:WANIPConn1", wanip_connected},
			    {wanppp, "/ctl/PPPConn", "urn:upnp-org:serviceId:WANPPPConn1", !wanip_connected}};
		}
		return {};
	}

	std::string base_url() const { return "http://127.0.0.1:" + std::to_string(http_port); }

	// Under m.
	std::string description() const {
		if (!description_xml.empty())
			return description_xml;
		const Namer n{xml_style, "dev"};
		const std::string v = std::to_string(version);
		std::string conn_devices;
		for (const auto &s : service_list()) {
			std::string url = s.path;
			if (control_url == ControlUrl::Relative)
				url = s.path.substr(1);
			else if (control_url == ControlUrl::Absolute)
				url = base_url() + s.path;
			const std::string service =
			    n.el("service", n.el("serviceType", s.type) + n.el("serviceId", s.id) +
			                        n.el("SCPDURL", s.path + ".xml") + n.el("controlURL", url) +
			                        n.el("eventSubURL", "/evt" + s.path.substr(4)));
			conn_devices +=
			    n.el("device",
			         n.el("deviceType", "urn:schemas-upnp-org:device:WANConnectionDevice:" + v) +
			             n.el("friendlyName", "WANConnectionDevice") +
			             n.el("UDN", "uuid:00000000-0000-0000-0000-00000000f003") +
			             n.el("serviceList", service));
		}
		const std::string wan_device =
		    n.el("device", n.el("deviceType", "urn:schemas-upnp-org:device:WANDevice:" + v) +
		                       n.el("friendlyName", "WANDevice") +
		                       n.el("UDN", "uuid:00000000-0000-0000-0000-00000000f002") +
		                       n.el("deviceList", conn_devices));
		const std::string root_device =
		    n.el("device",
		         n.el("deviceType", "urn:schemas-upnp-org:device:InternetGatewayDevice:" + v) +
		             n.el("friendlyName", "plum fake IGD") + n.el("manufacturer", "plum tests") +
		             n.el("modelName", "FakeIgd") + n.el("modelNumber", v) +
		             n.el("UDN", "uuid:00000000-0000-0000-0000-00000000f001") +
		             n.el("deviceList", wan_device));
		const std::string root_name = n("root");
		const std::string ns = xml_style == XmlStyle::Prefixed
		                           ? std::string(" xmlns:dev=\"") + kDeviceNs + "\""
		                           : std::string(" xmlns=\"") + kDeviceNs + "\"";
		std::string body = n.el("specVersion", n.el("major", "1") + n.el("minor", "1"));
		if (url_base)
			body += n.el("URLBase", base_url() + "/");
		return "<?xml version=\"1.0\"?>\r\n<" + root_name + ns + ">" + body + root_device + "</" +
		       root_name + ">";
	}

	// A SOAP envelope around one body element, in the XML style.
	std::string envelope(const std::string &inner) const {
		switch (xml_style) {
		case XmlStyle::Plain:
			return std::string("<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"") + kSoapNs +
			       "\" s:encodingStyle=\"" + kSoapEncoding + "\"><s:Body>" + inner +
			       "</s:Body></s:Envelope>";
		case XmlStyle::Uppercase:
			return std::string("<?xml version=\"1.0\"?>\r\n<SOAP-ENV:ENVELOPE xmlns:SOAP-ENV=\"") +
			       kSoapNs + "\" SOAP-ENV:encodingStyle=\"" + kSoapEncoding + "\"><SOAP-ENV:BODY>" +
			       inner + "</SOAP-ENV:BODY></SOAP-ENV:ENVELOPE>";
		case XmlStyle::Prefixed:
			return std::string("<?xml version=\"1.0\"?>\r\n<soapenv:Envelope xmlns:soapenv=\"") +
			       kSoapNs + "\" soapenv:encodingStyle=\"" + kSoapEncoding + "\"><soapenv:Body>" +
			       inner + "</soapenv:Body></soapenv:Envelope>";
		}
		return {};
	}

	// Under m.
	std::string soap_response(const std::string &service_type, const std::string &action,
	                          const upnp::SoapArgs &args) const {
		if (xml_style == XmlStyle::Plain)
			return upnp::build_response_envelope(service_type, action, args);
		const bool up = xml_style == XmlStyle::Uppercase;
		const std::string p = up ? "U:" : "m:";
		const std::string name = p + (up ? to_upper(action + "Response") : action + "Response");
		std::string inner =
		    "<" + name + " xmlns:" + p.substr(0, 1) + "=\"" + xml_escape(service_type) + "\">";
		for (const auto &[k, v] : args) {
			const std::string el = up ? to_upper(k) : p + k;
			inner += "<" + el + ">" + xml_escape(v) + "</" + el + ">";
		}
		inner += "</" + name + ">";
		return envelope(inner);
	}

	// Under m.
	std::string soap_fault(int code) const {
		const char *name = code == 718 ? "ConflictInMappingEntry" : "Error";
		if (xml_style == XmlStyle::Plain)
			return upnp::build_fault_envelope(code, name);
		const Namer n{xml_style, "e"};
		const std::string detail =
		    "<" + n("UPnPError") + (xml_style == XmlStyle::Prefixed ? " xmlns:e=" : " xmlns=") +
		    "\"urn:schemas-upnp-org:control-1-0\">" + n.el("errorCode", std::to_string(code)) +
		    n.el("errorDescription", name) + "</" + n("UPnPError") + ">";
		const std::string s = xml_style == XmlStyle::Uppercase ? "SOAP-ENV:" : "soapenv:";
		const std::string fault_name = s + (xml_style == XmlStyle::Uppercase ? "FAULT" : "Fault");
		const Namer plain{xml_style == XmlStyle::Uppercase ? XmlStyle::Uppercase : XmlStyle::Plain,
		                  ""};
		return envelope("<" + fault_name + ">" + plain.el("faultcode", s + "Client") +
		                plain.el("faultstring", "UPnPError") + plain.el("detail", detail) + "</" +
		                fault_name + ">");
	}

	void handle(const std::shared_ptr<Session> &session, const std::string &method,
	            const std::string &path, const std::string &soap_action, const std::string &body) {
		std::unique_lock lock(m);
		if (method == "GET" && path == "/rootDesc.xml") {
			++description_requests;
			const auto style = description_style;
			std::string xml = description();
			lock.unlock();
			return session->reply(200, "text/xml; charset=\"utf-8\"", std::move(xml), style);
		}
		const auto list = service_list();
		const auto service = std::find_if(list.begin(), list.end(),
		                                  [&](const ServiceInfo &s) { return s.path == path; });
		if (method != "POST" || service == list.end()) {
			lock.unlock();
			return session->reply(404, "text/plain", "not found", {});
		}
		// SOAPAction: "urn:schemas-upnp-org:service:WANIPConnection:2#AddPortMapping"
		std::string sa = soap_action;
		if (sa.size() >= 2 && sa.front() == '"' && sa.back() == '"')
			sa = sa.substr(1, sa.size() - 2);
		const auto hash = sa.find('#');
		Action action;
		action.path = path;
		if (hash != std::string::npos) {
			action.service_type = sa.substr(0, hash);
			action.name = sa.substr(hash + 1);
		}
		pugi::xml_document doc;
		if (doc.load_buffer(body.data(), body.size())) {
			pugi::xml_node env = doc.document_element();
			for (pugi::xml_node b = env.first_child(); b; b = b.next_sibling()) {
				if (b.type() != pugi::node_element || local_name(b.name()) != "Body")
					continue;
				pugi::xml_node call = b.first_child();
				while (call && call.type() != pugi::node_element)
					call = call.next_sibling();
				for (pugi::xml_node a = call.first_child(); a; a = a.next_sibling())
					if (a.type() == pugi::node_element)
						action.args.emplace_back(std::string(local_name(a.name())), a.text().get());
			}
		}
		actions.push_back(action);

		const auto [status, xml] = perform(action, *service);
		auto style = soap_style;
		if (auto d = port_delays.find(action.arg("NewExternalPort")); d != port_delays.end())
			style.delay = d->second;
		lock.unlock();
		session->reply(status, "text/xml; charset=\"utf-8\"", xml, style);
	}

	// Under m: the action's effect and reply (status, body).
	std::pair<int, std::string> perform(const Action &a, const ServiceInfo &service) {
		const auto fault = [&](int code) {
			return std::pair<int, std::string>(500, soap_fault(code));
		};
		const auto ok = [&](const upnp::SoapArgs &args) {
			return std::pair<int, std::string>(200, soap_response(service.type, a.name, args));
		};
		if (auto f = failures.find(a.name); f != failures.end() && f->second.second > 0) {
			--f->second.second;
			return fault(f->second.first);
		}
		// long long: a lease reaches 0xffffffff, past a 32-bit (Windows) long.
		const auto number = [](const std::string &s, long long max) -> long long {
			if (s.empty() || s.size() > 10 ||
			    !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
				return -1;
			const long long v = std::stoll(s);
			return v > max ? -1 : v;
		};
		const bool v2 = service.type.find("WANIPConnection:2") != std::string::npos;

		if (a.name == "GetExternalIPAddress")
			return ok({{"NewExternalIPAddress", external_ip.to_string()}});
		if (a.name == "GetStatusInfo")
			return ok({{"NewConnectionStatus", service.connected ? "Connected" : "Disconnected"},
			           {"NewLastConnectionError", "ERROR_NONE"},
			           {"NewUptime", "42"}});
		if (a.name == "AddPortMapping" || a.name == "AddAnyPortMapping") {
			const bool any = a.name == "AddAnyPortMapping";
			if (any && !v2)
				return fault(401); // not in WANIPConnection:1 / WANPPPConnection:1
			const long long ext = number(a.arg("NewExternalPort"), 65535);
			const long long internal = number(a.arg("NewInternalPort"), 65535);
			const long long lease = number(a.arg("NewLeaseDuration"), 0xffffffffLL);
			const std::string proto = a.arg("NewProtocol");
			if (ext < 0 || internal <= 0 || lease < 0 || (proto != "TCP" && proto != "UDP") ||
			    a.arg("NewInternalClient").empty())
				return fault(402);
			if (ext == 0)
				return fault(716); // miniupnpd: no wildcard external port
			if (permanent_only && lease != 0)
				return fault(725);
			Mapping mp;
			mp.remote_host = a.arg("NewRemoteHost");
			mp.protocol = proto;
			mp.internal_port = uint16_t(internal);
			mp.internal_client = a.arg("NewInternalClient");
			mp.enabled = a.arg("NewEnabled") != "0";
			mp.description = a.arg("NewPortMappingDescription");
			mp.lease = uint32_t(lease);
			const auto holder = [&](uint16_t port) -> const Mapping * {
				auto it = table.find({port, proto});
				return it == table.end() ? nullptr : &it->second;
			};
			const auto ours = [&](const Mapping *h) {
				return h->internal_client == mp.internal_client &&
				       h->internal_port == mp.internal_port;
			};
			uint16_t port = uint16_t(ext);
			if (const Mapping *h = holder(port); h && !ours(h)) {
				if (!any)
					return fault(718);
				// AddAnyPortMapping: the next free port from kFirstAnyPort.
				port = 0;
				for (uint32_t p = kFirstAnyPort; p <= 65535 && port == 0; ++p)
					if (const Mapping *o = holder(uint16_t(p)); !o || ours(o))
						port = uint16_t(p);
				if (port == 0)
					return fault(728);
			}
			mp.external_port = port;
			table[{port, proto}] = mp;
			if (any)
				return ok({{"NewReservedPort", std::to_string(port)}});
			return ok({});
		}
		if (a.name == "DeletePortMapping") {
			const long long ext = number(a.arg("NewExternalPort"), 65535);
			if (ext <= 0)
				return fault(402);
			if (table.erase({uint16_t(ext), a.arg("NewProtocol")}) == 0)
				return fault(714);
			return ok({});
		}
		if (a.name == "GetSpecificPortMappingEntry") {
			const long long ext = number(a.arg("NewExternalPort"), 65535);
			auto it = table.find({uint16_t(ext < 0 ? 0 : ext), a.arg("NewProtocol")});
			if (it == table.end())
				return fault(714);
			const Mapping &mp = it->second;
			return ok({{"NewInternalPort", std::to_string(mp.internal_port)},
			           {"NewInternalClient", mp.internal_client},
			           {"NewEnabled", mp.enabled ? "1" : "0"},
			           {"NewPortMappingDescription", mp.description},
			           {"NewLeaseDuration", std::to_string(mp.lease)}});
		}
		return fault(401);
	}
};

FakeIgd::FakeIgd() : impl_(std::make_unique<Impl>()) {
	impl_->start();
}

FakeIgd::~FakeIgd() {
	impl_->stop();
}

uint16_t FakeIgd::ssdp_port() const {
	return impl_->ssdp_port;
}
uint16_t FakeIgd::http_port() const {
	return impl_->http_port;
}
asio::ip::udp::endpoint FakeIgd::ssdp_endpoint() const {
	return {asio::ip::make_address_v4("127.0.0.1"), impl_->ssdp_port};
}
std::string FakeIgd::location() const {
	return impl_->base_url() + "/rootDesc.xml";
}

#define PLUM_FAKE_SET(field, value)                                                                \
	do {                                                                                           \
		std::lock_guard lock(impl_->m);                                                            \
		impl_->field = value;                                                                      \
	} while (0)

void FakeIgd::set_igd_version(int version) {
	PLUM_FAKE_SET(version, version);
}
void FakeIgd::set_services(Services services) {
	PLUM_FAKE_SET(services, services);
}
void FakeIgd::set_wanip_connected(bool connected) {
	PLUM_FAKE_SET(wanip_connected, connected);
}
void FakeIgd::fail_next(std::string action, int code, int count) {
	PLUM_FAKE_SET(failures[std::move(action)], std::make_pair(code, count));
}
void FakeIgd::set_permanent_only(bool on) {
	PLUM_FAKE_SET(permanent_only, on);
}
void FakeIgd::set_description_style(ReplyStyle style) {
	PLUM_FAKE_SET(description_style, style);
}
void FakeIgd::set_soap_style(ReplyStyle style) {
	PLUM_FAKE_SET(soap_style, style);
}
void FakeIgd::set_port_delay(uint16_t port, std::chrono::milliseconds delay) {
	std::lock_guard lock(impl_->m);
	if (delay.count() > 0)
		impl_->port_delays[std::to_string(port)] = delay;
	else
		impl_->port_delays.erase(std::to_string(port));
}
void FakeIgd::set_xml_style(XmlStyle style) {
	PLUM_FAKE_SET(xml_style, style);
}
void FakeIgd::set_control_url(ControlUrl mode) {
	PLUM_FAKE_SET(control_url, mode);
}
void FakeIgd::set_url_base(bool present) {
	PLUM_FAKE_SET(url_base, present);
}
void FakeIgd::set_location_host(std::string host) {
	PLUM_FAKE_SET(location_host, std::move(host));
}
void FakeIgd::set_ssdp_from_other_port(bool on) {
	PLUM_FAKE_SET(ssdp_other_port, on);
}
void FakeIgd::set_ssdp_silent(bool on) {
	PLUM_FAKE_SET(ssdp_silent, on);
}
void FakeIgd::set_external_ip(asio::ip::address_v4 address) {
	PLUM_FAKE_SET(external_ip, address);
}
void FakeIgd::set_description_xml(std::string xml) {
	PLUM_FAKE_SET(description_xml, std::move(xml));
}
void FakeIgd::restart() {
	std::lock_guard lock(impl_->m);
	impl_->table.clear();
	++impl_->boot_id;
}

uint32_t FakeIgd::boot_id() const {
	std::lock_guard lock(impl_->m);
	return impl_->boot_id;
}

#undef PLUM_FAKE_SET

std::vector<FakeIgd::Mapping> FakeIgd::mappings() const {
	std::lock_guard lock(impl_->m);
	std::vector<Mapping> out;
	for (const auto &[key, mp] : impl_->table)
		out.push_back(mp);
	return out;
}

std::optional<FakeIgd::Mapping> FakeIgd::mapping(uint16_t external_port,
                                                 std::string_view protocol) const {
	std::lock_guard lock(impl_->m);
	auto it = impl_->table.find({external_port, std::string(protocol)});
	if (it == impl_->table.end())
		return std::nullopt;
	return it->second;
}

std::vector<FakeIgd::Action> FakeIgd::actions() const {
	std::lock_guard lock(impl_->m);
	return impl_->actions;
}

size_t FakeIgd::count(std::string_view action) const {
	std::lock_guard lock(impl_->m);
	return size_t(std::count_if(impl_->actions.begin(), impl_->actions.end(),
	                            [&](const Action &a) { return a.name == action; }));
}

size_t FakeIgd::ssdp_searches() const {
	std::lock_guard lock(impl_->m);
	return impl_->ssdp_searches;
}

size_t FakeIgd::ssdp_searchers() const {
	std::lock_guard lock(impl_->m);
	return impl_->ssdp_sources.size();
}
size_t FakeIgd::description_requests() const {
	std::lock_guard lock(impl_->m);
	return impl_->description_requests;
}
size_t FakeIgd::http_connections() const {
	std::lock_guard lock(impl_->m);
	return impl_->connections;
}
size_t FakeIgd::open_connections() const {
	std::lock_guard lock(impl_->m);
	return impl_->open;
}
size_t FakeIgd::max_open_connections() const {
	std::lock_guard lock(impl_->m);
	return impl_->max_open;
}
size_t FakeIgd::trap_connections() const {
	std::lock_guard lock(impl_->m);
	return impl_->trap_connections;
}

} // namespace plum::test
