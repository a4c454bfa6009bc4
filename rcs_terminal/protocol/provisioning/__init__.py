"""RCC.14 provisioning, sans-I/O: the request, the flow and the wap-provisioningdoc.

- :mod:`.request`: who is asking (:class:`DeviceIdentity`, :class:`SimIdentity`) and the
  query and headers of a configuration request.
- :mod:`.flow`: :class:`ProvisioningFlow`, the per-SIM state machine (cookie probe, OTP,
  status codes, retries); :mod:`.versions`: what each ``VERS/version`` does;
  :mod:`.state`: the :class:`StoredState` it persists and its :class:`RetryPolicy`.
- :mod:`.events`: the HTTP exchanges and the actions the flow returns.
- :mod:`.document`: :func:`parse_config` into a :class:`ProvisioningDocument` (generic tree
  with path lookup) and its typed :class:`~.config.RcsConfig` view (:mod:`.config`,
  read by :mod:`.reader`).
- :mod:`.builder`: the server side, :func:`build_config` and friends, for the lab.
"""

from rcs_terminal.protocol.provisioning.builder import (
    build_config,
    build_otp_reply,
    config_tree,
    serialize_document,
)
from rcs_terminal.protocol.provisioning.config import (
    AdditionalServer,
    CapDiscoverySettings,
    ChatbotSettings,
    ChatSettings,
    ClientControlSettings,
    FileTransferSettings,
    ImsSettings,
    MessagingSettings,
    PcscfAddress,
    RcsConfig,
    Services,
    StandaloneMsgSettings,
    TermsMessage,
    UxSettings,
)
from rcs_terminal.protocol.provisioning.document import ProvisioningDocument, parse_config
from rcs_terminal.protocol.provisioning.events import (
    Action,
    Disabled,
    Done,
    Failed,
    HttpRequest,
    HttpResponse,
    Wait,
    WaitForOtp,
    WaitForTerms,
)
from rcs_terminal.protocol.provisioning.flow import ProvisioningFlow
from rcs_terminal.protocol.provisioning.request import (
    DeviceIdentity,
    SimIdentity,
    build_headers,
    build_query,
    default_config_host,
    default_config_urls,
    encode_query,
)
from rcs_terminal.protocol.provisioning.state import Phase, RetryPolicy, StoredState
from rcs_terminal.protocol.provisioning.tree import Characteristic, Parm

__all__ = [
    "Action",
    "AdditionalServer",
    "CapDiscoverySettings",
    "Characteristic",
    "ChatSettings",
    "ChatbotSettings",
    "ClientControlSettings",
    "DeviceIdentity",
    "Disabled",
    "Done",
    "Failed",
    "FileTransferSettings",
    "HttpRequest",
    "HttpResponse",
    "ImsSettings",
    "MessagingSettings",
    "Parm",
    "PcscfAddress",
    "Phase",
    "ProvisioningDocument",
    "ProvisioningFlow",
    "RcsConfig",
    "RetryPolicy",
    "Services",
    "SimIdentity",
    "StandaloneMsgSettings",
    "StoredState",
    "TermsMessage",
    "UxSettings",
    "Wait",
    "WaitForOtp",
    "WaitForTerms",
    "build_config",
    "build_headers",
    "build_otp_reply",
    "build_query",
    "config_tree",
    "default_config_host",
    "default_config_urls",
    "encode_query",
    "parse_config",
    "serialize_document",
]
