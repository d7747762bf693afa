// UPnP control errors as a std::error_category, so that a SOAP fault reads
// "UPnP: ConflictInMappingEntry" in logs and tests instead of a bare 718.
//
// Sources: UPnP Device Architecture 1.1 §3.2.2 (4xx/5xx/6xx generic control
// errors) and WANIPConnection:2 §2.5 (7xx action-specific errors; the
// WANIPConnection:1 and WANPPPConnection:1 tables are subsets of it).
#pragma once

#include <string>
#include <system_error>

namespace plum::upnp {

enum class UpnpError : int {
	// UDA §3.2.2
	InvalidAction = 401,
	InvalidArgs = 402,
	ActionFailed = 501,
	ArgumentValueInvalid = 600,
	ArgumentValueOutOfRange = 601,
	OptionalActionNotImplemented = 602,
	OutOfMemory = 603,
	HumanInterventionRequired = 604,
	StringArgumentTooLong = 605,
	ActionNotAuthorized = 606,
	// WANIPConnection:2 §2.5 / WANPPPConnection:1
	InactiveConnectionStateRequired = 703,
	ConnectionSetupFailed = 704,
	ConnectionSetupInProgress = 705,
	ConnectionNotConfigured = 706,
	DisconnectInProgress = 707,
	InvalidLayer2Address = 708,
	InternetAccessDisabled = 709,
	InvalidConnectionType = 710,
	ConnectionAlreadyTerminated = 711,
	ArrayIndexInvalid = 713, // "SpecifiedArrayIndexInvalid" in the spec
	NoSuchEntryInArray = 714,
	WildCardNotPermittedInSrcIP = 715,
	WildCardNotPermittedInExtPort = 716,
	ConflictInMappingEntry = 718,
	SamePortValuesRequired = 724,
	OnlyPermanentLeasesSupported = 725,
	RemoteHostOnlySupportsWildcard = 726,
	ExternalPortOnlySupportsWildcard = 727,
	NoPortMapsAvailable = 728,
	ConflictWithOtherMechanisms = 729,
	WildCardNotPermittedInIntPort = 732,
};

// name() is "UPnP"; message(718) is "ConflictInMappingEntry"; a code outside
// the tables reads "error <n>" (routers invent their own).
const std::error_category &upnp_category() noexcept;

std::error_code make_error_code(UpnpError e) noexcept;

// The spec's name for a code, or "" when the code is not in the tables.
const char *upnp_error_name(int code) noexcept;

} // namespace plum::upnp

template <> struct std::is_error_code_enum<plum::upnp::UpnpError> : std::true_type {};
