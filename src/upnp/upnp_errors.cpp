#include "upnp/upnp_errors.hpp"

namespace plum::upnp {

namespace {

class UpnpCategory final : public std::error_category {
public:
	const char *name() const noexcept override { return "UPnP"; }
	std::string message(int ev) const override {
		const char *n = upnp_error_name(ev);
		if (*n != '\0')
			return n;
		return "error " + std::to_string(ev);
	}
};

} // namespace

const char *upnp_error_name(int code) noexcept {
	switch (static_cast<UpnpError>(code)) {
	case UpnpError::InvalidAction: return "InvalidAction";
	case UpnpError::InvalidArgs: return "InvalidArgs";
	case UpnpError::ActionFailed: return "ActionFailed";
	case UpnpError::ArgumentValueInvalid: return "ArgumentValueInvalid";
	case UpnpError::ArgumentValueOutOfRange: return "ArgumentValueOutOfRange";
	case UpnpError::OptionalActionNotImplemented: return "OptionalActionNotImplemented";
	case UpnpError::OutOfMemory: return "OutOfMemory";
	case UpnpError::HumanInterventionRequired: return "HumanInterventionRequired";
	case UpnpError::StringArgumentTooLong: return "StringArgumentTooLong";
	case UpnpError::ActionNotAuthorized: return "ActionNotAuthorized";
	case UpnpError::InactiveConnectionStateRequired: return "InactiveConnectionStateRequired";
	case UpnpError::ConnectionSetupFailed: return "ConnectionSetupFailed";
	case UpnpError::ConnectionSetupInProgress: return "ConnectionSetupInProgress";
	case UpnpError::ConnectionNotConfigured: return "ConnectionNotConfigured";
	case UpnpError::DisconnectInProgress: return "DisconnectInProgress";
	case UpnpError::InvalidLayer2Address: return "InvalidLayer2Address";
	case UpnpError::InternetAccessDisabled: return "InternetAccessDisabled";
	case UpnpError::InvalidConnectionType: return "InvalidConnectionType";
	case UpnpError::ConnectionAlreadyTerminated: return "ConnectionAlreadyTerminated";
	case UpnpError::ArrayIndexInvalid: return "SpecifiedArrayIndexInvalid";
	case UpnpError::NoSuchEntryInArray: return "NoSuchEntryInArray";
	case UpnpError::WildCardNotPermittedInSrcIP: return "WildCardNotPermittedInSrcIP";
	case UpnpError::WildCardNotPermittedInExtPort: return "WildCardNotPermittedInExtPort";
	case UpnpError::ConflictInMappingEntry: return "ConflictInMappingEntry";
	case UpnpError::SamePortValuesRequired: return "SamePortValuesRequired";
	case UpnpError::OnlyPermanentLeasesSupported: return "OnlyPermanentLeasesSupported";
	case UpnpError::RemoteHostOnlySupportsWildcard: return "RemoteHostOnlySupportsWildcard";
	case UpnpError::ExternalPortOnlySupportsWildcard: return "ExternalPortOnlySupportsWildcard";
	case UpnpError::NoPortMapsAvailable: return "NoPortMapsAvailable";
	case UpnpError::ConflictWithOtherMechanisms: return "ConflictWithOtherMechanisms";
	case UpnpError::WildCardNotPermittedInIntPort: return "WildCardNotPermittedInIntPort";
	}
	return "";
}

const std::error_category &upnp_category() noexcept {
	static const UpnpCategory category;
	return category;
}

std::error_code make_error_code(UpnpError e) noexcept {
	return {static_cast<int>(e), upnp_category()};
}

} // namespace plum::upnp
