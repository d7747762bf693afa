#include "options.hpp"

#include "net/address.hpp"
#include <asio/ip/address_v4.hpp>

#include <charconv>
#include <string_view>

namespace plum::plumc {

namespace {

// A decimal number in [lo, hi], digits only: "08080" is fine, "+80",
// "80 " and "0x50" are not (strtoul would take them).
std::optional<uint64_t> parse_number(std::string_view text, uint64_t lo, uint64_t hi) {
	if (text.empty() || text.size() > 10)
		return std::nullopt;
	for (char c : text)
		if (c < '0' || c > '9')
			return std::nullopt;
	uint64_t v = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
	if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
		return std::nullopt;
	return v;
}

bool is_ipv4(const std::string &text) {
	std::error_code ec;
	(void)net::parse_address_v4(text, ec);
	return !ec;
}

std::string quoted(std::string_view s) {
	return "'" + std::string(s) + "'";
}

// Collects the first problem and keeps scanning, so that `--help` anywhere
// on the line still wins over a mistake elsewhere on it.
struct Parser {
	Options o;
	std::optional<std::string> error;
	std::vector<std::string> positional;

	void fail(std::string message) {
		if (!error)
			error = std::move(message);
	}

	void protocol_list(std::string_view list) {
		while (true) {
			const size_t comma = list.find(',');
			const std::string_view name = list.substr(0, comma);
			if (name == "pcp")
				o.protocols |= kUsePcp;
			else if (name == "natpmp" || name == "nat-pmp")
				o.protocols |= kUseNatPmp;
			else if (name == "upnp")
				o.protocols |= kUseUpnp;
			else
				return fail("--protocol: expected pcp, natpmp or upnp, got " + quoted(name));
			if (comma == std::string_view::npos)
				return;
			list.remove_prefix(comma + 1);
		}
	}

	void ssdp(const std::string &value) {
		// ADDR or ADDR:PORT (IPv4 only, so the last colon separates the port).
		const size_t colon = value.rfind(':');
		std::string address = value.substr(0, colon);
		if (!is_ipv4(address))
			return fail("--ssdp: expected ADDR[:PORT] with an IPv4 address, got " + quoted(value));
		o.ssdp_address = address;
		if (colon != std::string::npos) {
			auto port = parse_number(std::string_view(value).substr(colon + 1), 1, 65535);
			if (!port)
				return fail("--ssdp: bad port in " + quoted(value) + " (1-65535)");
			o.ssdp_port = static_cast<uint16_t>(*port);
		}
	}

	void option_value(std::string_view name, const std::string &value) {
		if (name == "--gateway" || name == "--local") {
			if (!is_ipv4(value))
				return fail(std::string(name) + ": not an IPv4 address: " + quoted(value));
			(name == "--gateway" ? o.gateway : o.local) = value;
		} else if (name == "--protocol") {
			protocol_list(value);
		} else if (name == "--pcp-port" || name == "--announce-port") {
			auto port = parse_number(value, 1, 65535);
			if (!port)
				return fail(std::string(name) + ": bad port " + quoted(value) + " (1-65535)");
			(name == "--pcp-port" ? o.pcp_port : o.announce_port) = static_cast<uint16_t>(*port);
		} else if (name == "--ssdp") {
			ssdp(value);
		} else if (name == "--timeout") {
			auto ms = parse_number(value, 1, 3600000);
			if (!ms)
				return fail("--timeout: expected milliseconds (1-3600000), got " + quoted(value));
			o.timeout = std::chrono::milliseconds(*ms);
		} else if (name == "--lifetime") {
			auto s = parse_number(value, 1, UINT32_MAX);
			if (!s)
				return fail("--lifetime: expected seconds (1-4294967295), got " + quoted(value));
			o.lifetime = static_cast<uint32_t>(*s);
		}
	}

	static bool takes_value(std::string_view name) {
		return name == "--gateway" || name == "--local" || name == "--protocol" ||
		       name == "--pcp-port" || name == "--announce-port" || name == "--ssdp" ||
		       name == "--timeout" || name == "--lifetime";
	}

	void scan(const std::vector<std::string> &args) {
		bool only_positional = false;
		for (size_t i = 0; i < args.size(); ++i) {
			const std::string &a = args[i];
			if (only_positional || a.size() < 2 || a[0] != '-') {
				positional.push_back(a);
				continue;
			}
			if (a == "--") {
				only_positional = true;
			} else if (a == "--help" || a == "-h") {
				o.help = true;
			} else if (a == "--version" || a == "-V") {
				o.version = true;
			} else if (a == "--json") {
				o.json = true;
			} else if (a == "--hold") {
				o.hold = true;
			} else if (a == "--verbose") {
				++o.verbosity;
			} else if (a.find_first_not_of('v', 1) == std::string::npos) {
				o.verbosity += static_cast<int>(a.size() - 1); // -v, -vv, -vvv
			} else {
				const size_t eq = a.find('=');
				const std::string name = a.substr(0, eq);
				if (!takes_value(name)) {
					fail("unknown option " + quoted(a));
				} else if (eq != std::string::npos) {
					option_value(name, a.substr(eq + 1));
				} else if (i + 1 < args.size()) {
					option_value(name, args[++i]);
				} else {
					fail(name + " needs a value");
				}
			}
		}
	}

	void mapping_arguments(const char *command) {
		const std::string cmd = command;
		if (positional.size() < 2)
			return fail(cmd + ": expected tcp|udp and the internal port");
		if (positional.size() > 4)
			return fail(cmd + ": unexpected argument " + quoted(positional[4]));
		const std::string &proto = positional[1];
		if (proto == "tcp" || proto == "TCP")
			o.protocol = IpProtocol::Tcp;
		else if (proto == "udp" || proto == "UDP")
			o.protocol = IpProtocol::Udp;
		else
			return fail(cmd + ": expected tcp or udp, got " + quoted(proto));
		if (positional.size() < 3)
			return fail(cmd + ": missing the internal port");
		auto internal = parse_number(positional[2], 1, 65535);
		if (!internal)
			return fail(cmd + ": bad internal port " + quoted(positional[2]) + " (1-65535)");
		o.internal_port = static_cast<uint16_t>(*internal);
		if (positional.size() == 4) {
			// 0 asks for any port; a number is a hint the router may refuse.
			auto external = parse_number(positional[3], 0, 65535);
			if (!external)
				return fail(cmd + ": bad external port " + quoted(positional[3]) + " (0-65535)");
			o.external_port = static_cast<uint16_t>(*external);
		}
	}

	void command() {
		if (positional.empty())
			return fail("no command given");
		const std::string &c = positional[0];
		if (c == "map") {
			o.command = Command::Map;
			mapping_arguments("map");
		} else if (c == "unmap") {
			o.command = Command::Unmap;
			mapping_arguments("unmap");
		} else if (c == "probe" || c == "local-address" || c == "status") {
			o.command = c == "probe"           ? Command::Probe
			            : c == "local-address" ? Command::LocalAddress
			                                   : Command::Status;
			if (positional.size() > 1)
				fail(c + ": unexpected argument " + quoted(positional[1]));
		} else {
			return fail("unknown command " + quoted(c));
		}
		if (o.hold && o.command != Command::Map)
			fail("--hold applies to map only");
		if (o.lifetime && o.command != Command::Map)
			fail("--lifetime applies to map only");
	}
};

} // namespace

Result<Options> parse_options(const std::vector<std::string> &args) {
	Parser p;
	p.scan(args);
	if (p.o.help || p.o.version)
		return p.o;
	p.command();
	if (p.error)
		return Error(Errc::invalid_argument, *p.error);
	return p.o;
}

std::string usage_text() {
	return R"(usage: plumc [options] COMMAND ...

Port mapping from the command line with PCP (RFC 6887), NAT-PMP (RFC 6886)
and UPnP-IGD, through plum's engine.

commands:
  map tcp|udp INTERNAL [EXTERNAL] [--lifetime S] [--hold]
        Map INTERNAL (on this host) to a port of the gateway's external
        address. EXTERNAL is a hint the router may refuse (default: INTERNAL;
        0: any). Without --hold: one request with the protocol the gateway
        answers first by preference (PCP, NAT-PMP, UPnP), print the result
        and exit, leaving the mapping on the router until its lifetime ends
        (--lifetime, default 7200 s). With --hold: keep the mapping alive
        (renewed at about half its lifetime, re-created after gateway
        restarts), print every change, and remove it
        from the router on SIGINT/SIGTERM.
  unmap tcp|udp INTERNAL [EXTERNAL]
        Delete a mapping made by `plumc map`: PCP lifetime 0 with the same
        nonce, NAT-PMP lifetime 0 for INTERNAL, UPnP DeletePortMapping of
        EXTERNAL (default: INTERNAL).
  probe
        Ask every enabled protocol at once; report which answered, the
        round-trip time, the external address and server epoch, the
        protocol plum would choose, and whether a second NAT (private or
        carrier-grade external address) is in the way. Exit 1 when none
        answered.
  local-address
        Print the local address that routes to the gateway.
  status
        The counters of every running `plumc map --hold` (requests,
        retransmissions, timeouts, renewals, re-creations and results per
        protocol; each mapping's age, renewals and last error). Each holder
        writes them to <dir>/<pid>.status (first line JSON, then text) on
        every change and every 2 s, and removes the file when it exits;
        <dir> is $PLUMC_STATUS_DIR, else /run/plumc for root, else
        $XDG_RUNTIME_DIR/plumc, else /tmp/plumc-<uid>. With --json:
        {"holders":[{"pid":N,"stats":{...}}]}.

options:
  --gateway ADDR        the gateway's IPv4 address (default: the default route's)
  --local ADDR          the local IPv4 address (default: the one that routes to it)
  --protocol P          pcp, natpmp or upnp; repeat or give a comma list
                        (default: all)
  --pcp-port N          the PCP/NAT-PMP server port (default: 5351)
  --announce-port N     where gateway announcements arrive (default: 5350)
  --ssdp ADDR[:PORT]    where to send the SSDP search (default: 239.255.255.250
                        and the gateway, port 1900)
  --timeout MS          the discover and the mapping timeouts (default: 10000)
  --lifetime S          the lifetime asked of the router, one-shot map only
                        (default: 7200)
  --hold                map: keep the mapping until SIGINT/SIGTERM
  -v, -vv, -vvv         log to stderr: info, debug, verbose
  --json                machine-readable output: one JSON object (per line
                        with --hold: each change, then {"stats":{...}} with
                        the counters; probe adds the UPnP device and a
                        "verdict": direct, public, double_nat, cgnat or
                        unknown)
  -h, --help            print this help and exit
  -V, --version         print the version and exit

PCP nonce: one-shot map and unmap use a PCP mapping nonce derived from
(local address, tcp|udp, INTERNAL) instead of a random one, because PCP
servers delete or renew a mapping only for the nonce that created it; so
`plumc unmap` can delete what an earlier `plumc map` made, and a repeated
`plumc map` renews it. Anyone who can compute it (it is not secret) and send
from your address could do the same. `map --hold` uses a random nonce.

exit status: 0 success, 1 runtime failure, 2 usage error.
)";
}

std::chrono::milliseconds effective_timeout(const Options &options) {
	return options.timeout.count() > 0 ? options.timeout : kDefaultTimeout;
}

Config make_config(const Options &options) {
	Config c;
	switch (options.verbosity) {
	case 0: c.log_level = LogLevel::None; break;
	case 1: c.log_level = LogLevel::Info; break;
	case 2: c.log_level = LogLevel::Debug; break;
	default: c.log_level = LogLevel::Verbose; break;
	}
	c.discover_timeout = effective_timeout(options);
	c.mapping_timeout = effective_timeout(options);
	c.gateway_address = options.gateway;
	c.local_address = options.local;
	c.pcp_port = options.pcp_port;
	c.announce_port = options.announce_port;
	c.ssdp_address = options.ssdp_address;
	c.ssdp_port = options.ssdp_port;
	c.protocols = options.protocols ? options.protocols : kUseAll;
	// With --hold the engine asks for this lifetime and renews at about half.
	if (options.lifetime)
		c.lifetime = std::chrono::seconds(*options.lifetime);
	return c;
}

} // namespace plum::plumc
